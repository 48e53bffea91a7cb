import { ipAddressBytes, isIpv6Address } from './ip-address.js';
import { IpProtocol, encodeIpv4Packet, encodeIpv6Packet } from './ip-packet.js';
import type { Ipv6ExtensionHeader } from './ip-packet.js';
import type { LinkEncapsulation, PacketDirection } from './link-encapsulation.js';
import type { PcapFrame } from './pcap-writer.js';
import { TcpFlag, encodeTcpSegment } from './tcp-segment.js';

export interface TcpEndpoint {
  address: string;
  port: number;
}

export type ConversationSide = 'client' | 'server';

export interface TcpConversationOptions {
  client: TcpEndpoint;
  server: TcpEndpoint;
  /** Initial sequence numbers; pick values near 2^32 to make the stream wrap around. */
  clientInitialSequence?: number;
  serverInitialSequence?: number;
  startSeconds?: number;
  startMicroseconds?: number;
  /** Time between two consecutive packets; 1000 keeps every packet on a whole millisecond. */
  stepMicroseconds?: number;
  ipv4Options?: Buffer;
  ipv6ExtensionHeaders?: readonly Ipv6ExtensionHeader[];
}

/** A segment as emitted, so that a test can retransmit it later. */
export interface SentSegment {
  side: ConversationSide;
  sequence: number;
  payload: Buffer;
}

export interface SendOptions {
  /** Payload length of each segment in turn; the remainder, if any, goes in one last segment. */
  segmentSizes?: readonly number[];
  /** Cut the data into segments of this length (1 sends byte by byte). */
  segmentSize?: number;
  /** Emission order as indexes into the segments, e.g. [1, 0, 2] sends the second first. */
  order?: readonly number[];
}

interface ConversationPacket {
  seconds: number;
  microseconds: number;
  side: ConversationSide;
  ipPacket: Buffer;
}

interface SideState {
  endpoint: TcpEndpoint;
  addressBytes: Buffer;
  /** Sequence number of the next byte this side sends, modulo 2^32. */
  nextSequence: number;
}

const DEFAULT_START_SECONDS = 1_700_000_000;
const MICROSECONDS_PER_SECOND = 1_000_000;
/** MSS 1460, as most SYNs carry it. */
const SYN_OPTIONS = Buffer.from([2, 4, 0x05, 0xb4]);

/**
 * Builds the packets of one TCP connection in the order they are captured. Sequence and
 * acknowledgment numbers are tracked per side; every packet after the SYN acknowledges all
 * that the peer has sent so far. Each packet takes the current time, then the clock advances
 * by `stepMicroseconds`.
 */
export class TcpConversation {
  private readonly packets: ConversationPacket[] = [];
  private readonly sides: Record<ConversationSide, SideState>;
  private readonly ipVersion: 4 | 6;
  private timeMicroseconds: number;
  private readonly stepMicroseconds: number;

  constructor(private readonly options: TcpConversationOptions) {
    this.ipVersion = isIpv6Address(options.client.address) ? 6 : 4;
    this.sides = {
      client: sideState(options.client, options.clientInitialSequence ?? 1_000_000),
      server: sideState(options.server, options.serverInitialSequence ?? 3_000_000),
    };
    const startSeconds = options.startSeconds ?? DEFAULT_START_SECONDS;
    const startMicroseconds = options.startMicroseconds ?? 0;
    this.timeMicroseconds = startSeconds * MICROSECONDS_PER_SECOND + startMicroseconds;
    this.stepMicroseconds = options.stepMicroseconds ?? 1000;
  }

  /**
   * SYN, SYN-ACK, ACK. The initial sequence numbers are consumed by the SYNs, so data starts
   * at ISN + 1 whether or not the handshake is emitted (a midstream capture simply skips it).
   */
  handshake(): this {
    this.emit('client', TcpFlag.SYN, this.sides.client.nextSequence - 1, Buffer.alloc(0), 0);
    this.emit('server', TcpFlag.SYN | TcpFlag.ACK, this.sides.server.nextSequence - 1);
    this.emit('client', TcpFlag.ACK, this.sides.client.nextSequence);
    return this;
  }

  /** Sends `data` from one side in order-preserving sequence space, emitted as asked. */
  send(side: ConversationSide, data: string | Buffer, options: SendOptions = {}): SentSegment[] {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const segments = cutSegments(bytes, options).map((payload) => {
      const segment = { side, sequence: this.sides[side].nextSequence, payload };
      this.sides[side].nextSequence = (this.sides[side].nextSequence + payload.length) >>> 0;
      return segment;
    });
    const order = options.order ?? segments.map((_, index) => index);
    for (const index of order) this.emitData(segments[index]);
    return segments;
  }

  /**
   * Emits already sent segments again as one segment at the first one's sequence number.
   * Contiguous segments are coalesced, as TCP stacks do; `payload` replaces the bytes, to
   * model a retransmission whose content differs from the original.
   */
  retransmit(segments: readonly SentSegment[], payload?: Buffer): this {
    const first = segments[0];
    const bytes = payload ?? Buffer.concat(segments.map((segment) => segment.payload));
    this.emitData({ side: first.side, sequence: first.sequence, payload: bytes });
    return this;
  }

  fin(side: ConversationSide): this {
    this.emit(side, TcpFlag.FIN | TcpFlag.ACK, this.sides[side].nextSequence);
    this.sides[side].nextSequence = (this.sides[side].nextSequence + 1) >>> 0;
    return this;
  }

  /** FIN from the client, FIN from the server, last ACK from the client. */
  close(): this {
    this.fin('client').fin('server');
    this.emit('client', TcpFlag.ACK, this.sides.client.nextSequence);
    return this;
  }

  reset(side: ConversationSide): this {
    this.emit(side, TcpFlag.RST | TcpFlag.ACK, this.sides[side].nextSequence);
    return this;
  }

  /** Starts a new connection on the same 4-tuple, as after TIME-WAIT, with new ISNs. */
  reopen(clientInitialSequence: number, serverInitialSequence: number): this {
    this.sides.client.nextSequence = (clientInitialSequence + 1) >>> 0;
    this.sides.server.nextSequence = (serverInitialSequence + 1) >>> 0;
    return this;
  }

  pause(microseconds: number): this {
    this.timeMicroseconds += microseconds;
    return this;
  }

  /** Capture time of the next packet, in whole milliseconds since the epoch. */
  nextPacketMilliseconds(): number {
    return Math.floor(this.timeMicroseconds / 1000);
  }

  /** Every packet framed for a capture file; `only` keeps one direction (a one-sided tap). */
  toFrames(encapsulation: LinkEncapsulation, only?: ConversationSide): PcapFrame[] {
    return this.packets
      .filter((packet) => only === undefined || packet.side === only)
      .map((packet) => ({
        seconds: packet.seconds,
        microseconds: packet.microseconds,
        bytes: encapsulation.wrap(packet.ipPacket, this.ipVersion, directionOf(packet.side)),
      }));
  }

  private emitData(segment: SentSegment): void {
    this.emit(segment.side, TcpFlag.PSH | TcpFlag.ACK, segment.sequence, segment.payload);
  }

  private emit(
    side: ConversationSide,
    flags: number,
    sequence: number,
    payload: Buffer = Buffer.alloc(0),
    acknowledgment = this.sides[peerOf(side)].nextSequence,
  ): void {
    const from = this.sides[side];
    const to = this.sides[peerOf(side)];
    const segment = encodeTcpSegment(
      {
        sourcePort: from.endpoint.port,
        destinationPort: to.endpoint.port,
        sequence,
        acknowledgment: flags & TcpFlag.ACK ? acknowledgment : 0,
        flags,
        options: flags & TcpFlag.SYN ? SYN_OPTIONS : undefined,
        payload,
      },
      from.addressBytes,
      to.addressBytes,
    );
    this.packets.push({
      seconds: Math.floor(this.timeMicroseconds / MICROSECONDS_PER_SECOND),
      microseconds: this.timeMicroseconds % MICROSECONDS_PER_SECOND,
      side,
      ipPacket: this.encodeIp(from.addressBytes, to.addressBytes, segment),
    });
    this.timeMicroseconds += this.stepMicroseconds;
  }

  private encodeIp(source: Buffer, destination: Buffer, segment: Buffer): Buffer {
    const common = { source, destination, protocol: IpProtocol.TCP, payload: segment };
    if (this.ipVersion === 4) {
      const identification = this.packets.length & 0xffff;
      return encodeIpv4Packet({ ...common, identification, options: this.options.ipv4Options });
    }
    return encodeIpv6Packet({ ...common, extensionHeaders: this.options.ipv6ExtensionHeaders });
  }
}

function sideState(endpoint: TcpEndpoint, initialSequence: number): SideState {
  return {
    endpoint,
    addressBytes: ipAddressBytes(endpoint.address),
    nextSequence: (initialSequence + 1) >>> 0,
  };
}

function peerOf(side: ConversationSide): ConversationSide {
  return side === 'client' ? 'server' : 'client';
}

function directionOf(side: ConversationSide): PacketDirection {
  return side === 'client' ? 'client-to-server' : 'server-to-client';
}

function cutSegments(bytes: Buffer, options: SendOptions): Buffer[] {
  const sizes = options.segmentSizes ?? [];
  const segments: Buffer[] = [];
  let offset = 0;
  for (const size of sizes) {
    segments.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  const step = options.segmentSize ?? bytes.length - offset;
  while (offset < bytes.length) {
    segments.push(bytes.subarray(offset, offset + Math.max(step, 1)));
    offset += Math.max(step, 1);
  }
  return segments;
}
