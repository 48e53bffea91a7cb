import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChildProcesses } from './child-processes.js';
import { liveTestRefusal } from './live-prerequisites.js';
import { outputLagSummary } from './sensor-diagnostics.js';
import { SensorProcess } from './sensor-process.js';
import { judgeAttribution, quitsTo, runShortLivedClients } from './short-lived-clients.js';
import { type SmtpServer, startSmtpServer } from './smtp-server.js';

const LOOPBACK = '127.0.0.1';
const CLIENTS = 200;
/** Clients running at once: a few, so that two cores are busy but not swamped. */
const CONCURRENCY = 4;
/** The last QUITs reach the sensor's output within this time of the last client's exit. */
const DRAIN_TIMEOUT_MS = 15_000;

const refusal = liveTestRefusal();

/**
 * Every one: with the kernel connect records, a client gone before its lookup is still named.
 * (Without them, /proc alone attributed 191 to 200 of 200 here.)
 */
const MINIMUM_SHARE = 100;

describe('live capture: 200 short-lived python clients on loopback',
  { skip: refusal === '' ? false : refusal }, () => {
    const children = new ChildProcesses();
    let server: SmtpServer;
    let sensor: SensorProcess | undefined;

    before(async () => {
      server = await startSmtpServer(children, { host: LOOPBACK });
      sensor = await SensorProcess.start(children,
        ['--interface', 'lo', '--ports', String(server.port)]);
    });

    after(async () => {
      await sensor?.stop();
      await children.stopAll();
    });

    test('every client\'s commands are reported, each with the client\'s own pid and python',
      async (t) => {
        const started = performance.now();
        const clients = await runShortLivedClients(children, LOOPBACK, server.port, CLIENTS,
          CONCURRENCY, 'burst');
        const clientSeconds = (performance.now() - started) / 1000;
        const allQuits = () => quitsTo(sensor!.events, server.port) >= CLIENTS;
        const drained = await sensor!.waitFor(allQuits, DRAIN_TIMEOUT_MS, `${CLIENTS} QUITs`)
          .then(() => '', (error: Error) => error.message);
        const run = await sensor!.stop();
        const outcome = judgeAttribution(run, clients);
        const share = (100 * outcome.attributed) / CLIENTS;
        t.diagnostic(`attributed ${outcome.attributed}/${CLIENTS} (${share.toFixed(1)}%), `
          + `all commands for ${outcome.withAllCommands}/${CLIENTS}, clients ran in `
          + `${clientSeconds.toFixed(1)} s (${(CLIENTS / clientSeconds).toFixed(0)}/s)`);
        t.diagnostic(`sensor attribution counters: ${JSON.stringify(run.stopLog?.attribution)}`);
        t.diagnostic(`sensor pcap counters: ${JSON.stringify(run.stopLog?.pcap)}`);
        t.diagnostic(outputLagSummary(run));
        for (const miss of outcome.unattributed) t.diagnostic(`not attributed: ${miss}`);
        assert.equal(drained, '', 'every QUIT reported');
        assert.deepEqual(outcome.problems.slice(0, 20), [],
          `${outcome.problems.length} problems, the first 20 shown`);
        const attribution = run.stopLog?.attribution as Record<string, unknown> | undefined;
        assert.ok(attribution?.connect_records !== undefined,
          'the sensor ran with the kernel connect records (attribution.connect_records auto)');
        assert.ok(share >= MINIMUM_SHARE, `share attributed ${share}% >= ${MINIMUM_SHARE}%`);
        assert.equal(run.exitCode, 0, 'the sensor exits with 0 after SIGTERM');
      });
  });
