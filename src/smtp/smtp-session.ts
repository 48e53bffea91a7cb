import { authContinuationLines } from './auth-mechanism.js';
import { Kind } from './command-kind.js';
import { CommandLine } from './command-line.js';
import { EndOfDataScanner } from './end-of-data-scanner.js';
import { LineAssembler } from './line-assembler.js';
import { LineBudget, MAX_UNFINISHED_LINE_BYTES } from './line-budget.js';
import { notSmtpReason } from './not-smtp-reason.js';
import { PendingCommands } from './pending-commands.js';
import { ReplyReader } from './reply-reader.js';
import type { SmtpRecordSink, TlsStart } from './smtp-record-sink.js';
import type { SmtpStats } from './smtp-stats.js';
import { type SmuggledCommand, SmugglingDetector } from './smuggling-detector.js';
import { TlsTransition } from './tls-transition.js';
import { UnanchoredLines, verbKind } from './unanchored-lines.js';

/** Longest command line kept; the rest of a longer line is skipped (line_too_long). */
export const MAX_COMMAND_LINE_BYTES = 4096;
/** Commands awaiting replies; more than this means replies are lost or never coming. */
export const MAX_PENDING_COMMANDS = 512;
/** Client bytes held while a reply decides what they are (see ClientMode.AwaitingReply). */
export const MAX_HELD_BYTES = 64 * 1024;
/**
 * Client lines held after lost bytes until a reply or an end of message places them (see
 * ClientMode.Unanchored). Commands get replies within a few lines; 64 KiB of lines with no
 * reply are message content.
 */
export const MAX_UNANCHORED_BYTES = 64 * 1024;
/** ambiguous_end_of_data events per message; more are counted, not reported. */
export const MAX_AMBIGUOUS_REPORTS_PER_MESSAGE = 4;
/**
 * A session whose first lines hold no SMTP verb at all is not SMTP (not_smtp). Three lines:
 * a client that mistypes one verb still gets its second and third line reported.
 */
export const MAX_UNKNOWN_LINES_BEFORE_A_VERB = 3;

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
  /**
   * After lost client bytes, or when the capture joined the connection midstream: the lost
   * bytes may have held a DATA and its 354, so what follows may be message content. Lines are
   * held until the conversation places them (docs/how-it-works.md, "Resynchronisation after
   * lost bytes"): a server reply that comes after them shows they were commands, a "." line
   * shows the lines before it were content.
   */
  Unanchored: 5,
  /**
   * After STARTTLS answered 220, until a TLS record starts: lines sent here are plaintext
   * injected into what the server takes as the TLS session (CVE-2011-0411), never commands.
   */
  AfterStartTls: 6,
  /** The client's first TLS bytes, up to the end of its ClientHello. */
  TlsHello: 7,
  /** After the ClientHello: nothing is parsed. */
  Tls: 8,
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
const LF = 0x0a;
const DOT = 0x2e;
/**
 * RFC 5321 4.2.4 500 and 502: the server did not take BDAT as a command, and 501: it could not
 * read its size (a stricter server than the sensor reads); either way it skips no chunk.
 */
const BDAT_NOT_RECOGNISED = [500, 501, 502];

export interface SmtpSessionOptions {
  /** The capture saw the connection open, so the server's first reply is its greeting. */
  sawHandshake: boolean;
  /**
   * Shared by all the sessions of a capture: what their unfinished lines may hold together.
   * A session of its own (tests) gets one of MAX_UNFINISHED_LINE_BYTES.
   */
  lineBudget?: LineBudget;
}

/**
 * The SMTP conversation of one TCP connection, fed both directions' bytes in capture order.
 * Client command lines become records; message content, BDAT chunks and AUTH exchanges never
 * do. State follows the server's replies when the capture has them (Zeek's approach: the
 * reply, not the command, moves the session), and documented assumptions when it does not.
 */
export class SmtpSession {
  private mode: ClientMode = ClientMode.Commands;
  private readonly lines: LineAssembler;
  private readonly replies = new ReplyReader();
  private readonly pending: PendingCommands;
  private readonly command = new CommandLine();
  /** A gap cut the current line: its remainder, up to the next LF, is not a line. */
  private skipToLineEnd = false;
  /**
   * Bytes were lost just before: the next line is kept only if it starts with a verb, since
   * it may be the tail of a line the loss cut (a whole lost segment ends at a line start, so
   * a command right after it still counts).
   */
  private verbRequired = false;
  /** Made at the first loss: most sessions never need it (memory per open connection). */
  private unanchoredLines: UnanchoredLines | null = null;
  /** The message content lost bytes: if the server replies, the end of data was lost. */
  private bodyHadGap = false;
  /**
   * Server bytes were lost since the last reply read: a 354 may be among them, so client
   * lines held meanwhile may be message content even when a reply follows them.
   */
  private repliesLost = false;
  private readonly sawHandshake: boolean;
  /** Client bytes were lost, or never seen, and no line has ended since. */
  private clientMidLine: boolean;
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
  /**
   * After an AUTH the server refused: the lines its mechanism would have sent, which a client
   * that does not wait for the 334 sends anyway. Lines that read as no SMTP verb among them are
   * credentials, and are not reported.
   */
  private rejectedAuthLinesLeft = 0;
  /**
   * Server bytes were lost during the AUTH exchange under way: a lost 334 shifts the count,
   * so client lines held when a reply ends the exchange may be credentials, not commands.
   */
  private authRepliesLost = false;
  /** A BDAT chunk just ended: the next line must be a command, else the size was wrong. */
  private afterChunk = false;
  private lastChunkByte = LF;
  private readonly tls: TlsTransition;
  private readonly smuggling = new SmugglingDetector();
  private ambiguousReports = 0;
  /** Commands hidden after an ambiguous end of data, until replies prove them run or not. */
  private suspects: SmuggledCommand[] | null = null;
  /** The reply to the end of that message came: extra replies now prove the split. */
  private suspectsArmed = false;
  /** not_smtp was reported: UNKNOWN lines are counted, no longer reported. */
  private notSmtp = false;
  private readonly checksNotSmtp: boolean;
  private verbSeen = false;
  private unknownLinesBeforeVerb = 0;

  constructor(
    private readonly sink: SmtpRecordSink,
    private readonly stats: SmtpStats,
    options: SmtpSessionOptions,
  ) {
    this.pending = new PendingCommands(MAX_PENDING_COMMANDS, stats);
    this.lines = new LineAssembler(MAX_COMMAND_LINE_BYTES,
      options.lineBudget ?? new LineBudget(MAX_UNFINISHED_LINE_BYTES, stats));
    // Joined midstream: the greeting, if any, was before the capture began.
    this.greetingSeen = !options.sawHandshake;
    // Joined midstream, the first lines may be the middle of a message body or a chunk.
    this.checksNotSmtp = options.sawHandshake;
    this.sawHandshake = options.sawHandshake;
    this.clientMidLine = !options.sawHandshake;
    this.tls = new TlsTransition(sink, stats);
    if (!options.sawHandshake) this.loseAnchor();
  }

  private get unanchored(): UnanchoredLines {
    this.unanchoredLines ??= new UnanchoredLines(MAX_UNANCHORED_BYTES);
    return this.unanchoredLines;
  }

  /** Client bytes buf[start, end), in stream order. `buf` is not kept. */
  receiveClient(buf: Buffer, start: number, end: number, time: number): void {
    let pos = start;
    if (!this.clientBytesSeen && pos < end) this.checkImplicitTls(buf[pos]);
    while (pos < end) {
      switch (this.mode) {
        case ClientMode.Commands:
        case ClientMode.AuthLine:
        case ClientMode.Unanchored:
          pos = this.readLine(buf, pos, end, time);
          break;
        case ClientMode.AfterStartTls:
          pos = this.readAfterStartTls(buf, pos, end, time);
          break;
        case ClientMode.TlsHello:
          this.readHello(buf, pos, end, time);
          return;
        case ClientMode.AwaitingReply:
          this.hold(buf, pos, end, time);
          return;
        case ClientMode.Body:
          pos = this.skipBody(buf, pos, end, time);
          break;
        case ClientMode.BdatChunk:
          pos = this.skipChunk(buf, pos, end);
          break;
        default:
          return;
      }
    }
  }

  /** Server bytes buf[start, end), in stream order. `buf` is not kept. */
  receiveServer(buf: Uint8Array, start: number, end: number, time: number): void {
    let pos = start;
    // After an accepted STARTTLS the server's bytes are TLS records, not replies.
    while (pos < end && this.mode < ClientMode.AfterStartTls) {
      pos = this.replies.push(buf, pos, end);
      if (pos < 0) return;
      this.onReply(this.replies.code, time);
    }
  }

  /** `length` bytes of one direction were lost. */
  gap(fromClient: boolean, length: number, time: number): void {
    if (!fromClient) {
      if (this.inAuthExchange()) this.authRepliesLost = true;
      if (this.replies.gap() && this.mode < ClientMode.AfterStartTls) {
        this.onReply(this.replies.code, time);
      }
      this.repliesLost = true;
      return;
    }
    this.sink.anomaly('tcp_gap', `client bytes missing: ${length}`, time);
    this.clientMidLine = true;
    const inAuthExchange = this.inAuthExchange();
    this.resolveAllAwaited(time);
    if (inAuthExchange) {
      // How many credential lines the loss took is unknown: what follows is placed by the
      // replies, as after any loss, and a 334 or 235 shows the lines before it were AUTH's.
      if (this.lines.discardPartialLine()) this.stats.partial_lines_dropped++;
      this.reportUncertainAuth('client', time);
      this.loseAnchor();
    } else if (this.mode === ClientMode.TlsHello) {
      this.finishHello(time);
    } else if (this.mode === ClientMode.Body) {
      this.endOfData.lostBytes();
      this.smuggling.lostBytes();
      this.bodyHadGap = true;
    } else if (this.mode === ClientMode.BdatChunk && length < this.chunkRemaining) {
      this.chunkRemaining -= length;
    } else if (this.mode === ClientMode.Commands || this.mode === ClientMode.BdatChunk
      || this.mode === ClientMode.Unanchored) {
      if (this.lines.discardPartialLine()) this.stats.partial_lines_dropped++;
      this.unanchored.lostBytes();
      this.loseAnchor();
    } else if (this.mode !== ClientMode.Tls) {
      // An AUTH line or plaintext after STARTTLS: the rest of the cut line is not a command.
      if (this.lines.discardPartialLine()) this.stats.partial_lines_dropped++;
      this.skipToLineEnd = true;
    }
  }

  /** The connection ended: what was held for a reply that never came is parsed now. */
  end(time: number): void {
    if (this.mode === ClientMode.Unanchored) this.settleWithoutReply(true, time);
    this.resolveAllAwaited(time);
    if (this.mode === ClientMode.AfterStartTls) this.tls.reportInjected(time);
    if (this.mode === ClientMode.TlsHello) this.finishHello(time);
    if (this.lines.discardPartialLine()) this.stats.partial_lines_dropped++;
    this.lines.release();
  }

  private checkImplicitTls(firstByte: number): void {
    this.clientBytesSeen = true;
    // A TLS record starts with its type; 0x16 (handshake) never starts an SMTP line.
    if (firstByte === TLS_HANDSHAKE_RECORD) {
      this.startHello('implicit');
      this.stats.implicit_tls_sessions++;
    }
  }

  private readLine(buf: Buffer, pos: number, end: number, time: number): number {
    const next = this.lines.push(buf, pos, end);
    if (next < 0) return end;
    this.clientMidLine = false;
    if (this.skipToLineEnd) {
      this.skipToLineEnd = false;
      return next;
    }
    const lines = this.lines;
    if (this.mode === ClientMode.Unanchored) {
      this.onUnanchoredLine(lines, time);
    } else if (this.mode === ClientMode.AuthLine) {
      this.onAuthLine(lines.line, lines.lineStart, lines.lineEnd, time);
    } else if (this.mode === ClientMode.AfterStartTls) {
      this.onInjectedLine(lines.line, lines.lineStart, lines.lineEnd);
    } else {
      // A line cut by the shared budget is read as far as it was kept: it is not too long.
      this.onCommandLine(lines.line, lines.lineStart, lines.lineEnd,
        lines.truncated && !lines.overBudget, time);
    }
    return next;
  }

  /** Bytes were lost, or never seen: the client's lines are held until placed. */
  private loseAnchor(): void {
    this.mode = ClientMode.Unanchored;
    this.verbRequired = true;
  }

  private onUnanchoredLine(lines: LineAssembler, time: number): void {
    if (this.verbRequired) {
      this.verbRequired = false;
      // A "." line is kept when replies can tell whether it ended the content: a whole lost
      // segment often ends just before the end of data, but it may be the cut end of a line.
      // Any other "." line is an end of data, since content lines that start with "." have
      // it doubled (RFC 5321 section 4.5.2).
      const start = lines.lineStart;
      const isDot = this.serverHeard && lines.lineEnd - start === 1
        && lines.line[start] === DOT;
      if (!isDot && verbKind(lines.line, start, lines.lineEnd) === Kind.UNKNOWN) {
        this.stats.partial_lines_dropped++;
        return;
      }
    }
    const held = this.unanchored;
    held.add(lines.line, lines.lineStart, lines.lineEnd, lines.rawEnd, time);
    // Without the server's direction (the handshake was seen, and no reply), the "." settles.
    const clientOnly = this.sawHandshake && !this.serverHeard;
    if ((clientOnly && held.firstDot >= 0) || held.full) this.settleWithoutReply(false, time);
  }

  /**
   * A reply while client lines are unplaced (see ClientMode.Unanchored). The lines held were
   * sent before it, so the server read them as commands, except those up to the last "."
   * line, which were message content (servers do not reply inside content, and a command is
   * never a "." line). The lines are dropped instead, counted and reported, when
   * the reply may not be theirs: server bytes were lost too (the lost DATA's 354 may have been
   * among them), client bytes were lost among or after them (the reply may answer those), or
   * a line to be read as a command has no verb (content, after a "." that was the cut end of
   * a content line). With no line held, only a reply that starts a phase places the client:
   * 354 (content follows) and 334 (an AUTH line follows); any other may answer a command lost
   * with the bytes (pipelined MAIL and RCPT whose DATA's 354 is still to come), so lines stay
   * held. Returns true when the reply needs no pairing.
   */
  private anchorByReply(code: number, repliesLost: boolean, time: number): boolean {
    const held = this.unanchored;
    if (held.count > 0 && (code === 334 || code === 235)) {
      // Only an AUTH exchange gets these (RFC 4954 section 4): lines after its AUTH command,
      // or all the lines when the AUTH was lost, were its credentials.
      this.stats.auth_continuation_lines += held.dropAfterLastAuth();
    }
    let released = false;
    if (held.count > 0) {
      const doubt = this.doubtAbout(repliesLost && held.lastDot < 0);
      released = doubt === '';
      if (released) {
        this.pending.clear();
        this.releaseUnanchored(held.lastDot, time);
      } else {
        this.dropUnanchored(doubt, time);
      }
    }
    if (this.mode !== ClientMode.Unanchored && this.mode !== ClientMode.Commands) return false;
    // A 354 that no released DATA awaits was sent before the lines it came after in the
    // capture (the two directions are captured apart): it starts no message now.
    if (code === 354 && !released) {
      this.startBodyAnchored();
    } else if (code === 334) {
      this.mode = ClientMode.AuthLine;
      this.awaitedKind = Kind.AUTH;
      this.authLinesLeft = 1;
    } else {
      return false;
    }
    this.pending.clear();
    return true;
  }

  /** Why the held lines cannot be read as commands, or '' when they can. */
  private doubtAbout(repliesLost: boolean): string {
    const held = this.unanchored;
    if (repliesLost) return 'server bytes were lost with them';
    if (held.lossAmong) return 'client bytes were lost among or after them';
    if (held.hasLineWithoutVerb(held.lastDot + 1)) return 'lines without a verb are content';
    return '';
  }

  /** A 354 with no DATA known: content starts; an unfinished line before it is not part of it. */
  private startBodyAnchored(): void {
    if (this.lines.discardPartialLine()) this.stats.partial_lines_dropped++;
    this.mode = ClientMode.Body;
    this.startBody();
    if (this.clientMidLine) {
      // No line end since the loss: the next bytes may be the tail of a content line, so a
      // "." among them ends the content only after a CRLF (RFC 5321 section 4.1.1.4).
      this.endOfData.lostBytes();
      this.smuggling.lostBytes();
    }
  }

  /**
   * No reply placed the held lines: the "." of a client-only capture, the limit, or the
   * connection's end. The lines up to a "." (the last one when the server's replies are in
   * the capture) were content and the lines after it commands, with the same doubts as for a
   * reply. With no ".", the lines held when the connection ends after a QUIT were commands
   * (content would have ended first). Otherwise they cannot be placed: dropped, counted and
   * reported. A client-only capture cannot tell a DATA that a gap ended just before from a
   * DATA line in the content, so its lines before the "." count as content.
   */
  private settleWithoutReply(atEnd: boolean, time: number): void {
    const held = this.unanchored;
    if (held.count === 0) return;
    const dot = this.serverHeard ? held.lastDot : held.firstDot;
    const doubt = this.doubtAbout(this.repliesLost && dot < 0);
    if (doubt === '' && (dot >= 0 || (atEnd && held.lastIsQuit))) {
      this.releaseUnanchored(dot, time);
    } else if (dot >= 0 || atEnd || held.full) {
      this.dropUnanchored(doubt !== '' ? doubt : atEnd ? 'the connection ended without QUIT'
        : 'no reply came within the limit', time);
    }
  }

  private dropUnanchored(why: string, time: number): void {
    const held = this.unanchored;
    this.stats.unanchored_lines_dropped += held.count;
    this.sink.anomaly('unanchored_lines_dropped', `${held.count} client lines after lost bytes`
      + ` could not be placed as commands or message content: ${why}`, time);
    held.clear();
  }

  /**
   * Reads the held lines as commands, after `contentEnd` (a "." line; -1: none) if any, each at
   * the capture time it arrived, and then the unfinished line sent after them, since a released
   * DATA may make it content.
   */
  private releaseUnanchored(contentEnd: number, time: number): void {
    const held = this.unanchored;
    const released: Array<[Buffer, number]> = [];
    for (let i = contentEnd + 1; i < held.count; i++) released.push([held.line(i), held.time(i)]);
    const partial = this.lines.takePartialLine();
    this.stats.unanchored_content_lines += contentEnd + 1;
    held.clear();
    this.mode = ClientMode.Commands;
    if (contentEnd >= 0) this.pending.push(END_OF_DATA);
    for (const [line, lineTime] of released) this.receiveClient(line, 0, line.length, lineTime);
    this.receiveClient(partial, 0, partial.length, time);
  }

  /** Whether the client is inside an AUTH exchange: its next line may be a credential. */
  private inAuthExchange(): boolean {
    return this.mode === ClientMode.AuthLine
      || (this.mode === ClientMode.AwaitingReply && this.awaitsAuthReply());
  }

  private awaitsAuthReply(): boolean {
    return this.awaitedKind === Kind.AUTH || this.awaitedKind === AUTH_LINE;
  }

  private reportUncertainAuth(side: 'client' | 'server', time: number): void {
    this.authRepliesLost = false;
    this.sink.anomaly('auth_exchange_uncertain', `${side} bytes were lost inside an AUTH `
      + 'exchange: the client lines after it are placed by the replies that follow', time);
  }

  private onCommandLine(
    line: Uint8Array, start: number, end: number, truncated: boolean, time: number,
  ): void {
    const command = this.command;
    if (start === end) {
      this.checkAfterChunk(Kind.UNKNOWN, time);
      // Servers answer an empty line with 500 (RFC 5321 section 4.2.4), so it is paired.
      this.pending.push(Kind.UNKNOWN);
      return;
    }
    command.parse(line, start, end);
    this.checkAfterChunk(command.kind, time);
    this.pending.push(command.kind);
    if (this.isRejectedAuthLine(command.kind, time)) return;
    if (truncated) this.stats.lines_too_long++;
    if (command.kind === Kind.UNKNOWN && this.isNotSmtp(line, start, end, truncated, time)) {
      this.stats.not_smtp_lines++;
      return;
    }
    if (command.kind !== Kind.UNKNOWN) this.verbSeen = true;
    this.report(command, truncated, time);
    this.afterCommand(command, time);
  }

  /**
   * A line of no SMTP verb right after a refused AUTH: the client sent its credentials without
   * waiting for the server's 334 (a script that writes its whole dialogue at once). The server
   * answers it as an unknown command, but it is a credential: counted, never reported. A line
   * with a verb ends this: the client is sending commands.
   */
  private isRejectedAuthLine(kind: number, time: number): boolean {
    if (this.rejectedAuthLinesLeft === 0) return false;
    if (kind !== Kind.UNKNOWN) {
      this.rejectedAuthLinesLeft = 0;
      return false;
    }
    this.rejectedAuthLinesLeft--;
    this.stats.auth_continuation_lines++;
    this.sink.anomaly('auth_lines_after_rejection', 'a client line after a refused AUTH read '
      + 'as no command: taken for a credential, not reported', time);
    return true;
  }

  private report(command: CommandLine, truncated: boolean, time: number): void {
    this.stats.commands++;
    this.sink.command(command.kind, command.verb, command.argument, time);
    if (truncated) {
      this.sink.anomaly('line_too_long',
        `command line longer than ${MAX_COMMAND_LINE_BYTES} bytes`, time);
    }
  }

  /**
   * Whether this UNKNOWN line belongs to a session that is not SMTP (docs/anomalies.md,
   * not_smtp): its first line is an HTTP request line, binary, or longer than any command,
   * or its first MAX_UNKNOWN_LINES_BEFORE_A_VERB lines hold no SMTP verb. Once decided, every
   * UNKNOWN line is counted instead of reported, while SMTP verbs are still reported.
   */
  private isNotSmtp(
    line: Uint8Array, start: number, end: number, truncated: boolean, time: number,
  ): boolean {
    if (this.notSmtp) return true;
    if (!this.checksNotSmtp || this.verbSeen) return false;
    this.unknownLinesBeforeVerb++;
    const reason = this.unknownLinesBeforeVerb === 1
      ? notSmtpReason(line, start, end, truncated)
      : this.unknownLinesBeforeVerb === MAX_UNKNOWN_LINES_BEFORE_A_VERB
        ? `${MAX_UNKNOWN_LINES_BEFORE_A_VERB} lines without an SMTP verb` : '';
    if (reason === '') return false;
    this.reportNotSmtp(reason, time);
    return true;
  }

  private reportNotSmtp(reason: string, time: number): void {
    this.notSmtp = true;
    this.sink.anomaly('not_smtp', reason, time);
  }

  /**
   * RFC 3030 section 2: the line after a chunk is the client's next command. A line that is
   * not one (UNKNOWN or empty) means the chunk was longer than its size said, and the server
   * reads its tail as commands; or shorter, and the size took the start of the next command.
   */
  private checkAfterChunk(kind: number, time: number): void {
    if (!this.afterChunk) return;
    this.afterChunk = false;
    if (kind !== Kind.UNKNOWN) return;
    this.sink.anomaly('bdat_size_mismatch',
      'the line after a BDAT chunk is not a command: the chunk size was wrong', time);
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
        this.startChunk(command, time);
        break;
      default:
        break;
    }
  }

  private startChunk(command: CommandLine, time: number): void {
    if (command.chunkSize < 0) {
      this.sink.anomaly('bdat_size_invalid',
        'BDAT is not followed by SP chunk-size [SP LAST] with a size below 2^53', time);
      return;
    }
    this.suspects = null;
    this.lastChunkByte = LF;
    if (command.chunkSize === 0) return;
    this.chunkRemaining = command.chunkSize;
    this.mode = ClientMode.BdatChunk;
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
    if (this.mode === ClientMode.Body && this.bodyHadGap) {
      // Servers do not answer inside message content: the end of data was in the lost bytes.
      this.loseAnchor();
    }
    const repliesLost = this.repliesLost;
    this.repliesLost = false;
    if (repliesLost && this.inAuthExchange()) this.authRepliesLost = true;
    if (this.mode === ClientMode.Unanchored && this.anchorByReply(code, repliesLost, time)) {
      return;
    }
    if (this.suspectsArmed && this.provesSmuggling(code)) this.reportSmuggled(time);
    if (this.mode === ClientMode.AwaitingReply && this.answersAwaited(code)) {
      this.pending.clear();
      this.resolveAwaited(code, time);
      return;
    }
    const kind = this.pending.shift();
    if (kind < 0) this.stats.unpaired_replies++;
    if (kind === END_OF_DATA && this.suspects !== null) this.suspectsArmed = true;
    if (kind === Kind.BDAT) this.checkBdatRejected(code, time);
  }

  /**
   * After the reply to the end of a message that hid commands behind an ambiguous end: a 354
   * that no DATA of the client awaits, or a success reply with no client command left to
   * answer, is a reply to a hidden command. The server split the message and ran them.
   */
  private provesSmuggling(code: number): boolean {
    const awaitingData = this.mode === ClientMode.AwaitingReply
      && this.awaitedKind === Kind.DATA;
    if (code === 354) return !awaitingData;
    return code < 400 && this.pending.length === 0 && this.mode !== ClientMode.AwaitingReply;
  }

  private reportSmuggled(time: number): void {
    const suspects = this.suspects ?? [];
    this.suspects = null;
    this.suspectsArmed = false;
    this.sink.anomaly('smuggled_commands_executed',
      `the server's replies show it ran ${suspects.length} commands hidden in a message`, time);
    for (const command of suspects) {
      this.stats.commands++;
      this.stats.smuggled_commands++;
      this.sink.command(command.kind, command.verb, command.argument, time);
    }
  }

  /**
   * BDAT answered 500 or 502 while its chunk is still arriving: the server did not take BDAT
   * as a command, so it reads the rest of the chunk as commands, and so does the sensor.
   */
  private checkBdatRejected(code: number, time: number): void {
    const ownChunk = this.mode === ClientMode.BdatChunk && this.pending.length === 0;
    if (!ownChunk || !BDAT_NOT_RECOGNISED.includes(code)) return;
    this.sink.anomaly('bdat_rejected_chunk_as_commands',
      `BDAT answered ${code} before its chunk ended: the rest is read as commands`, time);
    this.mode = ClientMode.Commands;
    this.chunkRemaining = 0;
    this.skipToLineEnd = this.lastChunkByte !== LF;
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

  /**
   * Assumes the usual reply to the awaited command, and to any the bytes held behind it
   * contain (a pipelined DATA after the end of a message), so that no byte stays held.
   */
  private resolveAllAwaited(time: number): void {
    while (this.mode === ClientMode.AwaitingReply) this.resolveAwaited(-1, time);
  }

  /** Settles the awaited reply (`code` -1: assumed) and parses the bytes held meanwhile. */
  private resolveAwaited(code: number, time: number): void {
    this.mode = this.modeAfterReply(this.awaitedKind, code);
    if (this.mode === ClientMode.Body) this.startBody();
    if (this.mode === ClientMode.AfterStartTls) this.stats.starttls_sessions++;
    const held = this.held;
    const authEnded = this.mode === ClientMode.Commands && this.awaitsAuthReply();
    if (authEnded && code >= 0) this.rejectedAuthLinesLeft = this.authLinesLeft;
    if (authEnded && this.authRepliesLost) {
      // A 334 lost with the server's bytes shifts the count: what the client sent before the
      // reply that ended the exchange was its last credentials, and what comes after is
      // placed by the replies that follow, as after any loss.
      this.reportUncertainAuth('server', time);
      for (const chunk of held) this.stats.auth_continuation_lines += countLineEnds(chunk);
      this.held = [];
      this.heldBytes = 0;
      this.loseAnchor();
      return;
    }
    if (held.length === 0) return;
    if (this.awaitedKind === Kind.DATA && this.mode === ClientMode.Commands) {
      this.sink.anomaly('data_rejected_body_as_commands',
        `DATA answered ${code}: ${this.heldBytes} bytes sent after it are commands`, time);
    }
    this.held = [];
    this.heldBytes = 0;
    for (const chunk of held) this.receiveClient(chunk, 0, chunk.length, time);
  }

  private modeAfterReply(kind: number, code: number): ClientMode {
    switch (kind) {
      case Kind.DATA:
        return code === 354 || code < 0 ? ClientMode.Body : ClientMode.Commands;
      case Kind.STARTTLS:
        return code === 220 || code < 0 ? ClientMode.AfterStartTls : ClientMode.Commands;
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

  private startBody(): void {
    this.bodyHadGap = false;
    this.endOfData.reset();
    this.smuggling.reset();
    this.ambiguousReports = 0;
    this.suspects = null;
    this.suspectsArmed = false;
  }

  private skipBody(buf: Buffer, pos: number, end: number, time: number): number {
    const next = this.endOfData.scan(buf, pos, end);
    const contentEnd = next < 0 ? end : next;
    let at = pos;
    while ((at = this.smuggling.scan(buf, at, contentEnd)) >= 0) this.reportAmbiguousEnd(time);
    this.stats.body_bytes += contentEnd - pos;
    if (next < 0) return end;
    this.endBody();
    return next;
  }

  private reportAmbiguousEnd(time: number): void {
    this.stats.ambiguous_ends_of_data++;
    if (this.ambiguousReports === MAX_AMBIGUOUS_REPORTS_PER_MESSAGE) {
      this.stats.ambiguous_ends_of_data_unreported++;
      return;
    }
    this.ambiguousReports++;
    const smuggling = this.smuggling;
    this.sink.anomaly('ambiguous_end_of_data',
      `${smuggling.variant} followed by ${smuggling.verb}`, time);
  }

  private endBody(): void {
    this.mode = ClientMode.Commands;
    this.clientMidLine = false;
    this.pending.push(END_OF_DATA);
    const smuggled = this.smuggling.smuggled;
    this.stats.smuggled_commands_dropped += this.smuggling.smuggledDropped;
    if (smuggled.length > 0) this.suspects = smuggled.slice();
  }

  private skipChunk(buf: Buffer, pos: number, end: number): number {
    const length = Math.min(this.chunkRemaining, end - pos);
    this.chunkRemaining -= length;
    this.stats.bdat_chunk_bytes += length;
    if (length > 0) this.lastChunkByte = buf[pos + length - 1];
    if (this.chunkRemaining === 0) {
      this.mode = ClientMode.Commands;
      this.afterChunk = true;
    }
    return pos + length;
  }

  /** A TLS record at a line start ends the plaintext after STARTTLS. */
  private readAfterStartTls(buf: Buffer, pos: number, end: number, time: number): number {
    if (this.lines.hasPartialLine || buf[pos] !== TLS_HANDSHAKE_RECORD) {
      return this.readLine(buf, pos, end, time);
    }
    this.tls.reportInjected(time);
    this.startHello('starttls');
    return pos;
  }

  private onInjectedLine(line: Uint8Array, start: number, end: number): void {
    if (start === end) return;
    this.command.parse(line, start, end);
    this.tls.injectedLine(this.command.kind, this.command.verb);
  }

  private startHello(start: TlsStart): void {
    this.mode = ClientMode.TlsHello;
    this.tls.startHello(start);
  }

  private readHello(buf: Buffer, pos: number, end: number, time: number): void {
    if (this.tls.pushHello(buf, pos, end)) this.finishHello(time);
  }

  /** One SmtpTlsHandshake per session; a 0x16 first byte without a ClientHello: not_smtp. */
  private finishHello(time: number): void {
    this.mode = ClientMode.Tls;
    if (!this.tls.finishHello(time)) {
      this.reportNotSmtp('first byte 0x16 (TLS handshake) but no ClientHello', time);
    }
  }
}

function countLineEnds(chunk: Buffer): number {
  let lines = 0;
  for (let at = chunk.indexOf(LF); at >= 0; at = chunk.indexOf(LF, at + 1)) lines++;
  return lines;
}
