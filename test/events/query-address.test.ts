import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { AddressRange } from '../../src/events/query/address-range.js';
import { parseDottedQuad } from '../../src/events/query/dotted-quad.js';
import { usePropertySeed } from '../helpers/property-seed.js';

usePropertySeed();

describe('parseDottedQuad reads the four-decimal form only', () => {
  const cases: readonly [string, number][] = [
    ['0.0.0.0', 0],
    ['10.1.2.3', 0x0a010203],
    ['255.255.255.255', 0xffffffff],
    ['192.168.0.10', 0xc0a8000a],
    ['256.1.1.1', -1],
    ['1.2.3.4.5', -1],
    ['1..2.3', -1],
    ['.1.2.3', -1],
    ['1.2.3.', -1],
    ['1.2.3', -1],
    ['00.1.2.3', -1],
    ['1.2.3.04', -1],
    ['1.2.3.4 ', -1],
    ['1.2.3.4a', -1],
    ['0x0a.1.2.3', -1],
    ['\uff11.2.3.4', -1],
    ['', -1],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} is ${expected}`, () => {
      assert.equal(parseDottedQuad(text), expected);
    });
  }

  it('agrees with ipaddr.js on which strings are four dotted decimals, and on their value', () => {
    const candidate = fc.array(fc.constantFrom('0', '1', '2', '5', '9', '.', '.'), {
      minLength: 1, maxLength: 15,
    }).map((chars) => chars.join(''));
    fc.assert(fc.property(candidate, (text) => {
      const valid = ipaddr.IPv4.isValidFourPartDecimal(text);
      const expected = valid ? ipaddr.IPv4.parse(text).toByteArray()
        .reduce((value, octet) => value * 256 + octet, 0) : -1;
      assert.equal(parseDottedQuad(text), expected);
    }), { numRuns: 2000 });
  });
});

describe('AddressRange.parse takes whole CIDR values only', () => {
  const notRanges = ['10/8', '10.0.0.0', '10.0.0.0/33', '010.0.0.0/8', ' 10.0.0.0/8', '10.0.0.0/8 ',
    'fd00::/129', 'fd00::', '10.*.0.0/8', 'mx.example.net/24', ''];
  for (const text of notRanges) {
    it(`${JSON.stringify(text)} is not a range`, () => {
      assert.equal(AddressRange.parse(text), undefined);
    });
  }

  it('an IPv4 /n range holds exactly the addresses whose first n bits agree', () => {
    const octets = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
    fc.assert(fc.property(octets, octets, fc.nat(32), (network, address, prefix) => {
      const range = AddressRange.parse(`${network.join('.')}/${prefix}`);
      const expected = ipaddr.IPv4.parse(address.join('.'))
        .match(ipaddr.IPv4.parse(network.join('.')), prefix);
      assert.equal(range?.contains(parseDottedQuad(address.join('.'))), expected);
    }), { numRuns: 2000 });
  });
});
