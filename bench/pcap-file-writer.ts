import { closeSync, openSync, writeSync } from 'node:fs';

/** Output is gathered into a buffer this large and written in one system call. */
const WRITE_BUFFER_BYTES = 16 * 1024 * 1024;
/** Room for the largest frame this writer builds (pcap record header + Ethernet + IPv4 + TCP). */
const MAX_RECORD_BYTES = 16 + 14 + 20 + 24 + 1500;
const PCAP_HEADER_BYTES = 24;
const LINKTYPE_ETHERNET = 1;
const SNAP_LENGTH = 65535;
const ETHERTYPE_IPV4 = 0x0800;
const IP_PROTOCOL_TCP = 6;
const IP_DONT_FRAGMENT = 0x4000;
const IP_TTL = 64;
const TCP_WINDOW = 64240;
/** The MSS option (RFC 9293 section 3.7.1) that SYN and SYN-ACK carry. */
const MSS_OPTION_KIND = 2;

export const TcpFlag = { FIN: 0x01, SYN: 0x02, PSH: 0x08, ACK: 0x10 } as const;

/** One end of a TCP connection; `address` is an IPv4 address as a 32-bit number. */
export interface TcpEndpoint {
  mac: Buffer;
  address: number;
  port: number;
}

/** What a TCP segment carries besides its endpoints. */
export interface TcpSegment {
  seq: number;
  ack: number;
  flags: number;
  /** MSS option value for SYN segments; 0 for none. */
  mss: number;
  payload: Buffer | null;
}

/**
 * Writes a classic pcap file (microsecond timestamps, little-endian, Ethernet) of IPv4/TCP
 * frames with correct lengths and checksums. Frames are built in place in one reused buffer,
 * so writing a few hundred MB costs a few seconds.
 */
export class PcapFileWriter {
  packets = 0;
  bytes = PCAP_HEADER_BYTES;
  private readonly fd: number;
  private readonly out = Buffer.alloc(WRITE_BUFFER_BYTES);
  private used = 0;
  private ipIdentification = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
    this.out.writeUInt32LE(0xa1b2c3d4, 0);
    this.out.writeUInt16LE(2, 4);
    this.out.writeUInt16LE(4, 6);
    this.out.writeUInt32LE(SNAP_LENGTH, 16);
    this.out.writeUInt32LE(LINKTYPE_ETHERNET, 20);
    this.used = PCAP_HEADER_BYTES;
  }

  /** `timeMicroseconds` is the capture time since the epoch. */
  writeTcp(timeMicroseconds: number, from: TcpEndpoint, to: TcpEndpoint, segment: TcpSegment) {
    if (this.used + MAX_RECORD_BYTES > this.out.length) this.flush();
    const out = this.out;
    const record = this.used;
    const payloadLength = segment.payload === null ? 0 : segment.payload.length;
    const tcpHeaderLength = segment.mss > 0 ? 24 : 20;
    const ipLength = 20 + tcpHeaderLength + payloadLength;
    const frameLength = 14 + ipLength;
    out.writeUInt32LE(Math.floor(timeMicroseconds / 1e6), record);
    out.writeUInt32LE(timeMicroseconds % 1e6, record + 4);
    out.writeUInt32LE(frameLength, record + 8);
    out.writeUInt32LE(frameLength, record + 12);

    const ethernet = record + 16;
    to.mac.copy(out, ethernet);
    from.mac.copy(out, ethernet + 6);
    out.writeUInt16BE(ETHERTYPE_IPV4, ethernet + 12);

    const ip = ethernet + 14;
    this.writeIpv4Header(ip, ipLength, from.address, to.address);

    const tcp = ip + 20;
    out.writeUInt16BE(from.port, tcp);
    out.writeUInt16BE(to.port, tcp + 2);
    out.writeUInt32BE(segment.seq >>> 0, tcp + 4);
    out.writeUInt32BE(segment.ack >>> 0, tcp + 8);
    out.writeUInt16BE(((tcpHeaderLength / 4) << 12) | segment.flags, tcp + 12);
    out.writeUInt16BE(TCP_WINDOW, tcp + 14);
    out.writeUInt32BE(0, tcp + 16);
    if (segment.mss > 0) {
      out[tcp + 20] = MSS_OPTION_KIND;
      out[tcp + 21] = 4;
      out.writeUInt16BE(segment.mss, tcp + 22);
    }
    if (segment.payload !== null) segment.payload.copy(out, tcp + tcpHeaderLength);
    const tcpLength = tcpHeaderLength + payloadLength;
    const pseudoHeader = sumAddress(from.address) + sumAddress(to.address) + IP_PROTOCOL_TCP
      + tcpLength;
    out.writeUInt16BE(checksum(out, tcp, tcp + tcpLength, pseudoHeader), tcp + 16);

    this.used = tcp + tcpLength;
    this.packets++;
    this.bytes += 16 + frameLength;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private writeIpv4Header(ip: number, totalLength: number, source: number, target: number) {
    const out = this.out;
    out[ip] = 0x45;
    out[ip + 1] = 0;
    out.writeUInt16BE(totalLength, ip + 2);
    out.writeUInt16BE(this.ipIdentification, ip + 4);
    this.ipIdentification = (this.ipIdentification + 1) & 0xffff;
    out.writeUInt16BE(IP_DONT_FRAGMENT, ip + 6);
    out[ip + 8] = IP_TTL;
    out[ip + 9] = IP_PROTOCOL_TCP;
    out.writeUInt16BE(0, ip + 10);
    out.writeUInt32BE(source >>> 0, ip + 12);
    out.writeUInt32BE(target >>> 0, ip + 16);
    out.writeUInt16BE(checksum(out, ip, ip + 20, 0), ip + 10);
  }

  private flush(): void {
    let offset = 0;
    while (offset < this.used) offset += writeSync(this.fd, this.out, offset, this.used - offset);
    this.used = 0;
  }
}

function sumAddress(address: number): number {
  return ((address >>> 16) & 0xffff) + (address & 0xffff);
}

/** RFC 1071 Internet checksum of buf[start, end) plus `initial` (already summed words). */
function checksum(buf: Buffer, start: number, end: number, initial: number): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < end) sum += buf[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
