import { FdLineWriter } from './fd-line-writer.js';
import type { LocalSink } from './local-sink.js';

/** JSON lines on standard output; under systemd, journald keeps them. */
export class StdoutSink implements LocalSink {
  private written = 0;
  private readonly writer: FdLineWriter;

  constructor(fd = 1) {
    this.writer = new FdLineWriter(fd);
  }

  /** Standard output went away (EPIPE): nothing written here can be read any more. */
  get closed(): boolean {
    return this.writer.closed;
  }

  write(line: string): void {
    this.writer.add(line);
    this.written++;
  }

  flush(): void {
    this.writer.flush();
  }

  reopen(): void {
    this.writer.flush();
  }

  close(): void {
    this.writer.flush();
  }

  stats() {
    return { written: this.written - this.writer.lostLines, lost: this.writer.lostLines,
      write_errors: this.writer.writeErrors, rotations: 0 };
  }
}
