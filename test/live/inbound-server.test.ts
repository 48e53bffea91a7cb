import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChildProcesses } from './child-processes.js';
import { freePort } from './free-port.js';
import { type IsolatedSensor, startIsolatedSensor } from './isolated-sensor.js';
import { liveTestRefusal } from './live-prerequisites.js';
import { NetworkNamespace } from './network-namespace.js';
import { assertDialogue, assertEndpoints, assertEveryCommandNames, oneMessageDialogue }
  from './process-fields.js';
import { RECIPIENT, SENDER, parseSelfReport, sendOneMessageArgv } from './python-smtp-clients.js';
import { nonZeroAttributionCounters, outputLagSummary } from './sensor-diagnostics.js';
import { SensorProcess, type SensorRun } from './sensor-process.js';
import { SYSTEM_PYTHON, sinkServerArgv, startSmtpServer } from './smtp-server.js';
import { quitReported, sessionsGreetingAs } from './smtp-sessions.js';

const CLIENT_TIMEOUT_MS = 20_000;
const EVENT_TIMEOUT_MS = 10_000;
/** Long enough for any lookup: the client then lives as long as one across a network. */
const PAUSE_SECONDS = 0.5;

const refusal = liveTestRefusal();

/**
 * A client in a network namespace is a local process for the sensor (docs/process-attribution.md,
 * "Network namespaces"): it is reported as outbound, with the client. A remote client is one
 * whose process the sensor cannot see; the sensor and the server then run in a PID namespace
 * of their own (isolated-sensor.ts), and the client, in a network namespace, plays a machine
 * across the network.
 */
describe('live capture: inbound connections to a local server (--inbound)',
  { skip: refusal === '' ? false : refusal }, () => {
    const children = new ChildProcesses();
    const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-live-inbound-'));
    let remote: NetworkNamespace | undefined;
    let inbound: (IsolatedSensor & { port: number; serverArgv: string[] }) | undefined;
    const sensors: SensorProcess[] = [];

    before(async () => {
      remote = NetworkNamespace.create('r');
      inbound = await isolatedSensor(true);
    });

    after(async () => {
      await Promise.all(sensors.map((sensor) => sensor.stop()));
      await children.stopAll();
      remote?.delete();
      rmSync(scratch, { recursive: true, force: true });
    });

    /** Sends one message from inside the namespace; resolves with the client's self-report. */
    async function sendFromRemote(port: number, ehloName: string, pauseSeconds: number) {
      const argv = remote!.exec(sendOneMessageArgv(remote!.hostAddress, port, ehloName,
        pauseSeconds));
      const client = await children.run(argv[0], argv.slice(1), { timeoutMs: CLIENT_TIMEOUT_MS });
      assert.equal(client.exitCode, 0, client.stderr);
      return parseSelfReport(client.stdout);
    }

    async function isolatedSensor(reportInbound: boolean) {
      const port = await freePort(remote!.hostAddress);
      const serverArgv = sinkServerArgv(remote!.hostAddress, port);
      const args = ['--interface', remote!.hostInterface, '--ports', String(port),
        ...reportInbound ? ['--inbound'] : []];
      const isolated = await startIsolatedSensor(children, scratch, serverArgv,
        { host: remote!.hostAddress, port }, args);
      sensors.push(isolated.sensor);
      return { ...isolated, port, serverArgv };
    }

    /** The remote client's commands are reported once, naming the server, direction 1. */
    async function remoteClientNamesServer(ehloName: string, pauseSeconds: number) {
      const { sensor, serverPidInside, port, serverArgv } = inbound!;
      await sendFromRemote(port, ehloName, pauseSeconds);
      await sensor.waitFor(() => quitReported(ehloName)(sensor.events), EVENT_TIMEOUT_MS,
        `QUIT of ${ehloName}`);
      const sessions = sessionsGreetingAs(sensor.events, ehloName);
      assert.equal(sessions.length, 1, 'one session, reported once');
      assertDialogue(sessions[0], oneMessageDialogue(ehloName, SENDER, RECIPIENT, 'lower'));
      assertEveryCommandNames(sessions[0], {
        ContextProcessId: serverPidInside,
        ParentProcessId: '1',
        UserId: '0',
        UserName: 'root',
        ImageFileName: realpathSync(SYSTEM_PYTHON),
        CommandLine: serverArgv.join(' '),
        ConnectionDirection: '1',
      });
      assertEndpoints(sessions[0], remote!.namespaceAddress, remote!.hostAddress, port);
    }

    test('a remote client pausing after the greeting: its commands name the server process, '
      + 'direction 1', async (t) => {
      t.diagnostic(`server: pid ${inbound!.serverPidInside} in the sensor's PID namespace, `
        + `${inbound!.serverHostPid} on the host`);
      await remoteClientNamesServer('remote-pausing.example', PAUSE_SECONDS);
    });

    test('a remote client sending at once, done in milliseconds: the same', async () => {
      await remoteClientNamesServer('remote-at-once.example', 0);
    });

    test('the inbound sensor counted both connections as inbound and stops cleanly', async (t) => {
      const run = await inbound!.sensor.stop();
      t.diagnostic(nonZeroAttributionCounters(run));
      t.diagnostic(outputLagSummary(run));
      assert.equal(attributionCounter(run, 'inbound_connections'), 2);
      // The clients are the host's processes, outside the sensor's PID namespace: the kernel
      // saw them connect, and kept no record the sensor could take for one of its own.
      const records = attributionCounter(run, 'connect_records') as Record<string, number>;
      assert.equal(records.recorded, 0);
      assert.ok(records.outside_pid_namespace >= 2, JSON.stringify(records));
      assert.equal(run.exitCode, 0, 'the sensor exits with 0 after SIGTERM');
    });

    test('without --inbound: nothing is reported for the remote client\'s connection',
      async (t) => {
        const { sensor, port } = await isolatedSensor(false);
        await sendFromRemote(port, 'ignored-remote.example', 0);
        // The sensor processes what it captured before it exits on SIGTERM: once the client
        // has exited, stopping the sensor is enough to see everything it would report.
        const run = await sensor.stop();
        t.diagnostic(nonZeroAttributionCounters(run));
        assert.deepEqual(run.events.filter((event) => event.event_simpleName === 'SmtpCommand'),
          [], 'no command event');
        assert.equal(attributionCounter(run, 'inbound_connections_ignored'), 1,
          'the connection was captured, and left out as inbound');
      });

    test('a client in the sensor\'s own PID namespace is named, with its pid there',
      async () => {
        const { sensor, port } = await isolatedSensor(false);
        const ehloName = 'inside-pid-namespace.example';
        const pythonArgv = sendOneMessageArgv(remote!.hostAddress, port, ehloName,
          PAUSE_SECONDS);
        // Into the sensor's PID and mount namespaces (its /proc), and the remote's network.
        const argv = ['nsenter', `--target=${sensor.sensorPid}`, '--pid', '--mount',
          `--net=/run/netns/${remote!.name}`, ...pythonArgv];
        const client = await children.run(argv[0], argv.slice(1),
          { timeoutMs: CLIENT_TIMEOUT_MS });
        assert.equal(client.exitCode, 0, client.stderr);
        const self = parseSelfReport(client.stdout);
        await sensor.waitFor(() => quitReported(ehloName)(sensor.events), EVENT_TIMEOUT_MS,
          `QUIT of ${ehloName}`);
        const run = await sensor.stop();
        const [session] = sessionsGreetingAs(run.events, ehloName);
        assertEveryCommandNames(session, {
          ContextProcessId: String(self.pid),
          ParentProcessId: '0', // nsenter, outside the namespace
          UserId: '0',
          UserName: 'root',
          ImageFileName: realpathSync(SYSTEM_PYTHON),
          CommandLine: pythonArgv.join(' '),
          ConnectionDirection: '0',
        });
        const records = attributionCounter(run, 'connect_records') as Record<string, number>;
        assert.equal(records.recorded, 1);
      });

    test('with --inbound: a client the sensor can see (in a namespace) is reported once, '
      + 'as outbound, with the client process', async (t) => {
      const server = await startSmtpServer(children, { host: remote!.hostAddress });
      const sensor = await SensorProcess.start(children,
        ['--interface', remote!.hostInterface, '--ports', String(server.port), '--inbound']);
      sensors.push(sensor);
      const ehloName = 'visible-client.example';
      const pythonArgv = sendOneMessageArgv(remote!.hostAddress, server.port, ehloName,
        PAUSE_SECONDS);
      const self = await sendFromRemote(server.port, ehloName, PAUSE_SECONDS);
      await sensor.waitFor(() => quitReported(ehloName)(sensor.events), EVENT_TIMEOUT_MS,
        `QUIT of ${ehloName}`);
      const run = await sensor.stop();
      t.diagnostic(nonZeroAttributionCounters(run));
      const sessions = sessionsGreetingAs(run.events, ehloName);
      assert.equal(sessions.length, 1);
      assertDialogue(sessions[0], oneMessageDialogue(ehloName, SENDER, RECIPIENT, 'lower'));
      assertEveryCommandNames(sessions[0], {
        ContextProcessId: String(self.pid),
        ParentProcessId: String(process.pid),
        UserId: '0',
        UserName: 'root',
        ImageFileName: realpathSync(SYSTEM_PYTHON),
        CommandLine: pythonArgv.join(' '),
        ConnectionDirection: '0',
      });
    });
  });

function attributionCounter(run: SensorRun, name: string): unknown {
  return (run.stopLog?.attribution as Record<string, unknown> | undefined)?.[name];
}
