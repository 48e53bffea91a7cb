import { writeFileSync } from 'node:fs';

export { LinkType, EtherType, BsdAddressFamily, LinuxPacketType } from './link-layer.js';
export {
  encodeEthernetFrame,
  encodeLinuxCookedV1Frame,
  encodeLinuxCookedV2Frame,
  encodeBsdLoopbackFrame,
} from './link-layer.js';
export { encodeIpv4Packet, encodeIpv6Packet, IpProtocol } from './ip-packet.js';
export { encodeTcpSegment, TcpFlag } from './tcp-segment.js';

/** One captured frame: link-layer bytes and the capture time. */
export interface PcapFrame {
  seconds: number;
  microseconds: number;
  bytes: Buffer;
}

const SNAP_LENGTH = 262144;
const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;

/**
 * A classic libpcap file (version 2.4, microsecond timestamps), little-endian like the hosts
 * these tests run on. Frames are never truncated, so captured length equals original length.
 */
export function encodeClassicPcap(linkType: number, frames: readonly PcapFrame[]): Buffer {
  const fileHeader = Buffer.alloc(24);
  fileHeader.writeUInt32LE(PCAP_MAGIC_MICROSECONDS, 0);
  fileHeader.writeUInt16LE(2, 4);
  fileHeader.writeUInt16LE(4, 6);
  fileHeader.writeUInt32LE(SNAP_LENGTH, 16);
  fileHeader.writeUInt32LE(linkType, 20);
  const records = frames.flatMap((frame) => {
    const recordHeader = Buffer.alloc(16);
    recordHeader.writeUInt32LE(frame.seconds, 0);
    recordHeader.writeUInt32LE(frame.microseconds, 4);
    recordHeader.writeUInt32LE(frame.bytes.length, 8);
    recordHeader.writeUInt32LE(frame.bytes.length, 12);
    return [recordHeader, frame.bytes];
  });
  return Buffer.concat([fileHeader, ...records]);
}

const SECTION_HEADER_BLOCK = 0x0a0d0d0a;
const INTERFACE_DESCRIPTION_BLOCK = 1;
const ENHANCED_PACKET_BLOCK = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/**
 * A minimal pcapng file: one section, one interface (default microsecond resolution, no
 * options) and one Enhanced Packet Block per frame.
 */
export function encodePcapng(linkType: number, frames: readonly PcapFrame[]): Buffer {
  const sectionBody = Buffer.alloc(16);
  sectionBody.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  sectionBody.writeUInt16LE(1, 4);
  sectionBody.writeBigInt64LE(-1n, 8);
  const interfaceBody = Buffer.alloc(8);
  interfaceBody.writeUInt16LE(linkType, 0);
  interfaceBody.writeUInt32LE(SNAP_LENGTH, 4);
  const packets = frames.map((frame) => encodeBlock(ENHANCED_PACKET_BLOCK, packetBody(frame)));
  return Buffer.concat([
    encodeBlock(SECTION_HEADER_BLOCK, sectionBody),
    encodeBlock(INTERFACE_DESCRIPTION_BLOCK, interfaceBody),
    ...packets,
  ]);
}

function packetBody(frame: PcapFrame): Buffer {
  const timestamp = BigInt(frame.seconds) * 1_000_000n + BigInt(frame.microseconds);
  const fixed = Buffer.alloc(20);
  fixed.writeUInt32LE(0, 0);
  fixed.writeUInt32LE(Number(timestamp >> 32n), 4);
  fixed.writeUInt32LE(Number(timestamp & 0xffffffffn), 8);
  fixed.writeUInt32LE(frame.bytes.length, 12);
  fixed.writeUInt32LE(frame.bytes.length, 16);
  const padding = Buffer.alloc((4 - (frame.bytes.length % 4)) % 4);
  return Buffer.concat([fixed, frame.bytes, padding]);
}

/** Block type, total length, body, total length again (pcapng section 3.1). */
function encodeBlock(type: number, body: Buffer): Buffer {
  const totalLength = body.length + 12;
  const head = Buffer.alloc(8);
  head.writeUInt32LE(type, 0);
  head.writeUInt32LE(totalLength, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(totalLength, 0);
  return Buffer.concat([head, body, tail]);
}

/** Writes pcapng when the path ends in `.pcapng`, classic pcap otherwise. */
export function writeCaptureFile(
  path: string,
  linkType: number,
  frames: readonly PcapFrame[],
): void {
  const encode = path.endsWith('.pcapng') ? encodePcapng : encodeClassicPcap;
  writeFileSync(path, encode(linkType, frames));
}
