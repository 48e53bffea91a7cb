import { kernelAddressText } from './kernel-address-text.js';

/** An IPv4 leaf of fib_trie names its address on a "|-- " line, its routes on the next ones. */
const FIB_LEAF = /^\s*\|-- (\d+)\.(\d+)\.(\d+)\.(\d+)$/;
/** The route the kernel adds for an address assigned to the namespace (fib_trie's "host"). */
const FIB_LOCAL_ADDRESS = /^\s*\/32 host LOCAL$/;
/** A line of if_inet6: the address as 32 hex digits in network order, then index and flags. */
const IF_INET6_ADDRESS = /^([0-9a-f]{32}) /;
const IPV4_LOOPBACK_FIRST_BYTE = 127;
const IPV6_LOOPBACK = '00000000000000000000000000000001';

/**
 * The addresses assigned in a network namespace, as kernelAddressText, from the text of its
 * /proc/PID/net/fib_trie (IPv4) and /proc/PID/net/if_inet6 (IPv6). Loopback addresses are left
 * out: every namespace has them, and a namespace's loopback traffic never reaches a capture made
 * in another namespace, so they cannot say which namespace a captured connection is in.
 */
export function parseLocalAddresses(fibTrie: string, ifInet6: string): Set<string> {
  const addresses = new Set<string>();
  let leaf: number[] | undefined;
  for (const line of fibTrie.split('\n')) {
    const leafLine = FIB_LEAF.exec(line);
    if (leafLine !== null) {
      leaf = leafLine.slice(1).map(Number);
    } else if (leaf !== undefined && leaf[0] !== IPV4_LOOPBACK_FIRST_BYTE
      && FIB_LOCAL_ADDRESS.test(line)) {
      addresses.add(kernelAddressText(leaf));
    }
  }
  for (const line of ifInet6.split('\n')) {
    const hex = IF_INET6_ADDRESS.exec(line)?.[1];
    if (hex === undefined || hex === IPV6_LOOPBACK) continue;
    const bytes = hex.match(/../g)!.map((pair) => Number.parseInt(pair, 16));
    addresses.add(kernelAddressText(bytes));
  }
  return addresses;
}
