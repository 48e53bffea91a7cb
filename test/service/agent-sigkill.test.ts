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
import { duplicateCount, LOOPBACK, QUICK_RETRY, startAgent, writeConfig }
  from './service-agent.js';

const SESSIONS = 40;
/** The collector takes this many events, then refuses (503) until the agent was killed. */
const ACCEPTED_BEFORE_REFUSING = 15;
/** The agent is killed once it printed this many events the collector refused. */
const REFUSED_BEFORE_KILL = 60;
const EVENT_TIMEOUT_MS = 20_000;

const refusal = liveTestRefusal();

describe('the agent killed with SIGKILL while it captures and spools',
  { skip: refusal === '' ? false : refusal }, () => {
    const children = new ChildProcesses();
    const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-agent-kill-'));
    const collector = new TestCollector();
    const agents: SensorProcess[] = [];

    after(async () => {
      for (const agent of agents) await agent.stop();
      await children.stopAll();
      await collector.stop();
      rmSync(scratch, { recursive: true, force: true });
    });

    test('delivers, after a restart on the same spool, every event it had emitted',
      { timeout: 60_000 }, async (t) => {
        await collector.start();
        const server = await startSmtpServer(children, { host: LOOPBACK });
        const config = join(scratch, 'config.yaml');
        writeConfig(config, {
          output: { sinks: [{ type: 'stdout' },
            { type: 'http', name: 'collector', url: collector.url, retry: QUICK_RETRY }] },
          spool: { directory: join(scratch, 'spool') },
        });
        const killed = await startAgent(children, config, server.port);
        agents.push(killed);

        const client = sendSessions(children, { host: LOOPBACK, port: server.port, tag: 'kill',
          count: SESSIONS, pauseSeconds: 0.05 });
        await waitFor('the first events at the collector',
          () => collector.received.size >= ACCEPTED_BEFORE_REFUSING, EVENT_TIMEOUT_MS);
        collector.refuseWith = 503;
        const deliveredBeforeKill = collector.received.size;
        await killed.waitFor(() => killed.events.length >= deliveredBeforeKill
          + REFUSED_BEFORE_KILL, EVENT_TIMEOUT_MS, 'events spooled but refused');
        const run = await killed.stop('SIGKILL');
        const sent = await client;
        assert.equal(run.signal, 'SIGKILL');
        assert.equal(sent.exitCode, 0, sent.stderr);
        // Every line it printed had gone through the SinkSet, so into the spool, already.
        const emitted = new Map(run.events.map((event) => [event.id, event]));
        const emittedKeys = [...commandKeysById(run.events).values()];
        assert.deepEqual(missingKeys(emittedKeys, sent.keys), [],
          'the agent printed only commands the client sent');
        assert.ok(sent.keys.length > emittedKeys.length, 'killed while the client was sending');

        collector.refuseWith = undefined;
        const restarted = await startAgent(children, config, server.port);
        agents.push(restarted);
        await waitFor('every event emitted before the kill at the collector', () =>
          [...emitted.keys()].every((id) => collector.received.has(id)), EVENT_TIMEOUT_MS);
        const stopped = await restarted.stop();

        for (const [id, event] of emitted) {
          assert.deepEqual(collector.events.get(id), event, `event ${id}, delivered`);
        }
        assert.deepEqual(collector.malformed, []);
        assert.deepEqual(collector.differingCopies, []);
        assert.equal(stopped.exitCode, 0);
        const spool = (stopped.stopLog?.outputs as { spool: Record<string, number> }).spool;
        assert.equal(spool.depth, 0, 'nothing left in the spool');
        t.diagnostic(`${sent.keys.length} commands sent, ${emitted.size} emitted before the `
          + `kill, ${deliveredBeforeKill} delivered before it, ${collector.received.size} `
          + `distinct delivered in all, ${duplicateCount(collector.received)} duplicates, `
          + `damaged records skipped at restart: ${spool.damaged_records_skipped}, `
          + `damaged bytes: ${spool.damaged_bytes_skipped}`);
      });
  });
