import ipaddr from 'ipaddr.js';

/** The 4 or 16 network-order bytes of a textual IPv4 or IPv6 address. */
export function ipAddressBytes(address: string): Buffer {
  return Buffer.from(ipaddr.parse(address).toByteArray());
}

export function isIpv6Address(address: string): boolean {
  return ipaddr.parse(address).kind() === 'ipv6';
}
