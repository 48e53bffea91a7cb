import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DecodedSegment, TcpFlag } from '../../src/capture/decoded-segment.js';
import { FlowTable, hashOf } from '../../src/capture/flow-table.js';

const FNV_PRIME = 0x01000193;
const SERVER = Buffer.from('20010db8000000000000000000000025', 'hex');
/** Source address at 8 and destination at 24, as in an IPv6 header. */
const SOURCE_OFFSET = 8;
const DESTINATION_OFFSET = 24;

/** The multiplicative inverse of an odd number modulo 2^32 (Newton's iteration). */
function inverse(odd: number): number {
  let x = odd;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(odd, x));
  return x >>> 0;
}

/**
 * IPv6 client addresses that all fold to `target` under the flow table's address fold (the
 * FNV-style multiply over four 32-bit words): the last word undoes whatever the first three
 * did, as someone holding an IPv6 /64 can.
 */
function collidingAddress(index: number, target: number): Buffer {
  const words = [0x20010db8, 0x00000001, index];
  let h = 0;
  for (const word of words) h = Math.imul(h ^ word, FNV_PRIME);
  const last = (h ^ Math.imul(target, inverse(FNV_PRIME))) >>> 0;
  const address = Buffer.alloc(16);
  [...words, last].forEach((word, i) => address.writeUInt32BE(word >>> 0, i * 4));
  return address;
}

function segmentBetween(client: Buffer, fromClient: boolean): DecodedSegment {
  const segment = new DecodedSegment();
  segment.buf = Buffer.alloc(60);
  (fromClient ? client : SERVER).copy(segment.buf, SOURCE_OFFSET);
  (fromClient ? SERVER : client).copy(segment.buf, DESTINATION_OFFSET);
  segment.ipVersion = 6;
  segment.sourceAddressOffset = SOURCE_OFFSET;
  segment.destinationAddressOffset = DESTINATION_OFFSET;
  segment.sourcePort = fromClient ? 40000 : 25;
  segment.destinationPort = fromClient ? 25 : 40000;
  segment.flags = TcpFlag.SYN;
  return segment;
}

describe('FlowTable', () => {
  const clients = Array.from({ length: 60 }, (_, index) => collidingAddress(index, 0x5eed));

  test('flows whose 4-tuples all hash alike are each found, from either side, and removed', () => {
    const hashes = new Set(clients.map((client) => hashOf(segmentBetween(client, true))));
    assert.equal(hashes.size, 1, 'the addresses collide (else this test tests nothing)');
    const table = new FlowTable<number>();
    const flows = clients.map((client, index) => {
      const flow = table.create(segmentBetween(client, true), true, true, index);
      flow.session = index;
      return flow;
    });
    assert.equal(table.size, clients.length);
    clients.forEach((client, index) => {
      assert.equal(table.find(segmentBetween(client, true))?.session, index);
      assert.equal(table.fromClient, true);
      assert.equal(table.find(segmentBetween(client, false))?.session, index);
      assert.equal(table.fromClient, false);
    });
    // Removing every other flow, chained ones and those found by their 4-tuple alike.
    flows.forEach((flow, index) => {
      if (index % 2 === 0) table.remove(flow);
    });
    assert.equal(table.size, clients.length / 2);
    clients.forEach((client, index) => {
      assert.equal(table.find(segmentBetween(client, true))?.session,
        index % 2 === 0 ? undefined : index);
    });
    const visited: number[] = [];
    table.forEach((flow) => visited.push(flow.session!));
    assert.deepEqual(visited.sort((a, b) => a - b),
      clients.map((_, index) => index).filter((index) => index % 2 === 1));
  });

  test('the oldest flow is the one used least recently', () => {
    const table = new FlowTable<number>();
    const flows = clients.slice(0, 12).map((client, index) => {
      const flow = table.create(segmentBetween(client, true), true, true, index);
      flow.session = index;
      return flow;
    });
    assert.equal(table.oldest(), flows[0]);
    table.find(segmentBetween(clients[0], false));
    assert.equal(table.oldest(), flows[1], 'a packet makes its flow the most recent');
    table.remove(flows[1]);
    assert.equal(table.oldest(), flows[2]);
    for (const flow of flows.slice(2)) table.remove(flow);
    assert.equal(table.oldest(), flows[0]);
    table.remove(flows[0]);
    assert.equal(table.oldest(), undefined);
    assert.equal(table.size, 0);
  });
});
