import { writeSync } from 'node:fs';

/** Lines are gathered up to this many characters per write: one system call per batch. */
export const LINE_BATCH_CHARACTERS = 64 * 1024;
/** How long to wait before writing again to a full non-blocking pipe. */
const FULL_PIPE_WAIT_MS = 1;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Synchronous batched writes of text lines to a file descriptor: a slow reader slows the
 * sensor down rather than letting lines pile up in memory. A full non-blocking pipe (EAGAIN)
 * is retried after a short sleep. EPIPE sets `closed`; any other error is counted with the
 * lines of the batch as lost, so nothing disappears without a number.
 */
export class FdLineWriter {
  closed = false;
  lostLines = 0;
  writeErrors = 0;
  private batch = '';
  private batchLines = 0;

  constructor(public fd: number) {}

  /** Bytes waiting in the batch, as UTF-16 characters (a lower bound of the bytes). */
  get pendingCharacters(): number {
    return this.batch.length;
  }

  add(line: string): void {
    if (this.closed) {
      this.lostLines++;
      return;
    }
    this.batch += line;
    this.batchLines++;
    if (this.batch.length >= LINE_BATCH_CHARACTERS) this.flush();
  }

  /** Writes the batch; returns the number of bytes written. */
  flush(): number {
    if (this.batch === '') return 0;
    const data = Buffer.from(this.batch);
    const lines = this.batchLines;
    this.batch = '';
    this.batchLines = 0;
    let offset = 0;
    while (offset < data.length && !this.closed) {
      const written = this.writeSome(data, offset);
      if (written < 0) {
        this.lostLines += lines;
        return offset;
      }
      offset += written;
    }
    if (this.closed && offset < data.length) this.lostLines += lines;
    return offset;
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
      if (code === 'EPIPE') this.closed = true;
      else this.writeErrors++;
      return -1;
    }
  }
}
