import { internetChecksum } from './internet-checksum.js';

export const IpProtocol = {
  HOP_BY_HOP: 0,
  TCP: 6,
  ROUTING: 43,
  DESTINATION_OPTIONS: 60,
} as const;

export interface Ipv4PacketFields {
  source: Buffer;
  destination: Buffer;
  protocol: number;
  payload: Buffer;
  identification?: number;
  timeToLive?: number;
  /** Raw option bytes; padded with end-of-option-list zeros to a 4-byte boundary. */
  options?: Buffer;
}

const IPV4_HEADER_LENGTH = 20;
const IPV4_DONT_FRAGMENT = 0x4000;

/** An IPv4 packet with a correct header checksum (RFC 791 section 3.1). */
export function encodeIpv4Packet(fields: Ipv4PacketFields): Buffer {
  const options = fields.options ?? Buffer.alloc(0);
  const paddedOptions = Buffer.concat([options, Buffer.alloc((4 - (options.length % 4)) % 4)]);
  const headerLength = IPV4_HEADER_LENGTH + paddedOptions.length;
  const header = Buffer.alloc(IPV4_HEADER_LENGTH);
  header.writeUInt8(0x40 | (headerLength / 4), 0);
  header.writeUInt16BE(headerLength + fields.payload.length, 2);
  header.writeUInt16BE(fields.identification ?? 0, 4);
  header.writeUInt16BE(IPV4_DONT_FRAGMENT, 6);
  header.writeUInt8(fields.timeToLive ?? 64, 8);
  header.writeUInt8(fields.protocol, 9);
  fields.source.copy(header, 12);
  fields.destination.copy(header, 16);
  const fullHeader = Buffer.concat([header, paddedOptions]);
  fullHeader.writeUInt16BE(internetChecksum([fullHeader]), 10);
  return Buffer.concat([fullHeader, fields.payload]);
}

/**
 * IPv6 extension headers (RFC 8200 section 4). Options headers carry PadN padding only; the
 * routing header is type 0 with no addresses and segments-left 0, which receivers skip.
 */
export type Ipv6ExtensionHeader = 'hop-by-hop' | 'destination-options' | 'routing';

const EXTENSION_HEADER_NUMBER: Record<Ipv6ExtensionHeader, number> = {
  'hop-by-hop': IpProtocol.HOP_BY_HOP,
  'destination-options': IpProtocol.DESTINATION_OPTIONS,
  routing: IpProtocol.ROUTING,
};

export interface Ipv6PacketFields {
  source: Buffer;
  destination: Buffer;
  /** Protocol of the payload after the last extension header. */
  protocol: number;
  payload: Buffer;
  hopLimit?: number;
  /** Chained in the given order between the fixed header and the payload. */
  extensionHeaders?: readonly Ipv6ExtensionHeader[];
}

const IPV6_HEADER_LENGTH = 40;

export function encodeIpv6Packet(fields: Ipv6PacketFields): Buffer {
  const extensions = fields.extensionHeaders ?? [];
  const chain = extensions.map((kind, index) => {
    const next = extensions[index + 1];
    return encodeExtensionHeader(
      kind,
      next === undefined ? fields.protocol : EXTENSION_HEADER_NUMBER[next],
    );
  });
  const body = Buffer.concat([...chain, fields.payload]);
  const header = Buffer.alloc(IPV6_HEADER_LENGTH);
  header.writeUInt32BE(0x60000000, 0);
  header.writeUInt16BE(body.length, 4);
  const first = extensions[0];
  header.writeUInt8(first === undefined ? fields.protocol : EXTENSION_HEADER_NUMBER[first], 6);
  header.writeUInt8(fields.hopLimit ?? 64, 7);
  fields.source.copy(header, 8);
  fields.destination.copy(header, 24);
  return Buffer.concat([header, body]);
}

const PADN_OPTION = 1;

/** Every header here is 8 bytes: next header, length 0 (in 8-byte units past the first 8). */
function encodeExtensionHeader(kind: Ipv6ExtensionHeader, nextHeader: number): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt8(nextHeader, 0);
  if (kind === 'routing') return header;
  header.writeUInt8(PADN_OPTION, 2);
  header.writeUInt8(4, 3);
  return header;
}
