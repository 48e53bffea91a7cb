import ipaddr from 'ipaddr.js';
import type { EventAddress } from './address-range.js';
import { parseDottedQuad } from './dotted-quad.js';

/**
 * Reads addresses out of field values for one compiled expression. It remembers the last value
 * it read, because an expression usually tests one address field several times in a row (the
 * seed's third query tests RemoteAddressIP4 against three ranges), so each event's address is
 * parsed once instead of once per range.
 */
export class AddressReader {
  private lastText: string | undefined;
  private lastAddress: EventAddress | undefined;

  /** The address `text` spells, or undefined when it is not an IPv4 or IPv6 address. */
  read(text: string): EventAddress | undefined {
    if (text !== this.lastText) {
      this.lastText = text;
      this.lastAddress = parseEventAddress(text);
    }

    return this.lastAddress;
  }
}

function parseEventAddress(text: string): EventAddress | undefined {
  const ipv4 = parseDottedQuad(text);
  if (ipv4 >= 0) return ipv4;
  if (!ipaddr.IPv6.isValid(text)) return undefined;
  const address = ipaddr.IPv6.parse(text);
  return address.isIPv4MappedAddress()
    ? parseDottedQuad(address.toIPv4Address().toString())
    : address;
}
