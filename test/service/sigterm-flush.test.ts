import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { ChildProcesses } from '../live/child-processes.js';
import { liveTestRefusal } from '../live/live-prerequisites.js';
import { REPOSITORY_ROOT, type SensorProcess, type SensorRun } from '../live/sensor-process.js';
import { type SmtpServer, startSmtpServer } from '../live/smtp-server.js';
import { TestCollector } from '../sinks/helpers/test-collector.js';
import { waitFor } from '../sinks/helpers/wait-for.js';
import { commandKeysById, type MailRun, missingKeys, sendSessionsAndSee }
  from './mail-client.js';
import { LOOPBACK, readEventFile, signalAgent, startAgent, writeConfig }
  from './service-agent.js';

const SESSIONS = 10;
const EVENT_TIMEOUT_MS = 15_000;
/**
 * Retries this slow keep a refused batch waiting for seconds: delivered within the test's
 * time only because SIGTERM wakes the sink to deliver before the agent exits.
 */
const SLOW_RETRY = { initial_ms: 20_000, max_ms: 40_000 };

/** The unit's TimeoutStopSec, in ms: past it systemd kills the agent with SIGKILL. */
function unitStopTimeoutMs(): number {
  const unit = readFileSync(join(REPOSITORY_ROOT, 'systemd', 'smtp-sensor.service'), 'utf8');
  const match = /^TimeoutStopSec=(\d+)s?$/m.exec(unit);
  assert.ok(match, 'TimeoutStopSec in the unit, in seconds');
  return Number(match[1]) * 1000;
}

const refusal = liveTestRefusal();

describe('SIGTERM: the agent delivers what it captured and exits 0 in time',
  { skip: refusal === '' ? false : refusal }, () => {
    const children = new ChildProcesses();
    const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-sigterm-'));
    const collector = new TestCollector();
    const agents: SensorProcess[] = [];
    let server: SmtpServer;
    let tests = 0;

    before(async () => {
      server = await startSmtpServer(children, { host: LOOPBACK });
      await collector.start();
    });

    after(async () => {
      for (const agent of agents) await agent.stop();
      await children.stopAll();
      await collector.stop();
      rmSync(scratch, { recursive: true, force: true });
    });

    /** An agent with stdout, a file sink and the collector, in a folder of the test's own. */
    async function startWithSinks(folder: string): Promise<SensorProcess> {
      mkdirSync(folder, { recursive: true });
      const config = join(folder, 'config.yaml');
      writeConfig(config, {
        output: { sinks: [{ type: 'stdout' }, { type: 'file', path: join(folder, 'events.json') },
          { type: 'http', name: 'collector', url: collector.url, retry: SLOW_RETRY }] },
        spool: { directory: join(folder, 'spool') },
      });
      const agent = await startAgent(children, config, server.port);
      agents.push(agent);
      return agent;
    }

    function sendAndSee(agent: SensorProcess, tag: string): Promise<MailRun> {
      return sendSessionsAndSee(children, agent,
        { host: LOOPBACK, port: server.port, tag, count: SESSIONS }, EVENT_TIMEOUT_MS);
    }

    /**
     * SIGTERM, and how long the agent took to exit, waiting as long as the unit would (the
     * live helper's own stop gives up sooner than the agent's delivery deadline).
     */
    async function terminate(agent: SensorProcess): Promise<{ run: SensorRun; ms: number }> {
      const started = Date.now();
      const exited = once(agent.child, 'close');
      signalAgent(agent, 'SIGTERM');
      await Promise.race([exited, sleep(unitStopTimeoutMs(), undefined, { ref: false })]);
      const ms = Date.now() - started;
      return { run: await agent.stop('SIGKILL'), ms };
    }

    function spoolOf(run: SensorRun): Record<string, number> {
      return (run.stopLog?.outputs as { spool: Record<string, number> }).spool;
    }

    test('a collector that refused until now: every event in the file and delivered, exit 0',
      { timeout: 60_000 }, async (t) => {
        const folder = join(scratch, `test-${tests++}`);
        collector.refuseWith = 503;
        const agent = await startWithSinks(folder);
        const sent = await sendAndSee(agent, 'term');
        await agent.waitFor(() => collector.requests.some((request) => request.status === 503),
          EVENT_TIMEOUT_MS, 'a refused batch');
        collector.refuseWith = undefined;
        const { run, ms } = await terminate(agent);

        assert.equal(run.exitCode, 0);
        assert.ok(ms < unitStopTimeoutMs(), `exited in ${ms} ms`);
        const inFile = [...commandKeysById(readEventFile(join(folder, 'events.json'))).values()];
        assert.deepEqual(inFile.sort(), [...sent.keys].sort(), 'the file sink');
        const delivered = [...commandKeysById(collector.events.values()).values()];
        assert.deepEqual(missingKeys(sent.keys, delivered), [], 'delivered to the collector');
        assert.equal(spoolOf(run).depth, 0, 'nothing left in the spool');
        t.diagnostic(`${sent.keys.length} commands, exit 0 after ${ms} ms (unit allows `
          + `${unitStopTimeoutMs()} ms), ${collector.received.size} delivered`);
      });

    test('a collector away: exit 0 in time, and the next start delivers what was left',
      { timeout: 60_000 }, async (t) => {
        const folder = join(scratch, `test-${tests++}`);
        collector.refuseWith = 503;
        const agent = await startWithSinks(folder);
        const sent = await sendAndSee(agent, 'away');
        const { run, ms } = await terminate(agent);
        assert.equal(run.exitCode, 0);
        assert.ok(ms < unitStopTimeoutMs(), `exited in ${ms} ms`);
        const left = spoolOf(run).depth;
        assert.ok(left >= sent.keys.length, `${left} events left in the spool`);

        collector.refuseWith = undefined;
        const next = await startWithSinks(folder);
        await waitFor('the events left in the spool at the collector', () => missingKeys(
          sent.keys, commandKeysById(collector.events.values()).values()).length === 0,
        EVENT_TIMEOUT_MS);
        const { run: nextRun } = await terminate(next);
        assert.equal(nextRun.exitCode, 0);
        assert.equal(spoolOf(nextRun).depth, 0);
        t.diagnostic(`exit 0 after ${ms} ms with ${left} events undelivered; the next start `
          + 'delivered them');
      });
  });
