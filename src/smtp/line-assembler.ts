const LF = 0x0a;
const CR = 0x0d;

/**
 * Cuts a byte stream into lines ending in LF (a CR before it is dropped, so CRLF and bare LF
 * both end a line, as common servers accept; RFC 5321 section 2.3.8 asks for CRLF). A line
 * inside one delivered buffer is read in place; only a line split across deliveries is copied
 * into the assembler's own buffer, which never grows past `maxLineBytes`: the rest of a longer
 * line is skipped and `truncated` is set.
 *
 * Limitation: each connection's unfinished line is capped, but there is no budget across
 * connections: 100,000 connections each holding 4 KiB of a line take 400 MB on top of the
 * flows (docs/how-it-works.md, Memory).
 */
export class LineAssembler {
  /** The last completed line is line[lineStart, lineEnd), without its line end. */
  line: Uint8Array = new Uint8Array(0);
  lineStart = 0;
  lineEnd = 0;
  /** End of the line as sent, before its LF: lineEnd, or lineEnd + 1 with the CR dropped. */
  rawEnd = 0;
  truncated = false;
  private partial: Buffer;
  private partialLength = 0;
  private partialTruncated = false;

  constructor(private readonly maxLineBytes: number) {
    this.partial = Buffer.alloc(0);
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
    let lf = pos;
    while (lf < end && buf[lf] !== LF) lf++;
    if (lf === end) {
      this.keep(buf, pos, end);
      return -1;
    }
    if (this.hasPartialLine) {
      this.keep(buf, pos, lf);
      this.finish(this.partial, 0, this.partialLength, this.partialTruncated);
      this.partialLength = 0;
      this.partialTruncated = false;
    } else {
      const lineEnd = Math.min(lf, pos + this.maxLineBytes);
      this.finish(buf, pos, lineEnd, lf - pos > this.maxLineBytes);
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
    const length = Math.min(end - start, room);
    if (end - start > room) this.partialTruncated = true;
    if (length <= 0) return;
    if (this.partial.length < this.partialLength + length) this.grow(this.partialLength + length);
    this.partial.set(buf.subarray(start, start + length), this.partialLength);
    this.partialLength += length;
  }

  private grow(needed: number): void {
    const size = Math.min(this.maxLineBytes, Math.max(needed, this.partial.length * 2, 256));
    const bigger = Buffer.alloc(size);
    this.partial.copy(bigger, 0, 0, this.partialLength);
    this.partial = bigger;
  }
}
