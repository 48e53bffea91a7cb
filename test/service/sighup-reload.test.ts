import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { ChildProcesses } from '../live/child-processes.js';
import { liveTestRefusal } from '../live/live-prerequisites.js';
import type { SensorProcess } from '../live/sensor-process.js';
import { type SmtpServer, startSmtpServer } from '../live/smtp-server.js';
import { TestCollector } from '../sinks/helpers/test-collector.js';
import { commandKeysById, type EventRecord, type MailRun, sendSessionsAndSee }
  from './mail-client.js';
import { LOG_LEVEL, LOOPBACK, logsWithMessage, QUICK_RETRY, readEventFile, signalAgent,
  startAgent, writeConfig } from './service-agent.js';

const SESSIONS = 5;
const EVENT_TIMEOUT_MS = 15_000;
/** A reload that replaces the outputs gives the old ones up to 2 s (RELOAD_CLOSE_MS). */
const RELOAD_TIMEOUT_MS = 10_000;
const REOPENED = 'configuration reloaded, output files reopened';
const REPLACED = 'configuration reloaded, outputs replaced';
/** Well past the time a SIGHUP takes to read the file, well within RELOAD_CLOSE_MS. */
const FIRST_RELOAD_READ_MS = 500;

const refusal = liveTestRefusal();

/** The verbs of events, upper case, in order: what a filtered file received. */
function verbs(events: readonly EventRecord[]): string[] {
  return events.map((event) => String(event.SmtpVerb).toUpperCase());
}

describe('SIGHUP: the agent reopens its files and applies a new configuration',
  { skip: refusal === '' ? false : refusal }, () => {
    const children = new ChildProcesses();
    const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-sighup-'));
    const agents: SensorProcess[] = [];
    let server: SmtpServer;
    let tests = 0;

    before(async () => {
      server = await startSmtpServer(children, { host: LOOPBACK });
    });

    after(async () => {
      for (const agent of agents) await agent.stop();
      await children.stopAll();
      rmSync(scratch, { recursive: true, force: true });
    });

    /**
     * A folder of the test's own, its file sink's path, a configuration file there (made by
     * `config` from that path) and an agent started on it.
     */
    async function agentWith(config: (path: string, folder: string) => Record<string, unknown>) {
      const folder = join(scratch, `test-${tests++}`);
      mkdirSync(folder);
      const path = join(folder, 'events.json');
      const configPath = join(folder, 'config.yaml');
      writeConfig(configPath, config(path, folder));
      const agent = await startAgent(children, configPath, server.port);
      agents.push(agent);
      return { folder, path, configPath, agent };
    }

    function sendAndSee(agent: SensorProcess, tag: string): Promise<MailRun> {
      return sendSessionsAndSee(children, agent,
        { host: LOOPBACK, port: server.port, tag, count: SESSIONS }, EVENT_TIMEOUT_MS);
    }

    /** Sends SIGHUP and waits for the log line that says the reload is done. */
    async function reload(agent: SensorProcess, expected: string): Promise<void> {
      const before = agent.logs.length;
      signalAgent(agent, 'SIGHUP');
      await agent.waitFor(() => logsWithMessage(agent, expected, before).length === 1,
        RELOAD_TIMEOUT_MS, `"${expected}" after SIGHUP`);
    }

    /** stdout (every event) and a file sink with this filter. */
    const filteredFile = (where: string | undefined) => (path: string) => ({
      output: { sinks: [{ type: 'stdout' }, { type: 'file', path, where }] },
    });

    test('a file renamed away (logrotate): later events go to a new file at the path',
      { timeout: 60_000 }, async (t) => {
        const { path, agent } = await agentWith(filteredFile(undefined));
        const before = await sendAndSee(agent, 'rotate-before');
        renameSync(path, `${path}.1`);
        await reload(agent, REOPENED);
        const afterwards = await sendAndSee(agent, 'rotate-after');
        await agent.waitFor(() => readEventFile(path).length === afterwards.keys.length,
          EVENT_TIMEOUT_MS, 'the new events in the new file');
        assert.deepEqual([...commandKeysById(readEventFile(`${path}.1`)).values()].sort(),
          [...before.keys].sort(), 'the renamed file holds the events before SIGHUP, only');
        assert.deepEqual([...commandKeysById(readEventFile(path)).values()].sort(),
          [...afterwards.keys].sort(), 'the new file holds the events after SIGHUP, only');
        t.diagnostic(`${before.keys.length} events in the renamed file, `
          + `${afterwards.keys.length} in the new one`);
      });

    test('a changed filter applies to the events after SIGHUP', { timeout: 60_000 }, async () => {
      const { path, configPath, agent } = await agentWith(filteredFile('SmtpCommandKind=MAIL'));
      await sendAndSee(agent, 'filter-mail');
      writeConfig(configPath, filteredFile('SmtpCommandKind=RCPT')(path));
      await reload(agent, REPLACED);
      await sendAndSee(agent, 'filter-rcpt');
      await agent.waitFor(() => readEventFile(path).length === 2 * SESSIONS, EVENT_TIMEOUT_MS,
        'the filtered events in the file');
      assert.deepEqual(verbs(readEventFile(path)), [...Array(SESSIONS).fill('MAIL'),
        ...Array(SESSIONS).fill('RCPT')]);
    });

    test('a broken configuration is refused with one error; the running one is kept',
      { timeout: 60_000 }, async () => {
        const { path, configPath, agent } = await agentWith(filteredFile('SmtpCommandKind=MAIL'));
        const logsBefore = agent.logs.length;
        writeConfig(configPath, { output: { sinks: [{ type: 'kafka' }] } });
        await reload(agent, 'configuration reload refused');
        const complaints = agent.logs.slice(logsBefore)
          .filter((line) => Number(line.level) >= LOG_LEVEL.warn);
        assert.equal(complaints.length, 1, JSON.stringify(complaints));
        assert.equal(complaints[0].level, LOG_LEVEL.error);
        assert.match(String(complaints[0].error), /^output\.sinks\[0\]\.type: .*'stdout'/);
        await sendAndSee(agent, 'refused');
        await agent.waitFor(() => readEventFile(path).length === SESSIONS, EVENT_TIMEOUT_MS,
          'the MAIL events in the file');
        assert.deepEqual(verbs(readEventFile(path)), Array(SESSIONS).fill('MAIL'));
      });

    test('a change to attribution is logged as waiting for a restart, and not applied',
      { timeout: 60_000 }, async () => {
        const { path, configPath, agent } = await agentWith(filteredFile(undefined));
        const logsBefore = agent.logs.length;
        writeConfig(configPath, { ...filteredFile(undefined)(path),
          attribution: { connect_records: 'off' } });
        await reload(agent, 'settings changed that apply when the sensor restarts');
        const [warning] = logsWithMessage(agent,
          'settings changed that apply when the sensor restarts', logsBefore);
        assert.equal(warning.section, 'attribution');
        await sendAndSee(agent, 'attribution-unchanged');
        const run = await agent.stop();
        const attribution = run.stopLog?.attribution as Record<string, unknown>;
        assert.ok(Number(attribution.connect_record_hits) > 0, 'still in use after SIGHUP');
      });

    test('outputs that cannot be opened are refused; the running ones keep working',
      { timeout: 60_000 }, async () => {
        const { folder, path, configPath, agent } = await agentWith(filteredFile(undefined));
        writeConfig(configPath,
          filteredFile(undefined)(join(folder, 'no-such-folder', 'events.json')));
        await reload(agent, 'outputs could not be replaced, the running ones are kept');
        const run = await sendAndSee(agent, 'unopenable');
        await agent.waitFor(() => readEventFile(path).length === run.keys.length,
          EVENT_TIMEOUT_MS, 'the events in the file of the running configuration');
        const stopped = await agent.stop();
        const sinks = (stopped.stopLog?.outputs as { sinks: Record<string, { written: number;
          lost: number; write_errors: number }> }).sinks;
        assert.deepEqual([sinks.file.written, sinks.file.lost, sinks.file.write_errors],
          [run.keys.length, 0, 0], 'file sink written, lost, write errors');
        assert.equal(stopped.exitCode, 0);
      });

    test('a second SIGHUP while outputs are being replaced is not lost',
      { timeout: 60_000 }, async () => {
      // A collector that refuses keeps the old outputs delivering for RELOAD_CLOSE_MS.
      const collector = new TestCollector();
      collector.refuseWith = 503;
      await collector.start();
      try {
        const withCollector = (where: string) => (path: string, folder: string) => ({
          output: { sinks: [{ type: 'stdout' }, { type: 'file', path, where },
            { type: 'http', name: 'collector', url: collector.url, retry: QUICK_RETRY }] },
          spool: { directory: join(folder, 'spool') },
        });
        const { folder, path, configPath, agent } =
          await agentWith(withCollector('SmtpCommandKind=MAIL'));
        await sendAndSee(agent, 'pending');
        writeConfig(configPath, withCollector('SmtpCommandKind=RCPT')(path, folder));
        signalAgent(agent, 'SIGHUP');
        // The first reload has read its file, and is waiting for the old outputs to close.
        await sleep(FIRST_RELOAD_READ_MS);
        writeConfig(configPath, withCollector('SmtpVerb=QUIT')(path, folder));
        await reload(agent, REPLACED);
        await sendAndSee(agent, 'latest');
        await agent.waitFor(() => readEventFile(path).length === 2 * SESSIONS,
          EVENT_TIMEOUT_MS, 'the filtered events in the file');
        assert.deepEqual(verbs(readEventFile(path)), [...Array(SESSIONS).fill('MAIL'),
          ...Array(SESSIONS).fill('QUIT')], 'the last configuration written applies');
        assert.equal(logsWithMessage(agent, REPLACED).length, 1, 'the outputs replaced once');
      } finally {
        await collector.stop();
      }
    });
  });
