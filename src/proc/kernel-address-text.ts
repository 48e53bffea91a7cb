import { endianness } from 'node:os';

/**
 * The kernel prints addresses in /proc/net/tcp{,6} as 32-bit words in host byte order with
 * %08X (net/ipv4/tcp_ipv4.c get_tcp4_sock, net/ipv6/tcp_ipv6.c get_tcp6_sock): on a
 * little-endian host 127.0.0.1 reads 0100007F.
 */
const LITTLE_ENDIAN = endianness() === 'LE';

/** An address (4 or 16 bytes, network order) as /proc/net/tcp{,6} prints it. */
export function kernelAddressText(bytes: readonly number[]): string {
  let text = '';
  for (let word = 0; word < bytes.length; word += 4) {
    for (let index = 0; index < 4; index++) {
      const byte = bytes[word + (LITTLE_ENDIAN ? 3 - index : index)];
      text += byte.toString(16).toUpperCase().padStart(2, '0');
    }
  }
  return text;
}
