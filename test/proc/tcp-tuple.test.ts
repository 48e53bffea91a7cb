import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { describe, test } from 'node:test';
import { TcpTuple } from '../../src/proc/tcp-tuple.js';

interface Case {
  name: string;
  endpoints: [string, number, string, number];
  ipv4: string | undefined;
  ipv6: string;
}

/** Hex forms written out by hand from the kernel's %08X of host-order words (little-endian). */
const cases: Case[] = [
  {
    name: 'IPv4: each address is one little-endian word, ports are plain hex',
    endpoints: ['10.0.0.5', 50000, '198.51.100.25', 25],
    ipv4: ': 0500000A:C350 196433C6:0019 ',
    ipv6: ': 0000000000000000FFFF00000500000A:C350 0000000000000000FFFF0000196433C6:0019 ',
  },
  {
    name: 'IPv4-mapped IPv6 text is the IPv4 connection',
    endpoints: ['::ffff:10.0.0.5', 50000, '::FFFF:198.51.100.25', 25],
    ipv4: ': 0500000A:C350 196433C6:0019 ',
    ipv6: ': 0000000000000000FFFF00000500000A:C350 0000000000000000FFFF0000196433C6:0019 ',
  },
  {
    name: 'IPv6: four little-endian words, whatever the spelling of the address',
    endpoints: ['2001:db8:0:0::5', 50001, '2001:DB8::25', 587],
    ipv4: undefined,
    ipv6: ': B80D0120000000000000000005000000:C351 B80D0120000000000000000025000000:024B ',
  },
  {
    name: 'IPv6 link-local with a zone: the zone is not part of the table',
    endpoints: ['fe80::1%eth0', 40000, 'fe80::2', 25],
    ipv4: undefined,
    ipv6: ': 000080FE000000000000000001000000:9C40 000080FE000000000000000002000000:0019 ',
  },
];

describe('TcpTuple: connection endpoints as sock_diag and /proc/net/tcp{,6} take them', () => {
  for (const { name, endpoints, ipv4, ipv6 } of cases) {
    test(name, { skip: endianness() !== 'LE' && 'expected text is for little-endian hosts' },
      () => {
        const tuple = TcpTuple.parse(...endpoints);
        assert.ok(tuple);
        assert.equal(tuple.ipv4Needle?.toString('latin1'), ipv4);
        assert.equal(tuple.ipv6Needle.toString('latin1'), ipv6);
      });
  }

  test('the form sock_diag is asked in: family, addresses in network order, ports', () => {
    const mapped = TcpTuple.parse('::ffff:10.0.0.5', 50000, '::ffff:198.51.100.25', 25)!;
    assert.deepEqual([mapped.family, [...mapped.localAddressBytes], mapped.localPort,
      [...mapped.remoteAddressBytes], mapped.remotePort], [4, [10, 0, 0, 5], 50000,
      [198, 51, 100, 25], 25]);
    const ipv6 = TcpTuple.parse('2001:db8::5', 50001, 'fe80::2%eth0', 587)!;
    assert.equal(ipv6.family, 6);
    assert.equal(ipv6.localAddressBytes.toString('hex'), '20010db8000000000000000000000005');
    assert.equal(ipv6.remoteAddressBytes.toString('hex'), 'fe800000000000000000000000000002');
  });

  test('listener needles: the address, then the wildcard, remote 0 and state LISTEN', {
    skip: endianness() !== 'LE' && 'expected text is for little-endian hosts' }, () => {
    const text = (needles: readonly Buffer[]) => needles.map((n) => n.toString('latin1'));
    const any6 = '0'.repeat(32);
    const ipv4 = TcpTuple.parse('::ffff:10.0.0.5', 25, '203.0.113.7', 40000)!.listenerNeedles;
    assert.deepEqual(text(ipv4.tcp), [': 0500000A:0019 00000000:0000 0A ',
      ': 00000000:0019 00000000:0000 0A ']);
    assert.deepEqual(text(ipv4.tcp6), [
      `: 0000000000000000FFFF00000500000A:0019 ${any6}:0000 0A `,
      `: ${any6}:0019 ${any6}:0000 0A `]);
    const ipv6 = TcpTuple.parse('2001:db8::5', 587, '2001:db8::99', 40000)!.listenerNeedles;
    assert.deepEqual(text(ipv6.tcp), []);
    assert.deepEqual(text(ipv6.tcp6), [
      `: B80D0120000000000000000005000000:024B ${any6}:0000 0A `,
      `: ${any6}:024B ${any6}:0000 0A `]);
  });

  test('IPv4 and IPv4-mapped spellings share one cache key', () => {
    const plain = TcpTuple.parse('10.0.0.5', 50000, '198.51.100.25', 25);
    const mapped = TcpTuple.parse('::ffff:10.0.0.5', 50000, '::ffff:198.51.100.25', 25);
    assert.equal(plain?.key, mapped?.key);
  });

  const invalid: [string, Parameters<typeof TcpTuple.parse>][] = [
    ['a host name', ['mail.example.net', 50000, '10.0.0.1', 25]],
    ['mixed families', ['10.0.0.5', 50000, '2001:db8::25', 25]],
    ['port 0', ['10.0.0.5', 0, '10.0.0.1', 25]],
    ['port above 65535', ['10.0.0.5', 65536, '10.0.0.1', 25]],
    ['a fractional port', ['10.0.0.5', 25.5, '10.0.0.1', 25]],
    ['IPv4 with a leading zero', ['10.0.0.05', 50000, '10.0.0.1', 25]],
  ];
  for (const [name, endpoints] of invalid) {
    test(`rejects ${name}`, () => assert.equal(TcpTuple.parse(...endpoints), undefined));
  }
});
