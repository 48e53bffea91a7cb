import { TcpStream } from './tcp-stream.js';

/**
 * One TCP connection. The client is the side that sent the SYN, or without a SYN the side
 * not on an SMTP port. Addresses are kept as numbers (IPv4) or copied 16-byte buffers (IPv6)
 * for matching packets, and as text for events, made once when the flow is created.
 */
export class TcpFlow<Session> {
  readonly client = new TcpStream();
  readonly server = new TcpStream();
  session: Session | undefined = undefined;
  /** Next flow with the same hash in the flow table's bucket. */
  nextInBucket: TcpFlow<Session> | undefined = undefined;
  /** Set when the flow is found by its exact 4-tuple: its bucket's chain was full. */
  overflowKey: string | undefined = undefined;
  /** Neighbours in the flow table's order of last use. */
  lessRecent: TcpFlow<Session> | undefined = undefined;
  moreRecent: TcpFlow<Session> | undefined = undefined;
  closed = false;
  /** In the reassembler's list of flows holding out-of-order bytes (WaitingFlows). */
  waiting = false;
  olderWaiting: TcpFlow<Session> | undefined = undefined;
  newerWaiting: TcpFlow<Session> | undefined = undefined;
  lastTime: number;

  constructor(
    readonly hash: number,
    readonly ipVersion: 4 | 6,
    readonly clientIp4: number,
    readonly serverIp4: number,
    readonly clientIp6: Buffer | undefined,
    readonly serverIp6: Buffer | undefined,
    readonly clientPort: number,
    readonly serverPort: number,
    readonly clientAddress: string,
    readonly serverAddress: string,
    /** The connection was seen from its SYN; false when capture joined it midstream. */
    readonly sawHandshake: boolean,
    /** Initial sequence number of the client's SYN, to tell a reused 4-tuple apart. */
    readonly clientInitialSequence: number,
    readonly startTime: number,
    /**
     * Sequence number of the packet that opened the flow (its sender's), which tells apart
     * two connections of one 4-tuple opened in the same millisecond.
     */
    readonly firstSequence: number,
    /** The flow was opened by the client's SYN: clientInitialSequence is the client's. */
    readonly openedByClientSyn = false,
  ) {
    this.lastTime = startTime;
  }
}
