import { internetChecksum } from './internet-checksum.js';

/** TCP header flag bits (RFC 9293 section 3.1). */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
} as const;

export interface TcpSegmentFields {
  sourcePort: number;
  destinationPort: number;
  /** Taken modulo 2^32, so callers may add lengths without wrapping by hand. */
  sequence: number;
  acknowledgment: number;
  flags: number;
  window?: number;
  /** Raw option bytes; padded with end-of-option-list zeros to a 4-byte boundary. */
  options?: Buffer;
  payload?: Buffer;
}

const TCP_HEADER_LENGTH = 20;
const TCP_PROTOCOL_NUMBER = 6;

/**
 * A TCP segment whose checksum covers the pseudo-header of the given addresses: the RFC 9293
 * one for 4-byte addresses, the RFC 8200 section 8.1 one for 16-byte addresses.
 */
export function encodeTcpSegment(
  fields: TcpSegmentFields,
  sourceAddress: Buffer,
  destinationAddress: Buffer,
): Buffer {
  const options = padToWords(fields.options ?? Buffer.alloc(0));
  const payload = fields.payload ?? Buffer.alloc(0);
  const header = Buffer.alloc(TCP_HEADER_LENGTH);
  header.writeUInt16BE(fields.sourcePort, 0);
  header.writeUInt16BE(fields.destinationPort, 2);
  header.writeUInt32BE(fields.sequence >>> 0, 4);
  header.writeUInt32BE(fields.acknowledgment >>> 0, 8);
  header.writeUInt8(((TCP_HEADER_LENGTH + options.length) / 4) << 4, 12);
  header.writeUInt8(fields.flags, 13);
  header.writeUInt16BE(fields.window ?? 65535, 14);
  const segment = Buffer.concat([header, options, payload]);

  const pseudoHeader = buildPseudoHeader(sourceAddress, destinationAddress, segment.length);
  segment.writeUInt16BE(internetChecksum([pseudoHeader, segment]), 16);
  return segment;
}

function buildPseudoHeader(source: Buffer, destination: Buffer, tcpLength: number): Buffer {
  if (source.length === 4) {
    const tail = Buffer.from([0, TCP_PROTOCOL_NUMBER, tcpLength >> 8, tcpLength & 0xff]);
    return Buffer.concat([source, destination, tail]);
  }
  const tail = Buffer.alloc(8);
  tail.writeUInt32BE(tcpLength, 0);
  tail.writeUInt8(TCP_PROTOCOL_NUMBER, 7);
  return Buffer.concat([source, destination, tail]);
}

function padToWords(options: Buffer): Buffer {
  const padding = (4 - (options.length % 4)) % 4;
  return Buffer.concat([options, Buffer.alloc(padding)]);
}
