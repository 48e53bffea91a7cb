import { writeSync } from 'node:fs';
import { encodeEventJson, eventJson } from '../src/events/event-json.js';
import type { ConnectionContext } from '../src/events/connection-context.js';
import type { EventBuilder } from '../src/events/event-builder.js';
import type { SensorEvent } from '../src/events/sensor-event.js';

/** Lines are gathered up to this many bytes per write: one system call per batch. */
const BATCH_BYTES = 64 * 1024;
const NEWLINE = 0x0a;
/** How long to wait before writing again to a full non-blocking pipe. */
const FULL_PIPE_WAIT_MS = 1;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes events as JSON lines to a file descriptor, synchronously, in batches: a slow reader
 * slows the sensor down instead of events piling up in memory. A non-blocking pipe that is
 * full (EAGAIN) is written again after a short sleep. When the reader goes away (EPIPE, as
 * with `| head`), writing stops and `closed` is set.
 *
 * Each line is encoded straight into one reused buffer (encodeEventJson): gathering the lines
 * in a string and encoding it per batch cost a third more than JSON.stringify itself
 * (measured on 240,000 events, bench/replay-bench.ts).
 */
export class EventWriter {
  /** Lines the output took. */
  written = 0;
  closed = false;
  /**
   * Why writing stopped when the output failed other than by its reader going away (a full
   * disk: ENOSPC); the lines after it are dropped, counted in `dropped`.
   */
  failure: string | undefined = undefined;
  dropped = 0;
  private readonly batch = Buffer.allocUnsafe(BATCH_BYTES);
  private used = 0;
  /** Lines in the batch. */
  private lines = 0;

  constructor(private readonly fd: number) {}

  write(event: SensorEvent): void {
    if (this.isClosed()) return;
    // The last byte of the batch is kept for the line end.
    let end = encodeEventJson(event, this.batch, this.used, BATCH_BYTES - 1);
    if (end < 0) {
      this.flush();
      if (this.isClosed()) return;
      end = encodeEventJson(event, this.batch, 0, BATCH_BYTES - 1);
      if (end < 0) {
        this.writeLines(Buffer.from(`${eventJson(event)}\n`), 1);
        return;
      }
    }
    this.batch[end] = NEWLINE;
    this.used = end + 1;
    this.lines++;
  }

  /**
   * Writes the command event builder.command would make, without making it unless its line
   * is longer than a batch: the same bytes as write(builder.command(...)).
   */
  writeCommand(builder: EventBuilder, connection: ConnectionContext, kind: number, verb: string,
    argument: string, time: number): void {
    if (this.isClosed()) return;
    let end = builder.encodeCommand(connection, kind, verb, argument, time, this.batch,
      this.used, BATCH_BYTES - 1);
    if (end < 0) {
      this.flush();
      if (this.isClosed()) return;
      end = builder.encodeCommand(connection, kind, verb, argument, time, this.batch, 0,
        BATCH_BYTES - 1);
      if (end < 0) {
        this.write(builder.command(connection, kind, verb, argument, time));
        return;
      }
    }
    this.batch[end] = NEWLINE;
    this.used = end + 1;
    this.lines++;
  }

  /** Closed: a line now is not written, and counted in `dropped` if the output failed. */
  private isClosed(): boolean {
    if (this.closed && this.failure !== undefined) this.dropped++;
    return this.closed;
  }

  flush(): void {
    if (this.used === 0 || this.closed) return;
    const used = this.used;
    const lines = this.lines;
    this.used = 0;
    this.lines = 0;
    this.writeLines(this.batch.subarray(0, used), lines);
  }

  /** Writes `lines` whole lines; they count as written only if all their bytes were. */
  private writeLines(data: Buffer, lines: number): void {
    let offset = 0;
    while (offset < data.length && !this.closed) offset += this.writeSome(data, offset);
    if (offset === data.length) this.written += lines;
    else if (this.failure !== undefined) this.dropped += lines;
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
      this.closed = true;
      if (code !== 'EPIPE') this.failure = code ?? String(error);
      return 0;
    }
  }
}
