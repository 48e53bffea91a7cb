import ipaddr from 'ipaddr.js';
import { parseDottedQuad } from './dotted-quad.js';

/**
 * An address read from an event: IPv4 (and IPv4-mapped IPv6) as an unsigned 32-bit number,
 * any other IPv6 address as parsed by ipaddr.js.
 */
export type EventAddress = number | ipaddr.IPv6;

/**
 * A subnet written in an expression, such as `10.0.0.0/8` or `fd00::/8`.
 *
 * IPv4 and IPv4-mapped IPv6 (`::ffff:a.b.c.d`) are one address space: a mapped range of at least
 * /96 is the IPv4 range it covers, and an IPv6 range that holds the whole mapped block (such as
 * `::/0`) holds every IPv4 address. So each range is kept as the part of it that is IPv4, tested
 * with a mask, and the part that is IPv6, tested by ipaddr.js.
 */
export class AddressRange {
  private constructor(
    private readonly ipv4: { readonly network: number; readonly mask: number } | undefined,
    private readonly ipv6: [ipaddr.IPv6, number] | undefined,
  ) {}

  /**
   * The range the whole of `text` spells, or undefined when it is not one. IPv4 must be four
   * dotted decimals: ipaddr.js would also take `10/8` or hexadecimal parts, and a value like
   * that is far more likely meant as text.
   */
  static parse(text: string): AddressRange | undefined {
    if (ipaddr.IPv4.isValidCIDRFourPartDecimal(text)) {
      const [network, prefixLength] = ipaddr.IPv4.parseCIDR(text);
      return new AddressRange(ipv4Range(network, prefixLength), undefined);
    }

    if (!ipaddr.IPv6.isValidCIDR(text)) return undefined;
    const [network, prefixLength] = ipaddr.IPv6.parseCIDR(text);
    if (network.isIPv4MappedAddress() && prefixLength >= MAPPED_PREFIX_LENGTH) {
      const ipv4 = ipv4Range(network.toIPv4Address(), prefixLength - MAPPED_PREFIX_LENGTH);
      return new AddressRange(ipv4, undefined);
    }

    const holdsIPv4 = prefixLength <= MAPPED_PREFIX_LENGTH &&
      MAPPED_BLOCK.match(network, prefixLength);
    return new AddressRange(holdsIPv4 ? ALL_IPV4 : undefined, [network, prefixLength]);
  }

  contains(address: EventAddress): boolean {
    if (typeof address === 'number') {
      return this.ipv4 !== undefined && ((address & this.ipv4.mask) >>> 0) === this.ipv4.network;
    }

    return this.ipv6 !== undefined && address.match(this.ipv6);
  }
}

function ipv4Range(network: ipaddr.IPv4, prefixLength: number): { network: number; mask: number } {
  const mask = prefixLength === 0 ? 0 : (~0 << (32 - prefixLength)) >>> 0;
  return { network: (parseDottedQuad(network.toString()) & mask) >>> 0, mask };
}

/** `::ffff:0:0/96` holds the IPv4-mapped addresses (RFC 4291 section 2.5.5.2). */
const MAPPED_PREFIX_LENGTH = 96;
const MAPPED_BLOCK = ipaddr.IPv6.parse('::ffff:0:0');
const ALL_IPV4 = { network: 0, mask: 0 };
