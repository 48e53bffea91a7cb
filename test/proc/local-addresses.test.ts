import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { describe, test } from 'node:test';
import { parseLocalAddresses } from '../../src/proc/local-addresses.js';

/** Copied from /proc/net/fib_trie and /proc/net/if_inet6 of a Debian 12 host (kernel 6.18). */
const FIB_TRIE_TABLE = `  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     +-- 192.0.2.0/24 2 0 2
        +-- 192.0.2.0/30 2 0 2
           |-- 192.0.2.0
              /24 link UNICAST
           |-- 192.0.2.2
              /32 host LOCAL
        |-- 192.0.2.255
           /32 link BROADCAST
`;
const FIB_TRIE = `Main:\n${FIB_TRIE_TABLE}Local:\n${FIB_TRIE_TABLE}`;
const IF_INET6 = `fd000000000000000000000000000002 04 40 00 82     eth0
00000000000000000000000000000001 01 80 10 80       lo
fe8000000000000000fc00fffe000001 04 40 20 80     eth0
`;

describe('parseLocalAddresses: which addresses a namespace owns', () => {
  test('assigned IPv4 and IPv6 addresses, not loopback, broadcast or routes',
    { skip: endianness() !== 'LE' && 'expected text is for little-endian hosts' }, () => {
      assert.deepEqual([...parseLocalAddresses(FIB_TRIE, IF_INET6)].sort(), [
        '000000FD000000000000000002000000', // fd00::2
        '000080FE00000000FF00FC00010000FE', // fe80::fc:ff:fe00:1
        '020200C0', // 192.0.2.2
      ]);
    });

  test('a namespace with only loopback owns nothing', () => {
    const loopbackOnly = FIB_TRIE.replace(/ {5}\+-- 192[^]*?BROADCAST\n/g, '');
    assert.equal(parseLocalAddresses(loopbackOnly, '').size, 0);
  });
});
