import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync }
  from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SpoolCursor } from '../../src/sinks/spool/spool-cursor.js';
import { RECORD_HEADER_BYTES } from '../../src/sinks/spool/spool-record.js';
import { Spool, type SpoolOptions } from '../../src/sinks/spool/spool.js';
import { range } from './helpers/test-events.js';

const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-spool-'));
let directories = 0;

/** Every payload is this long, so that record and segment sizes are known in advance. */
const PAYLOAD_BYTES = 100;
const RECORD_BYTES = RECORD_HEADER_BYTES + PAYLOAD_BYTES;

function payload(index: number): Buffer {
  return Buffer.from(`{"id":"test-${index}"}`.padEnd(PAYLOAD_BYTES, ' '));
}

function indexOf(line: Buffer): number {
  return Number((JSON.parse(line.toString()) as { id: string }).id.slice(5));
}

function openSpool(directory: string, overrides: Partial<SpoolOptions> = {}): Spool {
  return new Spool({ directory, maxBytes: 1024 * 1024, segmentBytes: 10 * RECORD_BYTES,
    syncIntervalMs: 60_000, consumers: ['collector'], ...overrides });
}

function freshDirectory(): string {
  return join(scratch, `spool-${directories++}`);
}

/** Everything the consumer has not read, in order, acknowledged as it goes. */
function drain(spool: Spool, name = 'collector'): number[] {
  const consumer = spool.consumers.get(name);
  assert.ok(consumer);
  const cursor = new SpoolCursor(spool, consumer);
  const indexes: number[] = [];
  for (let batch = cursor.next({ maxRecords: 7, maxBytes: 1 << 20 }); batch !== undefined;
    batch = cursor.next({ maxRecords: 7, maxBytes: 1 << 20 })) {
    indexes.push(...batch.payloads.map(indexOf));
    spool.acknowledge(name, batch.nextSequence);
  }
  cursor.close();
  return indexes;
}

describe('Spool', () => {
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('gives back every appended event in order, across segments', () => {
    const spool = openSpool(freshDirectory());
    for (const index of range(0, 35)) spool.append(payload(index));
    assert.ok(spool.segmentList.length >= 4, 'the events span several segments');
    assert.deepEqual(drain(spool), range(0, 35));
    spool.close();
  });

  it('resumes after a restart from the acknowledged position, and deletes delivered segments',
    () => {
      const directory = freshDirectory();
      let spool = openSpool(directory);
      for (const index of range(0, 25)) spool.append(payload(index));
      assert.deepEqual(drain(spool), range(0, 25));
      for (const index of range(25, 40)) spool.append(payload(index));
      spool.close();

      spool = openSpool(directory);
      assert.deepEqual(drain(spool), range(25, 40));
      assert.equal(spool.segmentList.length, 1, 'only the active segment is left');
      assert.equal(spool.depth, 0);
      spool.close();
    });

  it('keeps one position per sink: a slow sink does not lose what a fast one acknowledged',
    () => {
      const spool = openSpool(freshDirectory(), { consumers: ['fast', 'slow'] });
      for (const index of range(0, 30)) spool.append(payload(index));
      assert.deepEqual(drain(spool, 'fast'), range(0, 30));
      assert.equal(spool.depth, 30, 'the slow sink holds the segments');
      assert.deepEqual(drain(spool, 'slow'), range(0, 30));
      assert.equal(spool.depth, 0);
      spool.close();
    });

  it('at the size cap drops the oldest segments and counts exactly the events lost', () => {
    const directory = freshDirectory();
    // 10 records per segment, at most 4 segments (4000 bytes of 120-byte records).
    const options = { maxBytes: 40 * RECORD_BYTES, segmentBytes: 10 * RECORD_BYTES };
    let spool = openSpool(directory, options);
    for (const index of range(0, 1000)) spool.append(payload(index));
    const consumer = spool.consumers.get('collector');
    assert.ok(consumer);
    const dropped = consumer.dropped;
    spool.close();

    spool = openSpool(directory, options);
    const delivered = drain(spool);
    assert.ok(dropped > 0);
    assert.equal(delivered.length + dropped, 1000, 'every event is delivered or counted');
    assert.deepEqual(delivered, range(dropped, 1000), 'the survivors are the newest ones');
    assert.ok(spool.stats().bytes <= options.maxBytes);
    spool.close();
  });

  it('counts the events the cap drops while a batch is in flight only once', () => {
    const options = { maxBytes: 40 * RECORD_BYTES, segmentBytes: 10 * RECORD_BYTES };
    const spool = openSpool(freshDirectory(), options);
    const consumer = spool.consumers.get('collector');
    assert.ok(consumer);
    for (const index of range(0, 15)) spool.append(payload(index));
    const cursor = new SpoolCursor(spool, consumer);
    const inFlight = cursor.next({ maxRecords: 5, maxBytes: 1 << 20 });
    assert.deepEqual(inFlight?.payloads.map(indexOf), range(0, 5));
    for (const index of range(15, 100)) spool.append(payload(index));
    const rest: number[] = [];
    for (let batch = cursor.next({ maxRecords: 50, maxBytes: 1 << 20 }); batch !== undefined;
      batch = cursor.next({ maxRecords: 50, maxBytes: 1 << 20 })) {
      rest.push(...batch.payloads.map(indexOf));
    }
    assert.equal(5 + rest.length + consumer.dropped, 100);
    assert.deepEqual(rest, range(5 + consumer.dropped, 100));
    cursor.close();
    spool.close();
  });

  it('skips and counts a damaged record in a segment, and delivers the others', () => {
    const directory = freshDirectory();
    let spool = openSpool(directory);
    for (const index of range(0, 10)) spool.append(payload(index));
    const segment = spool.segmentList[0].path;
    spool.close();
    const bytes = readFileSync(segment);
    bytes[3 * RECORD_BYTES + RECORD_HEADER_BYTES + 10] ^= 0xff;
    writeFileSync(segment, bytes);

    spool = openSpool(directory);
    assert.equal(spool.stats().damaged_records_skipped, 1);
    assert.equal(spool.stats().damaged_bytes_skipped, RECORD_BYTES);
    spool.append(payload(10));
    assert.deepEqual(drain(spool), [...range(0, 3), ...range(4, 11)]);
    spool.close();
  });

  it('survives a torn tail: the cut record is counted, later events are kept', () => {
    const directory = freshDirectory();
    let spool = openSpool(directory);
    for (const index of range(0, 6)) spool.append(payload(index));
    const segment = spool.segmentList[0].path;
    spool.close();
    truncateSync(segment, 5 * RECORD_BYTES + 37);

    spool = openSpool(directory);
    assert.equal(spool.stats().damaged_bytes_skipped, 37);
    for (const index of range(6, 9)) spool.append(payload(index));
    // The torn record's write never completed, so its number is given to the next event.
    assert.deepEqual(drain(spool), [...range(0, 5), ...range(6, 9)]);
    spool.close();
  });

  it('starts on a segment of garbage without throwing, and counts it as damaged', () => {
    const directory = freshDirectory();
    let spool = openSpool(directory);
    spool.close();
    writeFileSync(join(directory, '0000000000000000.seg'), Buffer.alloc(5000, 0x5a));
    spool = openSpool(directory);
    assert.equal(spool.stats().damaged_bytes_skipped, 5000);
    spool.append(payload(1));
    assert.deepEqual(drain(spool), [1]);
    spool.close();
    assert.ok(readdirSync(join(directory, 'acks')).includes('collector.json'));
  });
});
