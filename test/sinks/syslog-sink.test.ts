import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SinkSet } from '../../src/sinks/sink-set.js';
import { makeCertificates, type TestCertificates } from './helpers/certificates.js';
import { recordingLogger } from './helpers/recording-logger.js';
import { RsyslogServer } from './helpers/rsyslog-server.js';
import { QUICK_RETRY, sinkConfig } from './helpers/sink-config.js';
import { indexesOf, range, testEvent } from './helpers/test-events.js';
import { waitFor } from './helpers/wait-for.js';

const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-syslog-'));
let certificates: TestCertificates;
let runs = 0;
const cleanups: (() => Promise<void>)[] = [];

async function startRsyslog(tls: boolean): Promise<RsyslogServer> {
  const server = new RsyslogServer(join(scratch, `rsyslog-${runs++}`),
    tls ? certificates : undefined);
  await server.start();
  cleanups.push(() => server.stop());
  return server;
}

function syslogSinks(server: RsyslogServer, options: Record<string, unknown>): SinkSet {
  const config = sinkConfig(join(scratch, `spool-${runs++}`), [{ type: 'syslog',
    host: '127.0.0.1', port: server.port, retry: QUICK_RETRY, ...options }]);
  const sinks = new SinkSet(config, recordingLogger().log);
  cleanups.push(() => sinks.close(Date.now()));
  return sinks;
}

function receivedIds(server: RsyslogServer): Set<string> {
  return new Set(server.messages().map((message) => (JSON.parse(message.msg) as
    { id: string }).id));
}

describe('syslog sink, against a real rsyslog', () => {
  before(() => {
    certificates = makeCertificates(scratch);
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('sends RFC 5424 messages with octet-counted framing over TCP, the event JSON as MSG',
    async () => {
      const server = await startRsyslog(false);
      const sinks = syslogSinks(server, { facility: 'local3' });
      for (const index of range(0, 200)) sinks.write(testEvent(index));
      await waitFor('200 messages in rsyslog', () => server.messages().length >= 200);
      await sinks.close(Date.now() + 5000);
      const messages = server.messages();
      assert.deepEqual(indexesOf(receivedIds(server)), range(0, 200));
      assert.deepEqual(JSON.parse(messages[7].msg), testEvent(7));
      assert.deepEqual(new Set(messages.map((message) =>
        `${message.msgid} ${message.appName} ${message.hostname} ${message.facility}`)),
      new Set(['SmtpCommand smtp-sensor sensor-test local3']));
    });

  it('sends over TLS (RFC 5425), checking the server against the configured CA',
    async () => {
      const server = await startRsyslog(true);
      const sinks = syslogSinks(server, { tls: true, ca_file: certificates.caPath });
      for (const index of range(0, 100)) sinks.write(testEvent(index));
      await waitFor('100 messages in rsyslog over TLS', () => server.messages().length >= 100);
      await sinks.close(Date.now() + 5000);
      assert.deepEqual(indexesOf(receivedIds(server)), range(0, 100));
    });

  it('refuses a TLS server its CA did not sign, and keeps the events spooled', async () => {
    const server = await startRsyslog(true);
    const sinks = syslogSinks(server, { tls: true });
    sinks.write(testEvent(1));
    await waitFor('a failed TLS attempt', () => {
      const stats = sinks.stats().sinks.syslog;
      return 'send_errors' in stats && stats.send_errors >= 1;
    });
    assert.equal(server.messages().length, 0);
    assert.equal(sinks.stats().spool?.depth, 1);
  });

  it('loses nothing when rsyslog restarts mid-stream', async () => {
    const server = await startRsyslog(false);
    const sinks = syslogSinks(server, {});
    let written = 0;
    const writeSome = (count: number) => {
      for (const index of range(written, written + count)) sinks.write(testEvent(index));
      written += count;
    };
    writeSome(100);
    await waitFor('the first messages', () => server.messages().length > 0);
    await server.stop();
    for (let round = 0; round < 5; round++) {
      writeSome(100);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await server.start();
    writeSome(100);
    await waitFor('all 700 events in rsyslog', () => receivedIds(server).size === 700, 30_000);
    assert.deepEqual(indexesOf(receivedIds(server)), range(0, 700));
    const stats = sinks.stats().sinks.syslog;
    assert.ok('send_errors' in stats && stats.send_errors >= 1, 'the outage was seen');
    await sinks.close(Date.now() + 5000);
  });
});
