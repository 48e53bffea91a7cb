import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SinkSet } from '../../src/sinks/sink-set.js';
import { makeCertificates, type TestCertificates } from './helpers/certificates.js';
import { recordingLogger } from './helpers/recording-logger.js';
import { QUICK_RETRY, sinkConfig } from './helpers/sink-config.js';
import { TestCollector } from './helpers/test-collector.js';
import { indexesOf, range, testEvent } from './helpers/test-events.js';
import { waitFor } from './helpers/wait-for.js';

const TOKEN = 's3cret-token-for-tests';
const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-http-'));
const tokenFile = join(scratch, 'token');
let certificates: TestCertificates;
let spools = 0;
const cleanups: (() => Promise<void>)[] = [];

function spoolDirectory(): string {
  return join(scratch, `spool-${spools++}`);
}

async function startCollector(tls: boolean, token = TOKEN): Promise<TestCollector> {
  const collector = new TestCollector({ token,
    tls: tls ? { cert: certificates.cert, key: certificates.key } : undefined });
  await collector.start();
  cleanups.push(() => collector.stop());
  return collector;
}

function httpSinks(collector: TestCollector, extra: Record<string, unknown> = {}) {
  const { log, lines } = recordingLogger();
  const config = sinkConfig(spoolDirectory(), [{ type: 'http', url: collector.url,
    token_file: tokenFile, ca_file: certificates.caPath, retry: QUICK_RETRY, ...extra }]);
  const sinks = new SinkSet(config, log);
  cleanups.push(() => sinks.close(Date.now()));
  return { sinks, logLines: lines };
}

describe('http sink', () => {
  before(() => {
    certificates = makeCertificates(scratch);
    writeFileSync(tokenFile, `${TOKEN}\n`);
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('POSTs gzip-compressed JSON lines over TLS checked against a custom CA, with the token',
    async () => {
      const collector = await startCollector(true);
      const { sinks } = httpSinks(collector);
      for (const index of range(0, 300)) sinks.write(testEvent(index));
      await waitFor('300 events at the collector', () => collector.received.size === 300);
      assert.deepEqual(indexesOf(collector.received.keys()), range(0, 300));
      assert.ok(collector.requests.every((request) => request.encoding === 'gzip'
        && request.contentType === 'application/x-ndjson' && request.status === 204));
      assert.deepEqual(collector.malformed, []);
      await sinks.close(Date.now() + 5000);
      assert.equal(sinks.stats().sinks.http.type, 'http');
      assert.equal(sinks.stats().spool?.depth, 0);
    });

  it('sends a run of events in few requests of several events, none over batch.max_events',
    async () => {
      const events = 300;
      const maxEvents = 64;
      const collector = await startCollector(false);
      const { sinks } = httpSinks(collector, { batch: { max_events: maxEvents } });
      for (const index of range(0, events)) sinks.write(testEvent(index));
      await waitFor('300 events at the collector', () => collector.received.size === events);
      await sinks.close(Date.now() + 5000);
      const sizes = collector.requests.map((request) => request.events);
      assert.ok(collector.requests.every((request) => request.status === 204));
      assert.equal(sizes.reduce((sum, size) => sum + size, 0), events, 'each event sent once');
      // Two more than the minimum: a batch may close early when the shipper wakes between
      // appends.
      assert.ok(sizes.length <= Math.ceil(events / maxEvents) + 2, `batch sizes ${sizes}`);
      assert.ok(sizes.some((size) => size > 1), `batch sizes ${sizes}`);
      assert.ok(sizes.every((size) => size <= maxEvents), `batch sizes ${sizes}`);
    });

  it('retries refused batches with backoff, acknowledges only a 2xx, never logs the token',
    async () => {
      const collector = await startCollector(false, TOKEN);
      collector.refuseWith = 503;
      const { sinks, logLines } = httpSinks(collector, { gzip: false });
      for (const index of range(0, 50)) sinks.write(testEvent(index));
      await waitFor('a few refused attempts', () => collector.requests.length >= 3);
      assert.equal(collector.received.size, 0);
      assert.equal(sinks.stats().spool?.depth, 50, 'nothing is acknowledged yet');
      collector.refuseWith = undefined;
      await waitFor('50 events at the collector', () => collector.received.size === 50);
      const stats = sinks.stats().sinks.http;
      assert.ok('send_errors' in stats && stats.send_errors >= 3);
      assert.ok(collector.requests.every((request) => request.encoding === undefined));
      await sinks.close(Date.now() + 5000);
      assert.ok(logLines.some((line) => line.includes('sink send failed')));
      assert.ok(logLines.every((line) => !line.includes(TOKEN)));
    });

  it('delivers nothing to a server whose certificate the configured CA did not sign',
    async () => {
      const collector = await startCollector(true);
      const otherCa = join(scratch, 'other');
      rmSync(otherCa, { recursive: true, force: true });
      const { mkdirSync } = await import('node:fs');
      mkdirSync(otherCa);
      const other = makeCertificates(otherCa);
      const { sinks } = httpSinks(collector, { ca_file: other.caPath });
      sinks.write(testEvent(1));
      await waitFor('a failed TLS attempt', () => {
        const stats = sinks.stats().sinks.http;
        return 'send_errors' in stats && stats.send_errors >= 1;
      });
      assert.equal(collector.requests.length, 0);
      assert.equal(sinks.stats().spool?.depth, 1);
    });

  it('closes within its deadline while the collector is away, keeping the events spooled',
    async () => {
      const collector = await startCollector(false);
      await collector.stop();
      const directory = spoolDirectory();
      const config = sinkConfig(directory, [{ type: 'http', url: collector.url,
        token_file: tokenFile, retry: QUICK_RETRY }]);
      const sinks = new SinkSet(config, recordingLogger().log);
      for (const index of range(0, 20)) sinks.write(testEvent(index));
      const started = Date.now();
      await sinks.close(started + 300);
      assert.ok(Date.now() - started < 1000, `closed after ${Date.now() - started} ms`);
      assert.equal(sinks.stats().spool?.depth, 20);

      await collector.start();
      const reopened = new SinkSet(sinkConfig(directory, [{ type: 'http', url: collector.url,
        token_file: tokenFile, retry: QUICK_RETRY }]), recordingLogger().log);
      cleanups.push(() => reopened.close(Date.now()));
      await waitFor('the spooled events after a restart', () => collector.received.size === 20);
      assert.deepEqual(indexesOf(collector.received.keys()), range(0, 20));
    });

  it('sends only what its where expression selects, and counts the rest as filtered',
    async () => {
      const collector = await startCollector(false);
      const { sinks } = httpSinks(collector, { where: 'SmtpCommandKind=MAIL' });
      for (const index of range(0, 40)) sinks.write(testEvent(index, index % 2 === 0 ? '4' : '5'));
      await waitFor('the MAIL events', () => collector.received.size === 20);
      await sinks.close(Date.now() + 5000);
      assert.deepEqual(indexesOf(collector.received.keys()), range(0, 20).map((i) => i * 2));
      const stats = sinks.stats().sinks.http;
      assert.ok('filtered' in stats && stats.filtered === 20);
    });

  it('loses nothing when the collector stops mid-stream and comes back', async () => {
    const collector = await startCollector(false);
    const { sinks } = httpSinks(collector);
    let written = 0;
    const writeSome = (count: number) => {
      for (const index of range(written, written + count)) sinks.write(testEvent(index));
      written += count;
    };
    writeSome(200);
    await waitFor('the first events', () => collector.received.size > 0);
    await collector.stop();
    // Capture goes on while the collector is away: the writes must not wait for it.
    const started = Date.now();
    for (let round = 0; round < 10; round++) {
      writeSome(100);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    assert.ok(Date.now() - started < 5000);
    await collector.start();
    writeSome(300);
    await waitFor('all 1500 events', () => collector.received.size === 1500, 30_000);
    assert.deepEqual(indexesOf(collector.received.keys()), range(0, 1500));
    assert.deepEqual(collector.malformed, []);
    const stats = sinks.stats().sinks.http;
    assert.ok('send_errors' in stats && stats.send_errors >= 1, 'the outage was seen');
    await sinks.close(Date.now() + 5000);
  });
});
