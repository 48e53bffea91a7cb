/**
 * One TCP segment as decoded from a packet. A single instance is reused for every packet, so
 * decoding allocates nothing; its fields are valid until the next packet is decoded, and
 * `buf` is the capture library's buffer, which it overwrites with the next packet.
 */
export class DecodedSegment {
  buf: Buffer = Buffer.alloc(0);
  ipVersion = 4;
  /** Offsets of the 4-byte (IPv4) or 16-byte (IPv6) addresses inside `buf`. */
  sourceAddressOffset = 0;
  destinationAddressOffset = 0;
  /** IPv4 addresses as unsigned 32-bit numbers (0 for IPv6). */
  sourceIp4 = 0;
  destinationIp4 = 0;
  sourcePort = 0;
  destinationPort = 0;
  sequence = 0;
  acknowledgement = 0;
  flags = 0;
  payloadStart = 0;
  payloadEnd = 0;
  /** Payload bytes the IP header announces but the capture did not keep (snap length). */
  missingPayloadLength = 0;
}

export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
} as const;
