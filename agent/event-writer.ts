import { writeSync } from 'node:fs';
import type { SensorEvent } from '../src/events/sensor-event.js';

/** Lines are gathered up to this many characters per write: one system call per batch. */
const BATCH_CHARACTERS = 64 * 1024;
/** How long to wait before writing again to a full non-blocking pipe. */
const FULL_PIPE_WAIT_MS = 1;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes events as JSON lines to a file descriptor, synchronously, in batches: a slow reader
 * slows the sensor down instead of events piling up in memory. A non-blocking pipe that is
 * full (EAGAIN) is written again after a short sleep. When the reader goes away (EPIPE, as
 * with `| head`), writing stops and `closed` is set.
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
    while (offset < data.length && !this.closed) offset += this.writeSome(data, offset);
  }

  private writeSome(data: Buffer, offset: number): number {
    try {
      return writeSync(this.fd, data, offset);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(sleepCell, 0, 0, FULL_PIPE_WAIT_MS);
        return 0;
      }
      if (code !== 'EPIPE') throw error;
      this.closed = true;
      return 0;
    }
  }
}
