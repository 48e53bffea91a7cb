import ipaddr from 'ipaddr.js';
import type { DecodedSegment } from './decoded-segment.js';
import { TcpFlow } from './tcp-flow.js';

/**
 * Flows that share a hash are chained in their bucket up to this many; more are found by
 * their exact 4-tuple. The hash is not keyed, so whoever sends the packets can choose
 * 4-tuples that all hash alike (an IPv6 /64 is enough): with unbounded chains, 100,000 such
 * SYNs took 388 s to replay against 1 s for ordinary ones.
 */
const MAX_CHAIN_LENGTH = 8;

/**
 * Flows by connection 4-tuple. The key is a 32-bit hash that is the same in both directions,
 * computed from the packet's bytes in place, with flows of equal hash chained in a bucket:
 * looking a packet up allocates nothing. Past MAX_CHAIN_LENGTH a bucket's further flows go to
 * a map keyed by their 4-tuple as text (only those flows' packets make that text). Flows are
 * also kept in their order of last use, so that a full table gives up the one idle longest:
 * a SYN flood evicts its own SYNs before a session that is sending.
 */
export class FlowTable<Session> {
  private readonly buckets = new Map<number, TcpFlow<Session>>();
  private readonly overflow = new Map<string, TcpFlow<Session>>();
  /** Per hash, how many of its flows are in `overflow`. */
  private readonly overflowCounts = new Map<number, number>();
  private leastRecent: TcpFlow<Session> | undefined = undefined;
  private mostRecent: TcpFlow<Session> | undefined = undefined;
  private flowCount = 0;
  /** Set by `find`: whether the segment was sent by the flow's client. */
  fromClient = false;

  get size(): number {
    return this.flowCount;
  }

  /** The segment's flow, now its most recently used; undefined when there is none. */
  find(segment: DecodedSegment): TcpFlow<Session> | undefined {
    const hash = hashOf(segment);
    let flow = this.buckets.get(hash);
    while (flow !== undefined) {
      if (flow.ipVersion === segment.ipVersion) {
        if (matches(flow, segment, true)) return this.found(flow, true);
        if (matches(flow, segment, false)) return this.found(flow, false);
      }
      flow = flow.nextInBucket;
    }
    if (!this.overflowCounts.has(hash)) return undefined;
    flow = this.overflow.get(segmentKey(segment, true));
    if (flow !== undefined) return this.found(flow, true);
    flow = this.overflow.get(segmentKey(segment, false));
    return flow === undefined ? undefined : this.found(flow, false);
  }

  /**
   * A new flow for the segment's connection, its client being the sender when
   * `senderIsClient`. The caller has checked that `find` returns nothing for it.
   */
  create(
    segment: DecodedSegment, senderIsClient: boolean, sawHandshake: boolean, time: number,
  ): TcpFlow<Session> {
    const hash = hashOf(segment);
    const sender = endpointOf(segment, segment.sourceAddressOffset, segment.sourceIp4);
    const receiver = endpointOf(segment, segment.destinationAddressOffset,
      segment.destinationIp4);
    const [client, server] = senderIsClient ? [sender, receiver] : [receiver, sender];
    const clientPort = senderIsClient ? segment.sourcePort : segment.destinationPort;
    const serverPort = senderIsClient ? segment.destinationPort : segment.sourcePort;
    const flow = new TcpFlow<Session>(
      hash, segment.ipVersion === 4 ? 4 : 6, client.ip4, server.ip4, client.ip6, server.ip6,
      clientPort, serverPort, client.text, server.text, sawHandshake,
      sawHandshake ? segment.sequence : 0, time, segment.sequence,
      sawHandshake && senderIsClient,
    );
    const head = this.buckets.get(hash);
    if (chainLength(head) < MAX_CHAIN_LENGTH) {
      flow.nextInBucket = head;
      this.buckets.set(hash, flow);
    } else {
      flow.overflowKey = segmentKey(segment, senderIsClient);
      this.overflow.set(flow.overflowKey, flow);
      this.overflowCounts.set(hash, (this.overflowCounts.get(hash) ?? 0) + 1);
    }
    this.append(flow);
    this.flowCount++;
    return flow;
  }

  remove(flow: TcpFlow<Session>): void {
    if (flow.overflowKey !== undefined) {
      if (!this.overflow.delete(flow.overflowKey)) return;
      const left = this.overflowCounts.get(flow.hash)! - 1;
      if (left === 0) this.overflowCounts.delete(flow.hash);
      else this.overflowCounts.set(flow.hash, left);
    } else if (!this.unchain(flow)) {
      return;
    }
    this.unlink(flow);
    this.flowCount--;
  }

  /** The flow used least recently. */
  oldest(): TcpFlow<Session> | undefined {
    return this.leastRecent;
  }

  /** Every flow, in bucket order; the callback may remove the flow it is given. */
  forEach(callback: (flow: TcpFlow<Session>) => void): void {
    const all: TcpFlow<Session>[] = [];
    for (const head of this.buckets.values()) {
      for (let flow: TcpFlow<Session> | undefined = head; flow; flow = flow.nextInBucket) {
        all.push(flow);
      }
    }
    for (const flow of this.overflow.values()) all.push(flow);
    for (const flow of all) callback(flow);
  }

  private found(flow: TcpFlow<Session>, fromClient: boolean): TcpFlow<Session> {
    this.fromClient = fromClient;
    if (flow !== this.mostRecent) {
      this.unlink(flow);
      this.append(flow);
    }
    return flow;
  }

  /** Takes the flow out of its bucket's chain; false when it is not there. */
  private unchain(flow: TcpFlow<Session>): boolean {
    const head = this.buckets.get(flow.hash);
    if (head === flow) {
      if (flow.nextInBucket === undefined) this.buckets.delete(flow.hash);
      else this.buckets.set(flow.hash, flow.nextInBucket);
    } else {
      let previous = head;
      while (previous !== undefined && previous.nextInBucket !== flow) {
        previous = previous.nextInBucket;
      }
      if (previous === undefined) return false;
      previous.nextInBucket = flow.nextInBucket;
    }
    flow.nextInBucket = undefined;
    return true;
  }

  private append(flow: TcpFlow<Session>): void {
    flow.lessRecent = this.mostRecent;
    flow.moreRecent = undefined;
    if (this.mostRecent === undefined) this.leastRecent = flow;
    else this.mostRecent.moreRecent = flow;
    this.mostRecent = flow;
  }

  private unlink(flow: TcpFlow<Session>): void {
    if (flow.lessRecent === undefined) this.leastRecent = flow.moreRecent;
    else flow.lessRecent.moreRecent = flow.moreRecent;
    if (flow.moreRecent === undefined) this.mostRecent = flow.lessRecent;
    else flow.moreRecent.lessRecent = flow.lessRecent;
    flow.lessRecent = undefined;
    flow.moreRecent = undefined;
  }
}

function chainLength<Session>(head: TcpFlow<Session> | undefined): number {
  let length = 0;
  for (let flow = head; flow !== undefined; flow = flow.nextInBucket) length++;
  return length;
}

/**
 * The 4-tuple as text, client first: the key of a flow whose bucket is full. The addresses
 * are read from the packet in place.
 */
function segmentKey(segment: DecodedSegment, senderIsClient: boolean): string {
  const buf = segment.buf;
  const source = segment.ipVersion === 4 ? String(segment.sourceIp4)
    : buf.toString('hex', segment.sourceAddressOffset, segment.sourceAddressOffset + 16);
  const destination = segment.ipVersion === 4 ? String(segment.destinationIp4)
    : buf.toString('hex', segment.destinationAddressOffset,
      segment.destinationAddressOffset + 16);
  const from = `${source}|${segment.sourcePort}`;
  const to = `${destination}|${segment.destinationPort}`;
  const version = segment.ipVersion;
  return senderIsClient ? `${version}|${from}|${to}` : `${version}|${to}|${from}`;
}

interface Endpoint {
  ip4: number;
  ip6: Buffer | undefined;
  text: string;
}

/** Copies the address out of the capture buffer, which is reused for the next packet. */
function endpointOf(segment: DecodedSegment, offset: number, ip4: number): Endpoint {
  if (segment.ipVersion === 4) {
    const text = `${ip4 >>> 24}.${(ip4 >>> 16) & 255}.${(ip4 >>> 8) & 255}.${ip4 & 255}`;
    return { ip4, ip6: undefined, text };
  }
  const ip6 = Buffer.from(segment.buf.subarray(offset, offset + 16));
  return { ip4: 0, ip6, text: ipaddr.fromByteArray([...ip6]).toString() };
}

function matches<Session>(
  flow: TcpFlow<Session>, segment: DecodedSegment, senderIsClient: boolean,
): boolean {
  const clientPort = senderIsClient ? segment.sourcePort : segment.destinationPort;
  const serverPort = senderIsClient ? segment.destinationPort : segment.sourcePort;
  if (flow.clientPort !== clientPort || flow.serverPort !== serverPort) return false;
  if (flow.ipVersion === 4) {
    const clientIp = senderIsClient ? segment.sourceIp4 : segment.destinationIp4;
    const serverIp = senderIsClient ? segment.destinationIp4 : segment.sourceIp4;
    return flow.clientIp4 === clientIp && flow.serverIp4 === serverIp;
  }
  const clientOffset = senderIsClient ? segment.sourceAddressOffset
    : segment.destinationAddressOffset;
  const serverOffset = senderIsClient ? segment.destinationAddressOffset
    : segment.sourceAddressOffset;
  return sameIp6(flow.clientIp6!, segment.buf, clientOffset)
    && sameIp6(flow.serverIp6!, segment.buf, serverOffset);
}

function sameIp6(address: Buffer, buf: Buffer, offset: number): boolean {
  for (let i = 0; i < 16; i++) if (address[i] !== buf[offset + i]) return false;
  return true;
}

/**
 * Symmetric: the sum of the two endpoints' hashes is the same whichever side sent. Exported
 * for tests that make segments collide.
 */
export function hashOf(segment: DecodedSegment): number {
  const source = segment.ipVersion === 4 ? segment.sourceIp4
    : foldIp6(segment.buf, segment.sourceAddressOffset);
  const destination = segment.ipVersion === 4 ? segment.destinationIp4
    : foldIp6(segment.buf, segment.destinationAddressOffset);
  return (endpointHash(source, segment.sourcePort)
    + endpointHash(destination, segment.destinationPort)) >>> 0;
}

function endpointHash(address: number, port: number): number {
  let h = Math.imul(address ^ Math.imul(port, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  return Math.imul(h, 0xc2b2ae35) >>> 0;
}

function foldIp6(buf: Buffer, offset: number): number {
  let h = 0;
  for (let i = 0; i < 16; i += 4) h = Math.imul(h ^ buf.readUInt32BE(offset + i), 0x01000193);
  return h >>> 0;
}
