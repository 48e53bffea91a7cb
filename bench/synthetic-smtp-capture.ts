import { MessageText } from './message-text.js';
import { PcapFileWriter, TcpFlag } from './pcap-file-writer.js';
import type { TcpEndpoint } from './pcap-file-writer.js';
import {
  COMMANDS_PER_SESSION, END_OF_DATA_LINE, endOfDataSplitsAfterDot, MAXIMUM_SEGMENT_SIZE,
  scriptSmtpSession,
} from './smtp-session-script.js';
import type { ScriptedSegment } from './smtp-session-script.js';

/** Capture time of the first packet: 2024-01-01T00:00:00Z, in microseconds. */
const START_MICROSECONDS = 1_704_067_200_000_000;
/** Capture time between consecutive packets of the file. */
const PACKET_SPACING_MICROSECONDS = 40;
const SERVER: TcpEndpoint = {
  mac: Buffer.from([0x52, 0x54, 0x00, 0x00, 0x00, 0x25]),
  address: ipv4(192, 0, 2, 25),
  port: 25,
};
const CLIENT_MAC = Buffer.from([0x52, 0x54, 0x00, 0x00, 0x00, 0x01]);
const FIRST_EPHEMERAL_PORT = 32768;
const EPHEMERAL_PORTS = 28232;

export interface SyntheticCaptureOptions {
  sessions: number;
  /** Sessions open at once; their packets are interleaved round-robin. */
  concurrentSessions: number;
}

export interface SyntheticCapture {
  sessions: number;
  packets: number;
  bytes: number;
  /** SMTP commands the clients sent: what a correct reader must find. */
  commands: number;
  /** Sessions whose QUIT tshark 4.0 misses (see endOfDataSplitsAfterDot). */
  endOfDataSplitAfterDot: number;
}

interface SessionState {
  client: TcpEndpoint;
  segments: ScriptedSegment[];
  next: number;
  clientSeq: number;
  serverSeq: number;
}

/**
 * Writes a capture of `sessions` complete SMTP sessions on port 25, each from its own client
 * address and port, with `concurrentSessions` of them in flight at any time.
 */
export function writeSyntheticSmtpCapture(
  path: string, options: SyntheticCaptureOptions,
): SyntheticCapture {
  const writer = new PcapFileWriter(path);
  const messages = new MessageText();
  const active: SessionState[] = [];
  let started = 0;
  let endOfDataSplitAfterDot = 0;
  let time = START_MICROSECONDS;
  while (started < options.sessions || active.length > 0) {
    while (active.length < options.concurrentSessions && started < options.sessions) {
      const message = messages.forSession(started);
      if (endOfDataSplitsAfterDot(message.length + END_OF_DATA_LINE.length)) {
        endOfDataSplitAfterDot++;
      }
      active.push(openSession(started, message));
      started++;
    }
    for (let i = 0; i < active.length; i++) {
      if (sendNext(writer, active[i], time)) time += PACKET_SPACING_MICROSECONDS;
      else active.splice(i--, 1);
    }
  }
  writer.close();
  return {
    sessions: options.sessions,
    packets: writer.packets,
    bytes: writer.bytes,
    commands: options.sessions * COMMANDS_PER_SESSION,
    endOfDataSplitAfterDot,
  };
}

function openSession(index: number, message: Buffer): SessionState {
  const client: TcpEndpoint = {
    mac: CLIENT_MAC,
    address: ipv4(10, 1 + (index >>> 16) % 250, (index >>> 8) & 0xff, index & 0xff),
    port: FIRST_EPHEMERAL_PORT + (index * 7) % EPHEMERAL_PORTS,
  };
  const segments: ScriptedSegment[] = [
    { fromClient: true, flags: TcpFlag.SYN, payload: null },
    { fromClient: false, flags: TcpFlag.SYN | TcpFlag.ACK, payload: null },
    { fromClient: true, flags: TcpFlag.ACK, payload: null },
    ...scriptSmtpSession(index, message),
    { fromClient: false, flags: TcpFlag.FIN | TcpFlag.ACK, payload: null },
    { fromClient: true, flags: TcpFlag.FIN | TcpFlag.ACK, payload: null },
    { fromClient: false, flags: TcpFlag.ACK, payload: null },
  ];
  // Initial sequence numbers spread over the whole space, so some sessions wrap around 2^32.
  const clientSeq = (index * 2654435761) >>> 0;
  const serverSeq = (index * 40503 * 65537 + 12345) >>> 0;
  return { client, segments, next: 0, clientSeq, serverSeq };
}

/** Writes the session's next segment; false when it has none left. */
function sendNext(writer: PcapFileWriter, session: SessionState, time: number): boolean {
  const scripted = session.segments[session.next++];
  if (scripted === undefined) return false;
  const length = scripted.payload === null ? 0 : scripted.payload.length;
  const consumed = length + ((scripted.flags & (TcpFlag.SYN | TcpFlag.FIN)) !== 0 ? 1 : 0);
  const isSyn = (scripted.flags & TcpFlag.SYN) !== 0;
  const hasAck = (scripted.flags & TcpFlag.ACK) !== 0;
  const mss = isSyn ? MAXIMUM_SEGMENT_SIZE : 0;
  if (scripted.fromClient) {
    const ack = hasAck ? session.serverSeq : 0;
    writer.writeTcp(time, session.client, SERVER,
      { seq: session.clientSeq, ack, flags: scripted.flags, mss, payload: scripted.payload });
    session.clientSeq = (session.clientSeq + consumed) >>> 0;
  } else {
    writer.writeTcp(time, SERVER, session.client,
      { seq: session.serverSeq, ack: session.clientSeq, flags: scripted.flags, mss,
        payload: scripted.payload });
    session.serverSeq = (session.serverSeq + consumed) >>> 0;
  }
  return true;
}

function ipv4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}
