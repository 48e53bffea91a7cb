import { ProcFileReader } from './proc-file-reader.js';

/** "0.52 0.58 0.59 2/187 48153\n": under 128 bytes. */
const MAX_LOADAVG_BYTES = 128;
const SPACE = 0x20;
const DIGIT_ZERO = 0x30;
const DIGIT_NINE = 0x39;

/** Pids to read one by one, first to last; empty when first > last. */
export interface PidRange {
  readonly first: number;
  readonly last: number;
}

/**
 * Which pids the kernel allocated since a given moment, from the pid it allocated last: the
 * fifth field of /proc/loadavg (fs/proc/loadavg.c, the pid allocation cursor of the reader's pid
 * namespace, less one). Processes and threads both take pids, in increasing order up to
 * pid_max, then from the bottom again. One read costs 6 µs; listing a proc root of 2,000
 * processes costs 1 ms.
 */
export class PidAllocations {
  private readonly reader = new ProcFileReader(MAX_LOADAVG_BYTES);
  /** Pids up to this one are accounted for; undefined when unknown. */
  private seenUpTo: number | undefined;

  constructor(private readonly procRoot: string) {}

  /** Every pid allocated so far counts as seen: called before a listing of the proc root. */
  markAllSeen(): void {
    this.seenUpTo = this.readLastPid();
  }

  /**
   * The pids allocated since the last call (or markAllSeen), which then count as seen unless
   * readUpTo says otherwise. Undefined when they cannot be told apart from older ones: no
   * counter (a folder laid out like /proc), no earlier reading, the counter wrapped at pid_max,
   * or more than `maxPids` were allocated. The proc root must then be listed.
   */
  takeNew(maxPids: number): PidRange | undefined {
    const after = this.seenUpTo;
    const last = this.readLastPid();
    this.seenUpTo = last;
    if (after === undefined || last === undefined || last < after || last - after > maxPids) {
      return undefined;
    }
    return { first: after + 1, last };
  }

  /** Only the pids up to `pid` of the last range were read: the next range starts after it. */
  readUpTo(pid: number): void {
    this.seenUpTo = pid;
  }

  private readLastPid(): number | undefined {
    const text = this.reader.read(`${this.procRoot}/loadavg`);
    if (text === undefined) return undefined;
    let end = text.length;
    while (end > 0 && !isDigit(text[end - 1])) end--;
    let start = end;
    while (start > 0 && isDigit(text[start - 1])) start--;
    if (start === end || start === 0 || text[start - 1] !== SPACE) return undefined;
    return Number(text.toString('latin1', start, end));
  }
}

function isDigit(byte: number): boolean {
  return byte >= DIGIT_ZERO && byte <= DIGIT_NINE;
}
