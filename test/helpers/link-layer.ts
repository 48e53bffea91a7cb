/** Link-layer header types from the tcpdump.org LINKTYPE registry. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  LINUX_SLL2: 276,
} as const;

export const EtherType = {
  IPV4: 0x0800,
  IPV6: 0x86dd,
  VLAN: 0x8100,
  QINQ: 0x88a8,
} as const;

/** One 802.1Q tag: `tagProtocol` is 0x8100 for a customer tag, 0x88a8 for an outer S-tag. */
export interface VlanTag {
  tagProtocol: number;
  vlanId: number;
}

export interface EthernetFrameFields {
  etherType: number;
  payload: Buffer;
  destinationMac?: Buffer;
  sourceMac?: Buffer;
  /** Outermost first. */
  vlanTags?: readonly VlanTag[];
}

const DEFAULT_DESTINATION_MAC = Buffer.from('020000000025', 'hex');
const DEFAULT_SOURCE_MAC = Buffer.from('020000000010', 'hex');

export function encodeEthernetFrame(fields: EthernetFrameFields): Buffer {
  const tags = (fields.vlanTags ?? []).map((tag) => {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt16BE(tag.tagProtocol, 0);
    bytes.writeUInt16BE(tag.vlanId & 0x0fff, 2);
    return bytes;
  });
  const etherType = Buffer.alloc(2);
  etherType.writeUInt16BE(fields.etherType, 0);
  return Buffer.concat([
    fields.destinationMac ?? DEFAULT_DESTINATION_MAC,
    fields.sourceMac ?? DEFAULT_SOURCE_MAC,
    ...tags,
    etherType,
    fields.payload,
  ]);
}

/** Linux `sll_pkttype` values. */
export const LinuxPacketType = {
  HOST: 0,
  OUTGOING: 4,
} as const;

const ARPHRD_ETHER = 1;
const LINUX_LINK_ADDRESS_LENGTH = 8;

export interface LinuxCookedFrameFields {
  protocol: number;
  payload: Buffer;
  packetType?: number;
  /** Up to 8 bytes; a 6-byte MAC by default. */
  linkAddress?: Buffer;
  /** ARPHRD_ type of the interface; 1 (Ethernet) by default, 772 is loopback. */
  hardwareType?: number;
}

/** LINKTYPE_LINUX_SLL: a 16-byte big-endian header. */
export function encodeLinuxCookedV1Frame(fields: LinuxCookedFrameFields): Buffer {
  const address = fields.linkAddress ?? DEFAULT_SOURCE_MAC;
  const header = Buffer.alloc(16);
  header.writeUInt16BE(fields.packetType ?? LinuxPacketType.OUTGOING, 0);
  header.writeUInt16BE(fields.hardwareType ?? ARPHRD_ETHER, 2);
  header.writeUInt16BE(address.length, 4);
  address.copy(header, 6, 0, LINUX_LINK_ADDRESS_LENGTH);
  header.writeUInt16BE(fields.protocol, 14);
  return Buffer.concat([header, fields.payload]);
}

/** LINKTYPE_LINUX_SLL2: a 20-byte big-endian header that adds the interface index. */
export function encodeLinuxCookedV2Frame(
  fields: LinuxCookedFrameFields & { interfaceIndex?: number },
): Buffer {
  const address = fields.linkAddress ?? DEFAULT_SOURCE_MAC;
  const header = Buffer.alloc(20);
  header.writeUInt16BE(fields.protocol, 0);
  header.writeUInt32BE(fields.interfaceIndex ?? 1, 4);
  header.writeUInt16BE(fields.hardwareType ?? ARPHRD_ETHER, 8);
  header.writeUInt8(fields.packetType ?? LinuxPacketType.OUTGOING, 10);
  header.writeUInt8(address.length, 11);
  address.copy(header, 12, 0, LINUX_LINK_ADDRESS_LENGTH);
  return Buffer.concat([header, fields.payload]);
}

/** BSD address families as DLT_NULL writes them; IPv6 differs between BSDs. */
export const BsdAddressFamily = {
  INET: 2,
  INET6_OPENBSD_NETBSD: 24,
  INET6_FREEBSD: 28,
  INET6_DARWIN: 30,
} as const;

/**
 * LINKTYPE_NULL: a 4-byte address family in the byte order of the capturing host. Readers
 * tell the order apart by which half is non-zero; little-endian is the common case.
 */
export function encodeBsdLoopbackFrame(
  family: number,
  payload: Buffer,
  byteOrder: 'little-endian' | 'big-endian' = 'little-endian',
): Buffer {
  const header = Buffer.alloc(4);
  if (byteOrder === 'little-endian') header.writeUInt32LE(family, 0);
  else header.writeUInt32BE(family, 0);
  return Buffer.concat([header, payload]);
}
