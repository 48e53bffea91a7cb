import * as crypto from 'node:crypto';
import type { ProcessInfo } from '../proc/process-info.js';
import type { ConnectionJson } from './event-json.js';
import type { HostIdentity } from './host-identity.js';

/** What a connection contributes to each of its events, worked out once per connection. */
export interface ConnectionEndpoints {
  readonly ipVersion: 4 | 6;
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly serverAddress: string;
  readonly serverPort: number;
  /** Capture time in ms of the connection's first packet. */
  readonly startTime: number;
  /**
   * TCP sequence number of the connection's first packet, when known: two connections of one
   * 4-tuple can start in the same millisecond (a new SYN right after a close), never with the
   * same initial sequence number.
   */
  readonly firstSequence?: number;
  /** The sequence number of the client's SYN, when the capture saw the connection from it. */
  readonly clientInitialSequence?: number;
}

/**
 * Per-connection part of the events: session id, addresses, direction and process. Event ids
 * are the session id and a counter, so replaying a capture twice gives the same ids and a
 * downstream store can drop the copies.
 */
export class ConnectionContext {
  /** The ports and the direction as their events write them, made once per connection. */
  readonly clientPortText: string;
  readonly serverPortText: string;
  readonly directionText: string;
  /** Kept by EventBuilder: this connection's fields as JSON text, for `process` as it was. */
  json: ConnectionJson | undefined;
  private eventCount = 0;
  private session: string | undefined;

  constructor(
    readonly endpoints: ConnectionEndpoints,
    /** 0: a local client sent the commands (outbound); 1: a remote client did (inbound). */
    readonly direction: 0 | 1,
    /** Set later for inbound connections: the server process is known once it has spoken. */
    public process: ProcessInfo,
    private readonly host: HostIdentity,
  ) {
    const e = endpoints;
    this.clientPortText = String(e.clientPort);
    this.serverPortText = String(e.serverPort);
    this.directionText = String(direction);
  }

  /**
   * The first 128 bits of SHA-256 of the host id and the connection's endpoints, start time
   * and first sequence number, in hexadecimal. Made at the first event: a connection that
   * never has one (a SYN of a scan) costs no hash.
   */
  get sessionId(): string {
    const e = this.endpoints;
    const sequence = e.firstSequence === undefined ? '' : `|${e.firstSequence}`;
    this.session ??= sha256Hex128(`${this.host.aid}|${e.clientAddress}|${e.clientPort}|`
      + `${e.serverAddress}|${e.serverPort}|${e.startTime}${sequence}`);
    return this.session;
  }

  /** Events numbered so far: the next event's number is one more. */
  get eventsMade(): number {
    return this.eventCount;
  }

  /** Numbers the next event (1 for the first) without making its id. */
  numberEvent(): number {
    this.eventCount++;
    return this.eventCount;
  }

  nextEventId(): string {
    return `${this.sessionId}-${this.numberEvent()}`;
  }
}

/**
 * The first 16 bytes of SHA-256, in hexadecimal: a string of its own, where slicing the whole
 * digest's text would keep all 64 characters alive for each connection. crypto.hash (Node.js
 * 20.12 and later) does it in one call, without the Hash object that createHash makes: per
 * connection, that object was 2% of a replay.
 */
const sha256Hex128: (text: string) => string = typeof crypto.hash === 'function'
  ? (text) => crypto.hash('sha256', text, 'buffer').toString('hex', 0, 16)
  : (text) => crypto.createHash('sha256').update(text).digest().toString('hex', 0, 16);
