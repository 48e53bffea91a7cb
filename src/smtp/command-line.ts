import { Kind, kindOfVerb, tableVerb } from './command-kind.js';
import { printableText } from './printable-text.js';

/** CommandArg1 is capped at this many bytes of its text (DESIGN: event schema). */
export const MAX_ARGUMENT_BYTES = 1024;
/** SmtpVerb is kept as sent, within the same cap as CommandArg1. */
export const MAX_VERB_BYTES = 1024;
/** RFC 3030 chunk sizes above this cannot be counted exactly in a JavaScript number. */
const MAX_CHUNK_SIZE = Number.MAX_SAFE_INTEGER;
const SPACE = 0x20;
const TAB = 0x09;

/**
 * One client command line, parsed from bytes without its line end. An instance is reused:
 * `parse` overwrites every field.
 */
export class CommandLine {
  kind: number = Kind.UNKNOWN;
  verb = '';
  /** CommandArg1: for AUTH the mechanism only, never what follows it. */
  argument = '';
  /** AUTH: an initial response follows the mechanism (RFC 4954 section 4). */
  hasInitialResponse = false;
  /** BDAT: the chunk size, or -1 when the line is not `BDAT SP size [SP LAST]`. */
  chunkSize = -1;
  isLastChunk = false;

  parse(buf: Uint8Array, start: number, end: number): void {
    const verbStart = skipBlanks(buf, start, end);
    const verbEnd = skipToken(buf, verbStart, end);
    this.kind = kindOfVerb(buf, verbStart, verbEnd);
    this.verb = tableVerb(buf, verbStart, verbEnd, this.kind)
      ?? printableText(buf, verbStart, verbEnd, MAX_VERB_BYTES);
    const argumentStart = skipBlanks(buf, verbEnd, end);
    let argumentEnd = skipToken(buf, argumentStart, end);
    if (takesPathArgument(this.kind) && endsWithColon(buf, argumentStart, argumentEnd)) {
      argumentEnd = this.joinPath(buf, argumentStart, argumentEnd, end);
    } else {
      this.argument = printableText(buf, argumentStart, argumentEnd, MAX_ARGUMENT_BYTES);
    }
    this.hasInitialResponse = this.kind === Kind.AUTH
      && skipBlanks(buf, argumentEnd, end) < end;
    this.parseChunk(buf, verbEnd, end);
  }

  /** `MAIL FROM: <a@b>` gives `FROM:<a@b>`: keyword and path are one argument. */
  private joinPath(buf: Uint8Array, keywordStart: number, keywordEnd: number, end: number) {
    const pathStart = skipBlanks(buf, keywordEnd, end);
    const pathEnd = skipToken(buf, pathStart, end);
    const keyword = printableText(buf, keywordStart, keywordEnd, MAX_ARGUMENT_BYTES);
    const room = MAX_ARGUMENT_BYTES - Buffer.byteLength(keyword);
    const path = printableText(buf, pathStart, pathEnd, room);
    this.argument = keyword + path;
    return pathEnd;
  }

  /**
   * RFC 3030 section 2: bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CR LF, read as
   * servers read it: Postfix 3.7 takes the chunk after `BDAT<TAB>n`, `BDAT  n`, `BDAT n ` and
   * `BDAT n<TAB>LAST` (checked here against a real Postfix), so blanks of any run separate
   * the words, and a sensor that skipped nothing there would read message content as commands.
   */
  private parseChunk(buf: Uint8Array, verbEnd: number, end: number): void {
    this.chunkSize = -1;
    this.isLastChunk = false;
    if (this.kind !== Kind.BDAT) return;
    const digitsStart = skipBlanks(buf, verbEnd, end);
    if (digitsStart === verbEnd) return;
    let i = digitsStart;
    let size = 0;
    while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39 && size <= MAX_CHUNK_SIZE) {
      size = size * 10 + (buf[i] - 0x30);
      i++;
    }
    if (i === digitsStart || size > MAX_CHUNK_SIZE) return;
    const markerStart = skipBlanks(buf, i, end);
    if (markerStart < end) {
      const markerEnd = skipToken(buf, markerStart, end);
      if (markerStart === i || !isLastMarker(buf, markerStart, markerEnd)
        || skipBlanks(buf, markerEnd, end) !== end) return;
      this.isLastChunk = true;
    }
    this.chunkSize = size;
  }
}

function takesPathArgument(kind: number): boolean {
  return kind === Kind.MAIL || kind === Kind.RCPT || kind === Kind.SEND
    || kind === Kind.SOML || kind === Kind.SAML;
}

function endsWithColon(buf: Uint8Array, start: number, end: number): boolean {
  return end > start && buf[end - 1] === 0x3a;
}

/** `LAST` at buf[i, end), case-insensitive. */
function isLastMarker(buf: Uint8Array, i: number, end: number): boolean {
  return end - i === 4 && (buf[i] & 0xdf) === 0x4c && (buf[i + 1] & 0xdf) === 0x41
    && (buf[i + 2] & 0xdf) === 0x53 && (buf[i + 3] & 0xdf) === 0x54;
}

function skipBlanks(buf: Uint8Array, i: number, end: number): number {
  while (i < end && (buf[i] === SPACE || buf[i] === TAB)) i++;
  return i;
}

function skipToken(buf: Uint8Array, i: number, end: number): number {
  while (i < end && buf[i] !== SPACE && buf[i] !== TAB) i++;
  return i;
}
