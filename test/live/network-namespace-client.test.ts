import assert from 'node:assert/strict';
import { mkdtempSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChildProcesses } from './child-processes.js';
import { liveTestRefusal } from './live-prerequisites.js';
import { NetworkNamespace } from './network-namespace.js';
import { assertDialogue, assertEndpoints, assertEveryCommandNames, oneMessageDialogue }
  from './process-fields.js';
import { MESSAGE, RECIPIENT, SENDER, parseSelfReport, sendOneMessageArgv }
  from './python-smtp-clients.js';
import { nonZeroAttributionCounters, outputLagSummary } from './sensor-diagnostics.js';
import { SensorProcess } from './sensor-process.js';
import { SYSTEM_PYTHON, type SmtpServer, startSmtpServer } from './smtp-server.js';
import { quitReported, sessionsGreetingAs } from './smtp-sessions.js';

const CLIENT_TIMEOUT_MS = 20_000;
const EVENT_TIMEOUT_MS = 10_000;
/** Long enough for any lookup: the client then lives as long as one across a network. */
const PAUSE_SECONDS = 0.5;

const refusal = liveTestRefusal();

describe('live capture: a client in another network namespace, as in a container',
  { skip: refusal === '' ? false : refusal }, () => {
    const children = new ChildProcesses();
    const scratch = mkdtempSync(join(tmpdir(), 'netns-client-'));
    let namespace: NetworkNamespace | undefined;
    let server: SmtpServer;
    let vethSensor: SensorProcess | undefined;
    const sensors: SensorProcess[] = [];

    before(async () => {
      namespace = NetworkNamespace.create('c');
      server = await startSmtpServer(children, { host: namespace.hostAddress });
      vethSensor = await startSensor(namespace.hostInterface);
    });

    after(async () => {
      await Promise.all(sensors.map((sensor) => sensor.stop()));
      await children.stopAll();
      namespace?.delete();
      rmSync(scratch, { recursive: true, force: true });
    });

    async function startSensor(interfaceName: string, extraArgs: string[] = [])
      : Promise<SensorProcess> {
      const sensor = await SensorProcess.start(children,
        ['--interface', interfaceName, '--ports', String(server.port), ...extraArgs]);
      sensors.push(sensor);
      return sensor;
    }

    /**
     * The client runs in the namespace and talks to the server on the host's end of the veth;
     * the sensor, in the host's namespaces, must name the client, as outbound.
     */
    async function clientInNamespaceIsNamed(sensor: SensorProcess,
      ehloName: string, pauseSeconds: number): Promise<void> {
      const pythonArgv = sendOneMessageArgv(namespace!.hostAddress, server.port, ehloName,
        pauseSeconds);
      const argv = namespace!.exec(pythonArgv);
      const client = await children.run(argv[0], argv.slice(1),
        { input: MESSAGE, timeoutMs: CLIENT_TIMEOUT_MS });
      assert.equal(client.exitCode, 0, client.stderr);
      const self = parseSelfReport(client.stdout);
      assert.notEqual(self.networkNamespace, readlinkSync('/proc/self/ns/net'),
        'the client ran in another network namespace');
      // Without -b (batch mode), `ip netns exec` enters the namespace and execs the command in
      // its own process: python has the pid we spawned, and our pid as its parent.
      assert.equal(self.pid, client.pid, 'python runs in the process ip netns exec started');
      assert.equal(self.parentPid, process.pid);
      const waited = await sensor.waitFor(() => quitReported(ehloName)(sensor.events),
        EVENT_TIMEOUT_MS, `QUIT of ${ehloName}`).then(() => '', (error: Error) => error.message);
      assert.equal(waited, '', 'the commands were reported (the connection as outbound)');
      const [session] = sessionsGreetingAs(sensor.events, ehloName);
      assertDialogue(session, oneMessageDialogue(ehloName, SENDER, RECIPIENT, 'lower'));
      assertEndpoints(session, namespace!.namespaceAddress, namespace!.hostAddress, server.port);
      assertEveryCommandNames(session, {
        ContextProcessId: String(self.pid),
        ParentProcessId: String(self.parentPid),
        UserId: '0',
        UserName: 'root',
        ImageFileName: realpathSync(SYSTEM_PYTHON),
        CommandLine: pythonArgv.join(' '),
        ConnectionDirection: '0',
      });
    }

    test('on the host\'s end of the veth: a client pausing after the greeting is named, '
      + 'with its pid as the host sees it', async () => {
      await clientInNamespaceIsNamed(vethSensor!, 'netns-pausing.example', PAUSE_SECONDS);
    });

    // Its lookup in /proc would race its exit; the kernel connect records cannot lose it.
    test('on the host\'s end of the veth: a client sending at once, done in milliseconds, '
      + 'is named', async () => {
      await clientInNamespaceIsNamed(vethSensor!, 'netns-at-once.example', 0);
    });

    test('without the kernel connect records: the pausing client is found through its own '
      + '/proc/PID/net/tcp', async () => {
      const config = join(scratch, 'no-connect-records.yaml');
      writeFileSync(config, 'attribution:\n  connect_records: "off"\n');
      const sensor = await startSensor(namespace!.hostInterface, ['--config', config]);
      const started = sensor.logs.find((line) => line.msg === 'capture started');
      assert.equal(started?.connect_records, false, 'the sensor runs with /proc alone');
      await clientInNamespaceIsNamed(sensor, 'netns-proc-only.example', PAUSE_SECONDS);
      const run = await sensor.stop();
      const attribution = run.stopLog?.attribution as Record<string, number> | undefined;
      assert.ok((attribution?.other_namespace_hits ?? 0) >= 1,
        `found in another namespace's table: ${JSON.stringify(attribution)}`);
    });

    test('on any (Linux cooked capture): the pausing client is named', async () => {
      const sensor = await startSensor('any');
      await clientInNamespaceIsNamed(sensor, 'netns-any.example', PAUSE_SECONDS);
    });

    test('the veth sensor stops cleanly', async (t) => {
      const run = await vethSensor!.stop();
      t.diagnostic(nonZeroAttributionCounters(run));
      t.diagnostic(outputLagSummary(run));
      assert.equal(run.exitCode, 0, 'the sensor exits with 0 after SIGTERM');
    });
  });

