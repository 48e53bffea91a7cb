import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Reads whole files into one buffer that is reused from read to read. procfs files report a
 * size of 0 and are generated as they are read, so a file is read until end of file, not by its
 * size. Measured on /proc/PID/stat: 11 µs a file this way, 15 µs with readFileSync.
 */
export class ProcFileReader {
  private buffer: Buffer;
  /** The last read stopped at maxBytes: the file may hold more. */
  truncated = false;

  constructor(private readonly maxBytes: number) {
    this.buffer = Buffer.allocUnsafe(Math.min(maxBytes, 4096));
  }

  /**
   * The file's bytes, or undefined when it cannot be read (most often: the process exited). The
   * result is a view of the reader's buffer, valid until the next read; copy what you keep.
   */
  read(path: string): Buffer | undefined {
    let descriptor: number;
    try {
      descriptor = openSync(path, 'r');
    } catch {
      return undefined;
    }
    try {
      return this.readAll(descriptor);
    } catch {
      return undefined;
    } finally {
      closeSync(descriptor);
    }
  }

  private readAll(descriptor: number): Buffer {
    let length = 0;
    this.truncated = false;
    for (;;) {
      if (length === this.buffer.length && !this.grow()) {
        this.truncated = true;
        break;
      }
      const count = readSync(descriptor, this.buffer, length, this.buffer.length - length, null);
      if (count === 0) break;
      length += count;
    }
    return this.buffer.subarray(0, length);
  }

  private grow(): boolean {
    if (this.buffer.length >= this.maxBytes) return false;
    const larger = Buffer.allocUnsafe(Math.min(this.maxBytes, this.buffer.length * 2));
    this.buffer.copy(larger);
    this.buffer = larger;
    return true;
  }
}
