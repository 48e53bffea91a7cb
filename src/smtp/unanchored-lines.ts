import { authContinuationLines } from './auth-mechanism.js';
import { Kind, kindNeedsArgument, kindOfVerb } from './command-kind.js';
import { CommandLine } from './command-line.js';

const CR = 0x0d;
const DOT = 0x2e;
const LF = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const ASTERISK = 0x2a;
/** The kind recorded for a line in the place of an AUTH continuation line: not content. */
const AUTH_CONTINUATION = -1;

/**
 * Client lines read after bytes were lost (a gap, or a capture that joined the connection
 * midstream), held until something shows whether they were commands or message content. Each
 * line is kept as a copy of its bytes as sent, so that the lines can be read again, in order, as if
 * they had just arrived. Bounded: past `maxBytes` the owner settles or drops them (`full`).
 */
export class UnanchoredLines {
  private lines: Buffer[] = [];
  private kinds: number[] = [];
  /** Capture time of the packet that completed each line: its command's time if released. */
  private times: number[] = [];
  private bytes = 0;
  /** Indexes of the lines holding a single ".", the end of a message, in order. */
  private dots: number[] = [];
  /** Bytes were lost after a held line: the lines do not form one unbroken run. */
  lossAmong = false;
  /**
   * Lines still owed to the last held AUTH (auth-mechanism.ts): credentials have no verb, but
   * in that place they are not message content, and must not make the held lines look so.
   */
  private authLinesOwed = 0;
  private readonly command = new CommandLine();

  constructor(private readonly maxBytes: number) {}

  /** Index of the first line holding a single ".", the end of a message, or -1. */
  get firstDot(): number {
    return this.dots.length === 0 ? -1 : this.dots[0];
  }

  /** Index of the last such line, or -1. */
  get lastDot(): number {
    return this.dots.length === 0 ? -1 : this.dots[this.dots.length - 1];
  }

  get count(): number {
    return this.lines.length;
  }

  /** Bytes were lost at this point of the stream. */
  lostBytes(): void {
    if (this.lines.length > 0) this.lossAmong = true;
  }

  /** Past the limit (by at most the last line added, itself capped as a command line). */
  get full(): boolean {
    return this.bytes > this.maxBytes;
  }

  /**
   * Copies the line line[start, rawEnd) as sent, with its CR if it had one: `line` may be the
   * capture's buffer. Its text without the line end is line[start, end); `time` is the capture
   * time of the packet that completed it.
   */
  add(line: Uint8Array, start: number, end: number, rawEnd: number, time: number): void {
    const copy = Buffer.allocUnsafe(rawEnd - start + 1);
    copy.set(line.subarray(start, rawEnd), 0);
    copy[rawEnd - start] = LF;
    if (this.endsData(line, start, end, rawEnd)) {
      this.dots.push(this.lines.length);
      // An AUTH before it was message content: it is owed nothing.
      this.authLinesOwed = 0;
    }
    this.lines.push(copy);
    this.kinds.push(this.kindOf(line, start, end));
    this.times.push(time);
    this.bytes += copy.length;
  }

  /** The line's verb kind, or AUTH_CONTINUATION in the place of an AUTH line. */
  private kindOf(line: Uint8Array, start: number, end: number): number {
    if (this.authLinesOwed > 0) {
      // RFC 4954 section 4: a line of just "*" cancels the exchange.
      const cancelled = end - start === 1 && line[start] === ASTERISK;
      this.authLinesOwed = cancelled ? 0 : this.authLinesOwed - 1;
      return AUTH_CONTINUATION;
    }
    const kind = verbKind(line, start, end);
    if (kind === Kind.AUTH) {
      this.command.parse(line, start, end);
      this.authLinesOwed = authContinuationLines(this.command.argument,
        this.command.hasInitialResponse);
    }
    return kind;
  }

  /** CRLF "." CRLF (RFC 5321 section 4.1.1.4): a bare LF on either side is not an end. */
  private endsData(line: Uint8Array, start: number, end: number, rawEnd: number): boolean {
    if (end - start !== 1 || line[start] !== DOT || rawEnd !== end + 1) return false;
    const previous = this.lines[this.lines.length - 1];
    return previous === undefined || (previous.length >= 2 && previous[previous.length - 2] === CR);
  }

  /**
   * Whether a line from `from` on has no SMTP verb, and is not in the place of an AUTH
   * continuation line: message content, most likely.
   */
  hasLineWithoutVerb(from: number): boolean {
    for (let i = from; i < this.kinds.length; i++) if (this.kinds[i] === Kind.UNKNOWN) return true;
    return false;
  }

  get lastIsQuit(): boolean {
    return this.kinds.length > 0 && this.kinds[this.kinds.length - 1] === Kind.QUIT;
  }

  /**
   * Drops the lines after the last AUTH command (all of them when none is held), for a 334
   * or 235 reply: it answers an AUTH exchange, so those lines were its credentials. Returns
   * how many were dropped.
   */
  dropAfterLastAuth(): number {
    const keep = this.kinds.lastIndexOf(Kind.AUTH) + 1;
    const dropped = this.lines.length - keep;
    for (let i = keep; i < this.lines.length; i++) this.bytes -= this.lines[i].length;
    this.lines.length = keep;
    this.kinds.length = keep;
    this.times.length = keep;
    this.dots = this.dots.filter((index) => index < keep);
    this.authLinesOwed = 0;
    return dropped;
  }

  /** Line `index` as sent, with an LF after it. */
  line(index: number): Buffer {
    return this.lines[index];
  }

  /** The capture time of line `index`. */
  time(index: number): number {
    return this.times[index];
  }

  clear(): void {
    this.lines = [];
    this.kinds = [];
    this.times = [];
    this.bytes = 0;
    this.dots = [];
    this.lossAmong = false;
    this.authLinesOwed = 0;
  }
}

/**
 * The kind of the verb at the start of line[start, end) (no leading blank), or UNKNOWN; also
 * UNKNOWN for a verb that needs an argument standing alone: after lost bytes such a line is
 * more likely a credential of an AUTH exchange the loss hid than a command.
 */
export function verbKind(line: Uint8Array, start: number, end: number): number {
  let verbEnd = start;
  while (verbEnd < end && line[verbEnd] !== SPACE && line[verbEnd] !== TAB) verbEnd++;
  const kind = kindOfVerb(line, start, verbEnd);
  return verbEnd === end && kindNeedsArgument(kind) ? Kind.UNKNOWN : kind;
}
