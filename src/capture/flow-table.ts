import ipaddr from 'ipaddr.js';
import type { DecodedSegment } from './decoded-segment.js';
import { TcpFlow } from './tcp-flow.js';

/**
 * Flows by connection 4-tuple. The key is a 32-bit hash that is the same in both directions,
 * computed from the packet's bytes in place, with flows of equal hash chained in a bucket:
 * looking a packet up allocates nothing. Map iteration order is insertion order, which makes
 * the first bucket the oldest one, the one evicted when the table is full.
 */
export class FlowTable<Session> {
  private readonly buckets = new Map<number, TcpFlow<Session>>();
  private flowCount = 0;
  /** Set by `find`: whether the segment was sent by the flow's client. */
  fromClient = false;

  get size(): number {
    return this.flowCount;
  }

  find(segment: DecodedSegment): TcpFlow<Session> | undefined {
    let flow = this.buckets.get(hashOf(segment));
    while (flow !== undefined) {
      if (flow.ipVersion === segment.ipVersion) {
        if (matches(flow, segment, true)) {
          this.fromClient = true;
          return flow;
        }
        if (matches(flow, segment, false)) {
          this.fromClient = false;
          return flow;
        }
      }
      flow = flow.nextInBucket;
    }
    return undefined;
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
      sawHandshake ? segment.sequence : 0, time,
    );
    flow.nextInBucket = this.buckets.get(hash);
    this.buckets.set(hash, flow);
    this.flowCount++;
    return flow;
  }

  remove(flow: TcpFlow<Session>): void {
    const head = this.buckets.get(flow.hash);
    if (head === flow) {
      if (flow.nextInBucket === undefined) this.buckets.delete(flow.hash);
      else this.buckets.set(flow.hash, flow.nextInBucket);
    } else {
      let previous = head;
      while (previous !== undefined && previous.nextInBucket !== flow) {
        previous = previous.nextInBucket;
      }
      if (previous === undefined) return;
      previous.nextInBucket = flow.nextInBucket;
    }
    flow.nextInBucket = undefined;
    this.flowCount--;
  }

  /** The flow in the oldest bucket: close to, not exactly, the oldest flow. */
  oldest(): TcpFlow<Session> | undefined {
    const first = this.buckets.values().next();
    if (first.done === true) return undefined;
    let flow = first.value;
    while (flow.nextInBucket !== undefined) flow = flow.nextInBucket;
    return flow;
  }

  /** Every flow; the callback may remove the flow it is given. */
  forEach(callback: (flow: TcpFlow<Session>) => void): void {
    const all: TcpFlow<Session>[] = [];
    for (const head of this.buckets.values()) {
      for (let flow: TcpFlow<Session> | undefined = head; flow; flow = flow.nextInBucket) {
        all.push(flow);
      }
    }
    for (const flow of all) callback(flow);
  }
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

/** Symmetric: the sum of the two endpoints' hashes is the same whichever side sent. */
function hashOf(segment: DecodedSegment): number {
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
