import type { LineBudget } from './line-budget.js';

const EMPTY = Buffer.alloc(0);
/**
 * Every connection may hold this much of a line whatever the budget, so that the verb and the
 * start of a command survive it; buffers up to this size are also kept for the next split
 * line, bigger ones are given back. Only the bytes past it come from the LineBudget.
 */
const SMALL_BUFFER_BYTES = 256;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Cuts a byte stream into lines ending in LF (a CR before it is dropped, so CRLF and bare LF
 * both end a line, as common servers accept; RFC 5321 section 2.3.8 asks for CRLF). A line
 * inside one delivered buffer is read in place; only a line split across deliveries is copied
 * into the assembler's own buffer, which never grows past `maxLineBytes`: the rest of a longer
 * line is skipped and `truncated` is set.
 *
 * The buffer for unfinished lines grows past SMALL_BUFFER_BYTES only with room from a LineBudget
 * shared by all connections: when it is spent, a line that needs more is cut there
 * (`truncated`, and counted). A bigger buffer goes back to the budget once its line is done.
 */
export class LineAssembler {
  /** The last completed line is line[lineStart, lineEnd), without its line end. */
  line: Uint8Array = EMPTY;
  lineStart = 0;
  lineEnd = 0;
  /** End of the line as sent, before its LF: lineEnd, or lineEnd + 1 with the CR dropped. */
  rawEnd = 0;
  truncated = false;
  /** The line was cut because the LineBudget was spent, not for its own length. */
  overBudget = false;
  private partial: Buffer;
  private partialLength = 0;
  private partialTruncated = false;
  private partialOverBudget = false;
  private shrinkNext = false;

  constructor(private readonly maxLineBytes: number, private readonly budget: LineBudget) {
    this.partial = EMPTY;
  }

  /** Gives the line buffer back to the budget: the connection has ended. */
  release(): void {
    this.budget.release(budgeted(this.partial.length));
    this.partial = EMPTY;
    this.discardPartialLine();
  }

  /** True while bytes of an unfinished line are held. */
  get hasPartialLine(): boolean {
    return this.partialLength > 0 || this.partialTruncated;
  }

  /**
   * Reads from buf[pos, end): returns the index after the LF of the line it completed, or -1
   * when it took every byte into an unfinished line.
   */
  push(buf: Uint8Array, pos: number, end: number): number {
    if (this.shrinkNext) this.shrink();
    let lf = pos;
    while (lf < end && buf[lf] !== LF) lf++;
    if (lf === end) {
      this.keep(buf, pos, end);
      return -1;
    }
    if (this.hasPartialLine) {
      this.keep(buf, pos, lf);
      this.finish(this.partial, 0, this.partialLength, this.partialTruncated);
      this.overBudget = this.partialOverBudget;
      this.partialLength = 0;
      this.partialTruncated = false;
      this.partialOverBudget = false;
      // The finished line is read from it until the next push: the buffer is given back then.
      this.shrinkNext = this.partial.length > SMALL_BUFFER_BYTES;
    } else {
      const lineEnd = Math.min(lf, pos + this.maxLineBytes);
      this.finish(buf, pos, lineEnd, lf - pos > this.maxLineBytes);
      this.overBudget = false;
    }
    return lf + 1;
  }

  /** The bytes of the unfinished line (as far as the cap kept them), which it forgets. */
  takePartialLine(): Buffer {
    const bytes = Buffer.from(this.partial.subarray(0, this.partialLength));
    this.discardPartialLine();
    return bytes;
  }

  /** Forgets an unfinished line (a gap cut it). Returns whether there was one. */
  discardPartialLine(): boolean {
    const had = this.hasPartialLine;
    this.partialLength = 0;
    this.partialTruncated = false;
    this.partialOverBudget = false;
    return had;
  }

  private finish(buf: Uint8Array, start: number, end: number, truncated: boolean): void {
    this.line = buf;
    this.lineStart = start;
    this.lineEnd = !truncated && end > start && buf[end - 1] === CR ? end - 1 : end;
    this.rawEnd = end;
    this.truncated = truncated;
  }

  /** Copies: `buf` may be the capture library's buffer, overwritten by the next packet. */
  private keep(buf: Uint8Array, start: number, end: number): void {
    const room = this.maxLineBytes - this.partialLength;
    let length = Math.min(end - start, room);
    if (end - start > room) this.partialTruncated = true;
    if (length <= 0) return;
    const needed = this.partialLength + length;
    if (this.partial.length < needed && !this.grow(needed)) {
      this.budget.refused(needed - this.partial.length);
      length = this.partial.length - this.partialLength;
      this.partialTruncated = true;
      this.partialOverBudget = true;
    }
    if (length <= 0) return;
    this.partial.set(buf.subarray(start, start + length), this.partialLength);
    this.partialLength += length;
  }

  /**
   * A bigger buffer: twice the size (fewer copies) if the budget has room for it, else just
   * what is needed, else as much as SMALL_BUFFER_BYTES allows. False when it is still short.
   */
  private grow(needed: number): boolean {
    const held = budgeted(this.partial.length);
    const doubled = Math.min(this.maxLineBytes,
      Math.max(needed, this.partial.length * 2, SMALL_BUFFER_BYTES));
    let size = this.partial.length;
    for (const candidate of [doubled, needed, SMALL_BUFFER_BYTES]) {
      if (candidate <= size) continue;
      if (this.budget.take(budgeted(candidate) - held)) {
        size = candidate;
        break;
      }
    }
    if (size > this.partial.length) {
      const bigger = Buffer.alloc(size);
      this.partial.copy(bigger, 0, 0, this.partialLength);
      this.partial = bigger;
    }
    return size >= needed;
  }

  private shrink(): void {
    this.shrinkNext = false;
    this.budget.release(budgeted(this.partial.length));
    this.partial = EMPTY;
  }
}

/** The bytes of a line buffer that count against the LineBudget. */
function budgeted(bufferBytes: number): number {
  return Math.max(0, bufferBytes - SMALL_BUFFER_BYTES);
}
