import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ChildProcesses } from '../live/child-processes.js';
import { liveTestRefusal } from '../live/live-prerequisites.js';
import type { SensorProcess } from '../live/sensor-process.js';
import { startSmtpServer } from '../live/smtp-server.js';
import { TestCollector } from '../sinks/helpers/test-collector.js';
import { waitFor } from '../sinks/helpers/wait-for.js';
import { commandKeysById, missingKeys, sendSessions } from './mail-client.js';
import { duplicateCount, LOG_LEVEL, LOOPBACK, logsWithMessage, QUICK_RETRY, startAgent,
  writeConfig } from './service-agent.js';

/** Sessions sent while the collector is up (it is stopped part-way), then while it is down. */
const SESSIONS_WHILE_UP = 20;
const SESSIONS_WHILE_DOWN = 20;
/** The collector is stopped once this many events reached it, the first client still sending. */
const EVENTS_BEFORE_OUTAGE = 25;
const EVENT_TIMEOUT_MS = 15_000;

const refusal = liveTestRefusal();

describe('the agent ships to an http collector across the collector\'s outage',
  { skip: refusal === '' ? false : refusal }, () => {
    const children = new ChildProcesses();
    const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-outage-'));
    const collector = new TestCollector();
    let agent: SensorProcess | undefined;

    after(async () => {
      await agent?.stop();
      await children.stopAll();
      await collector.stop();
      rmSync(scratch, { recursive: true, force: true });
    });

    test('every command sent reaches the collector at least once, none corrupted',
      { timeout: 60_000 }, async (t) => {
        await collector.start();
        const server = await startSmtpServer(children, { host: LOOPBACK });
        const config = join(scratch, 'config.yaml');
        writeConfig(config, {
          // On lo (MTU 64 KiB) libpcap's immediate-mode ring has a 64 KiB frame per packet: the
          // default 32 MiB holds about 500 packets, which a busy machine's pause overflows.
          // This test is about the collector, not capture capacity.
          capture: { buffer_mib: 256 },
          output: { sinks: [{ type: 'stdout' },
            { type: 'http', name: 'collector', url: collector.url, retry: QUICK_RETRY }] },
          spool: { directory: join(scratch, 'spool') },
        });
        agent = await startAgent(children, config, server.port);
        const sensor = agent;

        // Stopped mid-stream: the first client is still sending when the collector goes.
        const first = sendSessions(children, { host: LOOPBACK, port: server.port, tag: 'up',
          count: SESSIONS_WHILE_UP, pauseSeconds: 0.1 });
        await waitFor('the first events at the collector',
          () => collector.received.size >= EVENTS_BEFORE_OUTAGE, EVENT_TIMEOUT_MS);
        await collector.stop();
        const deliveredBeforeOutage = collector.received.size;
        const whileUp = await first;
        const whileDown = await sendSessions(children, { host: LOOPBACK, port: server.port,
          tag: 'down', count: SESSIONS_WHILE_DOWN });
        assert.equal(whileUp.exitCode, 0, whileUp.stderr);
        assert.equal(whileDown.exitCode, 0, whileDown.stderr);
        const sent = [...whileUp.keys, ...whileDown.keys];

        // The agent saw every command and could not deliver the last ones: it says so.
        const missingOnStdout = () => missingKeys(sent, commandKeysById(sensor.events).values());
        await sensor.waitFor(() => missingOnStdout().length === 0, EVENT_TIMEOUT_MS,
          'every command sent on the agent\'s stdout').catch(async (error: Error) => {
          // Seen in loaded full runs (the last sessions, whole): say which, and what pcap lost.
          const missing = missingOnStdout();
          const run = await sensor.stop();
          throw new Error(`${error.message}\n${missing.length} missing: `
            + `${missing.slice(0, 10).join(', ')}\npcap: ${JSON.stringify(run.stopLog?.pcap)}`);
        });
        await sensor.waitFor(() => logsWithMessage(sensor,
          'sink send failed, retrying with backoff').length > 0, EVENT_TIMEOUT_MS,
        'the log line of the failed sends');
        assert.ok(collector.received.size < sent.length, 'the outage held events back');

        await collector.start();
        await waitFor('every command sent at the restarted collector', () => missingKeys(sent,
          commandKeysById(collector.events.values()).values()).length === 0, EVENT_TIMEOUT_MS);

        const emitted = new Map(sensor.events.map((event) => [event.id, event]));
        for (const [id, event] of collector.events) {
          assert.deepEqual(event, emitted.get(id), `event ${id} as delivered and as emitted`);
        }
        assert.deepEqual(collector.malformed, []);
        assert.deepEqual(collector.differingCopies, []);
        assert.deepEqual(logsWithMessage(sensor, 'sink delivering again').length, 1);
        assert.equal(sensor.logs.filter((line) => line.level === LOG_LEVEL.error).length, 0);
        t.diagnostic(`${sent.length} commands sent (${SESSIONS_WHILE_UP} + `
          + `${SESSIONS_WHILE_DOWN} sessions), ${deliveredBeforeOutage} delivered before the `
          + `outage, ${collector.received.size} distinct delivered in all, `
          + `${duplicateCount(collector.received)} duplicates, `
          + `${collector.requests.length} requests`);
      });
  });
