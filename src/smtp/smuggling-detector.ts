import { Kind } from './command-kind.js';
import { CommandLine } from './command-line.js';

/** A smuggled line is kept up to this many bytes (the argument cap plus a verb). */
export const MAX_SMUGGLED_LINE_BYTES = 1100;
/** Commands kept per message after an ambiguous end; more are counted as dropped. */
export const MAX_SMUGGLED_COMMANDS = 16;

/** A command line found after an ambiguous end of data, kept until the server's replies. */
export interface SmuggledCommand {
  readonly kind: number;
  readonly verb: string;
  readonly argument: string;
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const LF_DOT = Buffer.from('\n.', 'latin1');
const CR_DOT = Buffer.from('\r.', 'latin1');
/** Below this many bytes the byte loop is cheaper than making a view to search in. */
const SEARCH_THRESHOLD = 64;
const BREAK_TEXT = ['', '<CR>', '<LF>', '<CR><LF>'];
const Break = { Cr: 1, Lf: 2, CrLf: 3 } as const;
const State = { Idle: 0, AfterDot: 1, AfterDotCr: 2, Verb: 3, Collect: 4 } as const;
const EMPTY_LINE = new Uint8Array(0);
/** Verbs that make a message split: a new transaction (CVE-2023-51764, -51765, -51766). */
const SMUGGLING_VERBS = ['MAIL', 'RCPT', 'DATA'].map((verb) => Buffer.from(verb, 'latin1'));

/**
 * Finds, inside message content, a line of a single dot whose line breaks are not both CRLF
 * (`<LF>.<LF>`, `<LF>.<CR><LF>`, `<CR>.<CR>`, `<CR><LF>.<CR>` and the like) followed by MAIL,
 * RCPT or DATA. RFC 5321 section 4.1.1.4 ends content only at CRLF.CRLF, but servers that
 * accept a bare CR or LF there end the message early and run what follows as commands: SMTP
 * smuggling. The command lines after such an end (split at CR or LF, as such a server would)
 * are kept, up to the first DATA or AUTH, so that they can be reported if the server's replies show
 * that it ran them. Bytes are read in place; only those kept lines are copied.
 */
export class SmugglingDetector {
  /** Variant of the last finding, such as `<LF>.<CR><LF>`, and the verb after it. */
  variant = '';
  verb = '';
  readonly smuggled: SmuggledCommand[] = [];
  smuggledDropped = 0;
  private state: number = State.Idle;
  private previous = LF;
  private beforePrevious = CR;
  private prefix = 0;
  private suffix = 0;
  /** Made at the first ambiguous dot line: most sessions never see one (memory per session). */
  private line = EMPTY_LINE;
  private lineLength = 0;
  private justFound = false;
  private readonly command = new CommandLine();

  /** Content begins after the DATA line's CRLF. */
  reset(): void {
    this.state = State.Idle;
    this.previous = LF;
    this.beforePrevious = CR;
    this.smuggled.length = 0;
    this.smuggledDropped = 0;
  }

  /** Bytes were lost: whatever comes next is taken as the middle of a line. */
  lostBytes(): void {
    this.state = State.Idle;
    this.previous = 0;
    this.beforePrevious = 0;
  }

  /** Reads buf[pos, end): the index just after a finding, or -1 when there was none. */
  scan(buf: Uint8Array, pos: number, end: number): number {
    let i = pos;
    let found = false;
    while (i < end && !found) {
      if (this.state === State.Idle) {
        i = this.findLineStartDot(buf, pos, i, end);
        continue;
      }
      if (this.step(buf[i])) i++;
      found = this.justFound;
      this.justFound = false;
    }
    this.remember(buf, pos, i);
    return found ? i : -1;
  }

  /** Index after the next dot that starts a line (state AfterDot), or `end`. */
  private findLineStartDot(buf: Uint8Array, pos: number, i: number, end: number): number {
    let dot = -1;
    if (buf[i] === DOT && isBreak(this.byteBefore(buf, pos, i, 1))) dot = i;
    else if (end - i < SEARCH_THRESHOLD) dot = byteLoopFind(buf, i, end);
    else dot = searchFind(buf, i, end);
    if (dot < 0) return end;
    const before = this.byteBefore(buf, pos, dot, 1);
    this.prefix = before === CR ? Break.Cr
      : this.byteBefore(buf, pos, dot, 2) === CR ? Break.CrLf : Break.Lf;
    this.state = State.AfterDot;
    return dot + 1;
  }

  /** One byte after a line-start dot; false when the byte must be read again. */
  private step(b: number): boolean {
    switch (this.state) {
      case State.AfterDot:
        if (b === CR) this.state = State.AfterDotCr;
        else if (b === LF) this.startVerb(Break.Lf);
        else this.state = State.Idle;
        return true;
      case State.AfterDotCr:
        if (b === LF) {
          this.startVerb(Break.CrLf);
          return true;
        }
        this.startVerb(Break.Cr);
        return false;
      case State.Verb:
        this.verbByte(b);
        return true;
      default:
        this.collectByte(b);
        return true;
    }
  }

  private startVerb(suffix: number): void {
    this.suffix = suffix;
    this.lineLength = 0;
    // CRLF.CRLF is the real end: the content never holds it.
    this.state = this.prefix === Break.CrLf && suffix === Break.CrLf ? State.Idle : State.Verb;
    if (this.state === State.Verb && this.line === EMPTY_LINE) {
      this.line = new Uint8Array(MAX_SMUGGLED_LINE_BYTES);
    }
  }

  private verbByte(b: number): void {
    if (b === CR || b === LF) {
      this.state = State.Idle;
      return;
    }
    this.line[this.lineLength++] = b;
    if (this.lineLength < 4) return;
    const upper = this.line.subarray(0, 4).map((c) => c & 0xdf);
    if (!SMUGGLING_VERBS.some((verb) => verb.equals(upper))) {
      this.state = State.Idle;
      return;
    }
    this.variant = `${BREAK_TEXT[this.prefix]}.${BREAK_TEXT[this.suffix]}`;
    this.verb = Buffer.from(this.line.subarray(0, 4)).toString('latin1');
    this.state = State.Collect;
    this.justFound = true;
  }

  /** Smuggled lines end at CR or LF, as on the servers that split the message. */
  private collectByte(b: number): void {
    if (b !== CR && b !== LF) {
      if (this.lineLength < MAX_SMUGGLED_LINE_BYTES) this.line[this.lineLength++] = b;
      return;
    }
    if (this.lineLength === 0) return;
    const command = this.command;
    command.parse(this.line, 0, this.lineLength);
    this.lineLength = 0;
    if (command.kind === Kind.UNKNOWN) {
      this.state = State.Idle;
      return;
    }
    if (this.smuggled.length < MAX_SMUGGLED_COMMANDS) {
      this.smuggled.push({ kind: command.kind, verb: command.verb, argument: command.argument });
    } else {
      this.smuggledDropped++;
    }
    // After DATA comes content; after AUTH, credential lines that may read as commands.
    if (command.kind === Kind.DATA || command.kind === Kind.AUTH) this.state = State.Idle;
  }

  /** buf[at - back], reaching into the bytes of earlier calls before `pos`. */
  private byteBefore(buf: Uint8Array, pos: number, at: number, back: number): number {
    const index = at - back;
    if (index >= pos) return buf[index];
    return index === pos - 1 ? this.previous : this.beforePrevious;
  }

  private remember(buf: Uint8Array, pos: number, i: number): void {
    const last = this.byteBefore(buf, pos, i, 1);
    this.beforePrevious = this.byteBefore(buf, pos, i, 2);
    this.previous = last;
  }
}

function isBreak(b: number): boolean {
  return b === CR || b === LF;
}

function byteLoopFind(buf: Uint8Array, i: number, end: number): number {
  for (let k = i + 1; k < end; k++) if (buf[k] === DOT && isBreak(buf[k - 1])) return k;
  return -1;
}

/**
 * The first dot after a CR or LF in buf[i, end), by native search. The view ends at `end`:
 * the capture library's buffer holds stale bytes of earlier packets after it.
 */
function searchFind(buf: Uint8Array, i: number, end: number): number {
  const view = Buffer.from(buf.buffer, buf.byteOffset + i, end - i);
  const afterLf = view.indexOf(LF_DOT);
  const afterCr = view.indexOf(CR_DOT);
  const first = afterLf < 0 ? afterCr : afterCr < 0 ? afterLf : Math.min(afterLf, afterCr);
  return first < 0 ? -1 : i + first + 1;
}
