import type { CaptureStats } from './capture-stats.js';
import { DecodedSegment } from './decoded-segment.js';
import { LinkType } from './link-type.js';

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;
/** More tags than this on one frame is not a real network; the frame is skipped. */
const MAX_VLAN_TAGS = 4;
const IP_PROTOCOL_TCP = 6;
const IPV6_HOP_BY_HOP = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_AUTHENTICATION = 51;
const IPV6_DESTINATION_OPTIONS = 60;
/** BSD loopback address families: AF_INET is 2 everywhere, AF_INET6 is 24, 28 or 30. */
const AF_INET = 2;
const NOT_IP = -1;

/**
 * Decodes link, IP and TCP headers in place. `decode` fills one reused DecodedSegment and
 * allocates nothing; it returns false for anything that is not a usable TCP segment on a
 * configured port, after counting why.
 */
export class PacketDecoder {
  readonly segment = new DecodedSegment();

  /** @param ports 65536 entries, non-zero for each port that carries SMTP. */
  constructor(
    private readonly ports: Uint8Array,
    private readonly stats: CaptureStats,
  ) {}

  decode(buf: Buffer, capturedLength: number, linkType: number): boolean {
    const end = Math.min(capturedLength, buf.length);
    const ipStart = this.skipLinkHeader(buf, end, linkType);
    if (ipStart === NOT_IP) {
      this.stats.non_tcp_packets++;
      return false;
    }
    if (ipStart + 1 > end) return this.malformed();
    const version = buf[ipStart] >> 4;
    if (version === 4) return this.decodeIp4(buf, ipStart, end);
    if (version === 6) return this.decodeIp6(buf, ipStart, end);
    this.stats.non_tcp_packets++;
    return false;
  }

  private skipLinkHeader(buf: Buffer, end: number, linkType: number): number {
    switch (linkType) {
      case LinkType.ETHERNET:
        return this.skipEthernet(buf, end);
      case LinkType.LINUX_SLL:
        return end >= 16 ? ipStartForEthertype(uint16(buf, 14), 16) : NOT_IP;
      case LinkType.LINUX_SLL2:
        return end >= 20 ? ipStartForEthertype(uint16(buf, 0), 20) : NOT_IP;
      case LinkType.NULL:
      case LinkType.LOOP:
        return end >= 4 ? ipStartForLoopbackFamily(buf) : NOT_IP;
      case LinkType.RAW:
      case LinkType.RAW_OPENBSD:
      case LinkType.RAW_LINKTYPE:
      case LinkType.IPV4:
      case LinkType.IPV6:
        return 0;
      default:
        return NOT_IP;
    }
  }

  private skipEthernet(buf: Buffer, end: number): number {
    let offset = 12;
    for (let tags = 0; tags <= MAX_VLAN_TAGS; tags++) {
      if (offset + 2 > end) return NOT_IP;
      const type = uint16(buf, offset);
      if (type !== ETHERTYPE_VLAN && type !== ETHERTYPE_QINQ && type !== ETHERTYPE_QINQ_OLD) {
        return ipStartForEthertype(type, offset + 2);
      }
      offset += 4;
    }
    return NOT_IP;
  }

  private decodeIp4(buf: Buffer, start: number, end: number): boolean {
    if (start + 20 > end) return this.malformed();
    const headerLength = (buf[start] & 0x0f) * 4;
    // A total length of 0 is what a capture taken before TCP segmentation offload shows for
    // the large segments the NIC will cut: the captured length is the packet's length then.
    const announcedLength = uint16(buf, start + 2);
    const totalLength = announcedLength === 0 ? end - start : announcedLength;
    if (headerLength < 20 || totalLength < headerLength) return this.malformed();
    const fragment = uint16(buf, start + 6);
    if ((fragment & 0x3fff) !== 0) {
      this.stats.ip_fragments++;
      return false;
    }
    if (buf[start + 9] !== IP_PROTOCOL_TCP) {
      this.stats.non_tcp_packets++;
      return false;
    }
    const segment = this.segment;
    segment.ipVersion = 4;
    segment.sourceAddressOffset = start + 12;
    segment.destinationAddressOffset = start + 16;
    segment.sourceIp4 = uint32(buf, start + 12);
    segment.destinationIp4 = uint32(buf, start + 16);
    return this.decodeTcp(buf, start + headerLength, start + totalLength, end);
  }

  private decodeIp6(buf: Buffer, start: number, end: number): boolean {
    if (start + 40 > end) return this.malformed();
    const payloadLength = uint16(buf, start + 4);
    let nextHeader = buf[start + 6];
    let offset = start + 40;
    while (nextHeader !== IP_PROTOCOL_TCP) {
      if (nextHeader === IPV6_FRAGMENT) {
        this.stats.ip_fragments++;
        return false;
      }
      const extensionLength = ip6ExtensionLength(buf, offset, end, nextHeader);
      if (extensionLength === NOT_IP) {
        this.stats.non_tcp_packets++;
        return false;
      }
      if (extensionLength === 0) return this.malformed();
      nextHeader = buf[offset];
      offset += extensionLength;
    }
    const segment = this.segment;
    segment.ipVersion = 6;
    segment.sourceAddressOffset = start + 8;
    segment.destinationAddressOffset = start + 24;
    segment.sourceIp4 = 0;
    segment.destinationIp4 = 0;
    // A payload length of 0 announces a jumbogram (RFC 2675): the capture length bounds it.
    const ipEnd = payloadLength === 0 ? end : start + 40 + payloadLength;
    return this.decodeTcp(buf, offset, ipEnd, end);
  }

  /** @param ipEnd where the IP header says the packet ends; `end` is where the capture ends. */
  private decodeTcp(buf: Buffer, start: number, ipEnd: number, end: number): boolean {
    if (start + 20 > end || start + 20 > ipEnd) return this.malformed();
    const segment = this.segment;
    segment.sourcePort = uint16(buf, start);
    segment.destinationPort = uint16(buf, start + 2);
    if (this.ports[segment.sourcePort] === 0 && this.ports[segment.destinationPort] === 0) {
      this.stats.other_port_packets++;
      return false;
    }
    const headerLength = (buf[start + 12] >> 4) * 4;
    if (headerLength < 20 || start + headerLength > ipEnd) return this.malformed();
    segment.buf = buf;
    segment.sequence = uint32(buf, start + 4);
    segment.acknowledgement = uint32(buf, start + 8);
    segment.flags = buf[start + 13];
    segment.payloadStart = Math.min(start + headerLength, end);
    segment.payloadEnd = Math.min(ipEnd, end);
    segment.missingPayloadLength = ipEnd - Math.max(segment.payloadEnd, start + headerLength);
    if (segment.missingPayloadLength > 0) this.stats.truncated_segments++;
    return true;
  }

  private malformed(): boolean {
    this.stats.malformed_packets++;
    return false;
  }
}

function ipStartForEthertype(type: number, offset: number): number {
  return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? offset : NOT_IP;
}

/** The family is in the capturing host's byte order, which the file does not say: try both. */
function ipStartForLoopbackFamily(buf: Buffer): number {
  const little = buf.readUInt32LE(0);
  const big = buf.readUInt32BE(0);
  const family = little < 256 ? little : big;
  if (family === AF_INET || family === 24 || family === 28 || family === 30) return 4;
  return NOT_IP;
}

/**
 * Length of the IPv6 extension header at `offset` (RFC 8200 section 4), 0 when it is cut
 * short, NOT_IP for a header after which no TCP can follow.
 */
function ip6ExtensionLength(buf: Buffer, offset: number, end: number, header: number): number {
  if (offset + 2 > end) return 0;
  switch (header) {
    case IPV6_HOP_BY_HOP:
    case IPV6_ROUTING:
    case IPV6_DESTINATION_OPTIONS:
      return (buf[offset + 1] + 1) * 8;
    case IPV6_AUTHENTICATION:
      return (buf[offset + 1] + 2) * 4;
    default:
      return NOT_IP;
  }
}

/**
 * Big-endian reads for offsets the caller has checked against the captured length: without
 * Buffer's own checks, which were a twentieth of decoding in perf.
 */
function uint16(buf: Buffer, at: number): number {
  return (buf[at] << 8) | buf[at + 1];
}

function uint32(buf: Buffer, at: number): number {
  return ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
}
