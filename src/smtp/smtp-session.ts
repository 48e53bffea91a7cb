import { authContinuationLines } from './auth-mechanism.js';
import { Kind } from './command-kind.js';
import { CommandLine } from './command-line.js';
import { EndOfDataScanner } from './end-of-data-scanner.js';
import { LineAssembler } from './line-assembler.js';
import { PendingCommands } from './pending-commands.js';
import { ReplyReader } from './reply-reader.js';
import type { SmtpRecordSink } from './smtp-record-sink.js';
import type { SmtpStats } from './smtp-stats.js';

/** Longest command line kept; the rest of a longer line is skipped (line_too_long). */
export const MAX_COMMAND_LINE_BYTES = 4096;
/** Commands awaiting replies; more than this means replies are lost or never coming. */
export const MAX_PENDING_COMMANDS = 512;
/** Client bytes held while a reply decides what they are (see ClientMode.AwaitingReply). */
export const MAX_HELD_BYTES = 64 * 1024;

/** What the client's next bytes are. Named after the command and reply that lead there. */
const ClientMode = {
  /** Command lines. */
  Commands: 0,
  /**
   * After DATA, STARTTLS, AUTH or an AUTH line, with the server's replies in the capture:
   * the next bytes mean different things depending on the reply, so they are held.
   */
  AwaitingReply: 1,
  /** After AUTH answered 334: the next line is a credential, never a command. */
  AuthLine: 2,
  /** After DATA answered 354: message content up to CRLF.CRLF (RFC 5321 section 4.1.1.4). */
  Body: 3,
  /** After a valid BDAT: exactly chunk-size bytes of content (RFC 3030 section 2). */
  BdatChunk: 4,
  /** After STARTTLS answered 220, or a client that spoke TLS first: nothing is parsed. */
  Tls: 5,
} as const;
type ClientMode = (typeof ClientMode)[keyof typeof ClientMode];

/** Pending-reply entries for lines that are not commands but still get a reply. */
const END_OF_DATA = 100;
const AUTH_LINE = 101;

/** Success replies that only the awaited command gets (RFC 5321 4.3.2, 3207, 4954). */
const EXCLUSIVE_REPLIES: ReadonlyMap<number, readonly number[]> = new Map([
  [Kind.DATA, [354]],
  [Kind.STARTTLS, [220]],
  [Kind.AUTH, [334, 235]],
  [AUTH_LINE, [334, 235]],
]);

const TLS_HANDSHAKE_RECORD = 0x16;

export interface SmtpSessionOptions {
  /** The capture saw the connection open, so the server's first reply is its greeting. */
  sawHandshake: boolean;
}

/**
 * The SMTP conversation of one TCP connection, fed both directions' bytes in capture order.
 * Client command lines become records; message content, BDAT chunks and AUTH exchanges never
 * do. State follows the server's replies when the capture has them (Zeek's approach: the
 * reply, not the command, moves the session), and documented assumptions when it does not.
 */
export class SmtpSession {
  private mode: ClientMode = ClientMode.Commands;
  private readonly lines = new LineAssembler(MAX_COMMAND_LINE_BYTES);
  private readonly replies = new ReplyReader();
  private readonly pending = new PendingCommands(MAX_PENDING_COMMANDS);
  private readonly command = new CommandLine();
  /** A gap cut the current line: its remainder, up to the next LF, is not a line. */
  private skipToLineEnd = false;
  private serverHeard = false;
  private greetingSeen: boolean;
  private clientBytesSeen = false;
  private awaitedKind = 0;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private readonly endOfData = new EndOfDataScanner();
  private chunkRemaining = 0;
  /** AUTH lines still expected when the server's replies are not in the capture. */
  private authLinesLeft = 0;

  constructor(
    private readonly sink: SmtpRecordSink,
    private readonly stats: SmtpStats,
    options: SmtpSessionOptions,
  ) {
    // Joined midstream: the greeting, if any, was before the capture began.
    this.greetingSeen = !options.sawHandshake;
  }

  /** Client bytes buf[start, end), in stream order. `buf` is not kept. */
  receiveClient(buf: Buffer, start: number, end: number, time: number): void {
    let pos = start;
    if (!this.clientBytesSeen && pos < end) this.checkImplicitTls(buf[pos]);
    while (pos < end) {
      switch (this.mode) {
        case ClientMode.Commands:
        case ClientMode.AuthLine:
          pos = this.readLine(buf, pos, end, time);
          break;
        case ClientMode.AwaitingReply:
          this.hold(buf, pos, end, time);
          return;
        case ClientMode.Body:
          pos = this.skipBody(buf, pos, end);
          break;
        case ClientMode.BdatChunk:
          pos = this.skipChunk(pos, end);
          break;
        default:
          return;
      }
    }
  }

  /** Server bytes buf[start, end), in stream order. `buf` is not kept. */
  receiveServer(buf: Uint8Array, start: number, end: number, time: number): void {
    let pos = start;
    while (pos < end && this.mode !== ClientMode.Tls) {
      pos = this.replies.push(buf, pos, end);
      if (pos < 0) return;
      this.onReply(this.replies.code, time);
    }
  }

  /** `length` bytes of one direction were lost. */
  gap(fromClient: boolean, length: number, time: number): void {
    if (!fromClient) {
      this.replies.reset();
      return;
    }
    this.sink.anomaly('tcp_gap', `client bytes missing: ${length}`, time);
    if (this.mode === ClientMode.AwaitingReply) this.resolveAwaited(-1, time);
    if (this.mode === ClientMode.Body) {
      this.endOfData.lostBytes();
    } else if (this.mode === ClientMode.BdatChunk && length < this.chunkRemaining) {
      this.chunkRemaining -= length;
    } else if (this.mode !== ClientMode.Tls) {
      if (this.mode === ClientMode.BdatChunk) this.mode = ClientMode.Commands;
      if (this.lines.discardPartialLine()) this.stats.partial_lines_dropped++;
      this.skipToLineEnd = true;
    }
  }

  /** The connection ended: what was held for a reply that never came is parsed now. */
  end(time: number): void {
    if (this.mode === ClientMode.AwaitingReply) this.resolveAwaited(-1, time);
    if (this.lines.discardPartialLine()) this.stats.partial_lines_dropped++;
  }

  private checkImplicitTls(firstByte: number): void {
    this.clientBytesSeen = true;
    // A TLS record starts with its type; 0x16 (handshake) never starts an SMTP line.
    if (firstByte === TLS_HANDSHAKE_RECORD) {
      this.mode = ClientMode.Tls;
      this.stats.implicit_tls_sessions++;
    }
  }

  private readLine(buf: Buffer, pos: number, end: number, time: number): number {
    const next = this.lines.push(buf, pos, end);
    if (next < 0) return end;
    if (this.skipToLineEnd) {
      this.skipToLineEnd = false;
      return next;
    }
    const lines = this.lines;
    if (this.mode === ClientMode.AuthLine) {
      this.onAuthLine(lines.line, lines.lineStart, lines.lineEnd, time);
    } else {
      this.onCommandLine(lines.line, lines.lineStart, lines.lineEnd, lines.truncated, time);
    }
    return next;
  }

  private onCommandLine(
    line: Uint8Array, start: number, end: number, truncated: boolean, time: number,
  ): void {
    if (start === end) {
      // Servers answer an empty line with 500 (RFC 5321 section 4.2.4), so it is paired.
      this.pending.push(Kind.UNKNOWN);
      return;
    }
    const command = this.command;
    command.parse(line, start, end);
    this.stats.commands++;
    this.sink.command(command.kind, command.verb, command.argument, time);
    if (truncated) {
      this.stats.lines_too_long++;
      this.sink.anomaly('line_too_long',
        `command line longer than ${MAX_COMMAND_LINE_BYTES} bytes`, time);
    }
    this.pending.push(command.kind);
    this.afterCommand(command, time);
  }

  private afterCommand(command: CommandLine, time: number): void {
    switch (command.kind) {
      case Kind.DATA:
      case Kind.STARTTLS:
        this.awaitReply(command.kind, time);
        break;
      case Kind.AUTH:
        this.authLinesLeft = authContinuationLines(command.argument,
          command.hasInitialResponse);
        this.awaitReply(Kind.AUTH, time);
        break;
      case Kind.BDAT:
        if (command.chunkSize > 0) {
          this.chunkRemaining = command.chunkSize;
          this.mode = ClientMode.BdatChunk;
        }
        break;
      default:
        break;
    }
  }

  private onAuthLine(line: Uint8Array, start: number, end: number, time: number): void {
    this.stats.auth_continuation_lines++;
    this.pending.push(AUTH_LINE);
    this.authLinesLeft--;
    // RFC 4954 section 4: a line of just "*" cancels the exchange.
    const cancelled = end - start === 1 && line[start] === 0x2a;
    if (cancelled) this.authLinesLeft = 0;
    this.awaitReply(AUTH_LINE, time);
  }

  /**
   * After a command whose reply decides what the next client bytes are. Without the server
   * in the capture the usual reply is assumed at once.
   */
  private awaitReply(kind: number, time: number): void {
    this.awaitedKind = kind;
    this.mode = ClientMode.AwaitingReply;
    if (!this.serverHeard) this.resolveAwaited(-1, time);
  }

  private onReply(code: number, time: number): void {
    this.serverHeard = true;
    if (!this.greetingSeen) {
      this.greetingSeen = true;
      return;
    }
    if (this.mode === ClientMode.AwaitingReply && this.answersAwaited(code)) {
      this.pending.clear();
      this.resolveAwaited(code, time);
      return;
    }
    if (this.pending.shift() < 0) this.stats.unpaired_replies++;
  }

  /**
   * Whether a reply answers the command whose reply is awaited. Replies come in command order
   * (RFC 2920), so normally it is the one that empties the queue; but servers that break a
   * multi-line reply, or a greeting without a line end, shift the count. The codes only one
   * command can get (354 for DATA, 334 and 235 for AUTH, 220 for STARTTLS) settle it whatever
   * the count, and a code the awaited command cannot get (250 to DATA) never does, so a
   * miscount never turns a message body or an AUTH credential line into commands.
   */
  private answersAwaited(code: number): boolean {
    const exclusive = EXCLUSIVE_REPLIES.get(this.awaitedKind);
    if (exclusive !== undefined && exclusive.includes(code)) return true;
    return this.pending.length <= 1 && code >= 400;
  }

  /** Settles the awaited reply (`code` -1: assumed) and parses the bytes held meanwhile. */
  private resolveAwaited(code: number, time: number): void {
    this.mode = this.modeAfterReply(this.awaitedKind, code);
    if (this.mode === ClientMode.Body) this.endOfData.reset();
    if (this.mode === ClientMode.Tls) this.stats.starttls_sessions++;
    const held = this.held;
    if (held.length === 0) return;
    this.held = [];
    this.heldBytes = 0;
    for (const chunk of held) this.receiveClient(chunk, 0, chunk.length, time);
  }

  private modeAfterReply(kind: number, code: number): ClientMode {
    switch (kind) {
      case Kind.DATA:
        return code === 354 || code < 0 ? ClientMode.Body : ClientMode.Commands;
      case Kind.STARTTLS:
        return code === 220 || code < 0 ? ClientMode.Tls : ClientMode.Commands;
      default:
        if (code < 0) return this.authLinesLeft > 0 ? ClientMode.AuthLine : ClientMode.Commands;
        return code === 334 ? ClientMode.AuthLine : ClientMode.Commands;
    }
  }

  private hold(buf: Buffer, start: number, end: number, time: number): void {
    if (this.heldBytes + end - start > MAX_HELD_BYTES) {
      this.stats.reply_wait_overflows++;
      this.sink.anomaly('reply_wait_overflow',
        `over ${MAX_HELD_BYTES} client bytes sent before the reply to a command`, time);
      this.resolveAwaited(-1, time);
      this.receiveClient(buf, start, end, time);
      return;
    }
    // Copied: `buf` may be the capture library's buffer, overwritten by the next packet.
    this.held.push(Buffer.from(buf.subarray(start, end)));
    this.heldBytes += end - start;
  }

  private skipBody(buf: Buffer, pos: number, end: number): number {
    const next = this.endOfData.scan(buf, pos, end);
    if (next < 0) {
      this.stats.body_bytes += end - pos;
      return end;
    }
    this.stats.body_bytes += next - pos;
    this.endBody();
    return next;
  }

  private endBody(): void {
    this.mode = ClientMode.Commands;
    this.pending.push(END_OF_DATA);
  }

  private skipChunk(pos: number, end: number): number {
    const length = Math.min(this.chunkRemaining, end - pos);
    this.chunkRemaining -= length;
    this.stats.bdat_chunk_bytes += length;
    if (this.chunkRemaining === 0) this.mode = ClientMode.Commands;
    return pos + length;
  }
}
