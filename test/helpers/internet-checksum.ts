/** RFC 1071 one's-complement sum of 16-bit big-endian words; an odd last byte is zero-padded. */
export function onesComplementSum(parts: readonly Buffer[]): number {
  let sum = 0;
  let pendingHighByte: number | undefined;
  for (const part of parts) {
    for (const byte of part) {
      if (pendingHighByte === undefined) {
        pendingHighByte = byte;
        continue;
      }
      sum += (pendingHighByte << 8) | byte;
      pendingHighByte = undefined;
    }
  }
  if (pendingHighByte !== undefined) sum += pendingHighByte << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The checksum field value for IPv4 headers and TCP (RFC 791, RFC 9293 section 3.1). */
export function internetChecksum(parts: readonly Buffer[]): number {
  return ~onesComplementSum(parts) & 0xffff;
}
