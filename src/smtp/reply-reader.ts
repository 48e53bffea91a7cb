const LF = 0x0a;
const NOT_A_CODE = -1;

/**
 * Reads server replies (RFC 5321 section 4.2): lines `NNN-text` continue a reply, `NNN text`
 * or a bare `NNN` ends it. Only the code and the separator are looked at, so nothing is
 * copied: a reply line split across deliveries needs just the few counters kept here.
 */
export class ReplyReader {
  /** Code of the last reply completed by `push`. */
  code = 0;
  private lineLength = 0;
  private lineCode = 0;
  private separator = 0;
  /** After a gap that cut a reply already taken: its rest, up to the next LF, is not a line. */
  private skippingCutLine = false;

  /**
   * Reads from buf[pos, end): the index after the last line of a complete reply, or -1 when
   * every byte was taken without completing one.
   */
  push(buf: Uint8Array, pos: number, end: number): number {
    // The line's counters live in locals while the loop runs: read and written per byte as
    // fields, they cost a third of the loop.
    let lineLength = this.lineLength;
    let lineCode = this.lineCode;
    let i = pos;
    if (this.skippingCutLine) {
      while (i < end && buf[i] !== LF) i++;
      if (i === end) return -1;
      this.skippingCutLine = false;
      i++;
    }
    for (; i < end; i++) {
      const b = buf[i];
      if (b === LF) {
        const code = this.finalCode(lineLength, lineCode);
        lineLength = 0;
        lineCode = 0;
        if (code !== NOT_A_CODE) {
          this.code = code;
          this.lineLength = 0;
          this.lineCode = 0;
          return i + 1;
        }
        continue;
      }
      if (lineLength < 3) {
        lineCode = b >= 0x30 && b <= 0x39 && lineCode >= 0
          ? lineCode * 10 + b - 0x30 : NOT_A_CODE;
      } else if (lineLength === 3) {
        this.separator = b;
      }
      lineLength++;
    }
    this.lineLength = lineLength;
    this.lineCode = lineCode;
    return -1;
  }

  /**
   * A gap cut the current reply line. When its code and a final separator were read before
   * the gap, the reply is known (only its text was lost): returns true and sets `code`, and
   * the rest of the cut line is skipped. Otherwise the unfinished line is forgotten.
   */
  gap(): boolean {
    const known = this.lineLength >= 4 && this.lineCode >= 100 && this.separator === 0x20;
    if (known) this.code = this.lineCode;
    this.lineLength = 0;
    this.lineCode = 0;
    this.skippingCutLine = known;
    return known;
  }

  private finalCode(lineLength: number, lineCode: number): number {
    if (lineCode < 100 || lineLength < 3) return NOT_A_CODE;
    if (lineLength === 3) return lineCode;
    const separator = this.separator;
    if (separator === 0x20 || separator === 0x0d || separator === 0x09) return lineCode;
    return NOT_A_CODE;
  }
}
