import { closeSync, fstatSync, openSync, renameSync, rmSync } from 'node:fs';
import { SinkError } from '../sink-error.js';
import { FdLineWriter } from './fd-line-writer.js';
import type { LocalSink } from './local-sink.js';

export interface FileSinkOptions {
  path: string;
  /** The file is rotated before it would grow past this size. */
  maxBytes: number;
  /** Rotated files kept beside it: `path.1` (newest) to `path.N`; older ones are deleted. */
  keep: number;
}

/**
 * JSON lines appended to a file that log shippers tail (Filebeat, Fluent Bit, Vector, the
 * Splunk forwarder all follow a file renamed away and read the new one). Rotation renames
 * `path` to `path.1` after shifting the older ones, and opens a new `path`.
 */
export class FileSink implements LocalSink {
  private readonly writer: FdLineWriter;
  private size: number;
  private written = 0;
  private rotations = 0;

  constructor(private readonly options: FileSinkOptions) {
    const fd = openOutput(options.path);
    this.writer = new FdLineWriter(fd);
    this.size = fstatSync(fd).size;
  }

  write(line: string): void {
    const bytes = Buffer.byteLength(line);
    if (this.size + this.writer.pendingCharacters + bytes > this.options.maxBytes) {
      this.flush();
      if (this.size > 0) this.rotateOrCount();
    }
    this.writer.add(line);
    this.written++;
  }

  flush(): void {
    this.size += this.writer.flush();
  }

  reopen(): void {
    this.flush();
    closeSync(this.writer.fd);
    this.writer.fd = openOutput(this.options.path);
    this.size = fstatSync(this.writer.fd).size;
  }

  close(): void {
    this.flush();
    closeSync(this.writer.fd);
  }

  stats() {
    return { written: this.written - this.writer.lostLines, lost: this.writer.lostLines,
      write_errors: this.writer.writeErrors, rotations: this.rotations };
  }

  /** A rotation that fails (a rename refused) leaves the sink writing to what is open. */
  private rotateOrCount(): void {
    try {
      this.rotate();
    } catch {
      this.writer.writeErrors++;
      if (this.writer.closed) return;
      try {
        fstatSync(this.writer.fd);
      } catch {
        this.writer.closed = true;
      }
    }
  }

  private rotate(): void {
    const { path, keep } = this.options;
    closeSync(this.writer.fd);
    rmSync(`${path}.${keep}`, { force: true });
    for (let index = keep - 1; index >= 1; index--) renameIfPresent(`${path}.${index}`,
      `${path}.${index + 1}`);
    if (keep > 0) renameIfPresent(path, `${path}.1`);
    else rmSync(path, { force: true });
    this.writer.fd = openOutput(path);
    this.size = 0;
    this.rotations++;
  }
}

function openOutput(path: string): number {
  try {
    return openSync(path, 'a', 0o640);
  } catch (error) {
    throw new SinkError('sink_output_failed', `cannot open ${path}: ${(error as Error).message}`,
      { cause: error });
  }
}

function renameIfPresent(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
