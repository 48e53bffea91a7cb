import { writeSync } from 'node:fs';
import type { SensorEvent } from '../src/events/sensor-event.js';

/** Lines are gathered up to this many characters per write: one system call per batch. */
const BATCH_CHARACTERS = 64 * 1024;

/**
 * Writes events as JSON lines to a file descriptor, synchronously, in batches. When the
 * reader goes away (EPIPE, as with `| head`), writing stops and `closed` is set.
 */
export class EventWriter {
  written = 0;
  closed = false;
  private batch = '';

  constructor(private readonly fd: number) {}

  write(event: SensorEvent): void {
    if (this.closed) return;
    this.batch += JSON.stringify(event) + '\n';
    this.written++;
    if (this.batch.length >= BATCH_CHARACTERS) this.flush();
  }

  flush(): void {
    if (this.batch === '' || this.closed) return;
    const data = Buffer.from(this.batch);
    this.batch = '';
    let offset = 0;
    try {
      while (offset < data.length) offset += writeSync(this.fd, data, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
      this.closed = true;
    }
  }
}
