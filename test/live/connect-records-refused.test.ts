import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ChildProcesses } from './child-processes.js';
import { liveTestRefusal } from './live-prerequisites.js';
import { assertEveryCommandNames } from './process-fields.js';
import { MESSAGE, parseSelfReport, sendOneMessageArgv } from './python-smtp-clients.js';
import { SensorProcess } from './sensor-process.js';
import { SYSTEM_PYTHON, type SmtpServer, startSmtpServer } from './smtp-server.js';
import { quitReported, sessionsGreetingAs } from './smtp-sessions.js';

const LOOPBACK = '127.0.0.1';
const EVENT_TIMEOUT_MS = 10_000;
/** Long enough for any lookup in /proc: the client outlives it whatever the sensor's delay. */
const PAUSE_SECONDS = 0.5;
/** Root, without the capabilities that loading a BPF program takes. */
const WITHOUT_BPF = ['setpriv', '--bounding-set=-bpf,-perfmon,-sys_admin',
  '--inh-caps=-bpf,-perfmon,-sys_admin'];

const refusal = liveTestRefusal();

describe('live capture where the kernel refuses the connect records (auto)',
  { skip: refusal === '' ? false : refusal }, () => {
    const children = new ChildProcesses();
    let server: SmtpServer;
    let sensor: SensorProcess;

    before(async () => {
      server = await startSmtpServer(children, { host: LOOPBACK });
      sensor = await SensorProcess.start(children,
        ['--interface', 'lo', '--ports', String(server.port)], { wrapper: WITHOUT_BPF });
    });

    after(async () => {
      await sensor?.stop();
      await children.stopAll();
    });

    test('one warning says why, the capture starts without them', () => {
      const warnings = sensor.logs.filter((line) => line.level === 40);
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.equal(warnings[0].msg, 'kernel connect records unavailable; /proc alone');
      assert.match(String(warnings[0].reason),
        /CAP_BPF and CAP_PERFMON\): Operation not permitted/);
      const started = sensor.logs.find((line) => line.msg === 'capture started');
      assert.equal(started?.connect_records, false);
    });

    test('a client is still named, through /proc', async () => {
      const argv = sendOneMessageArgv(LOOPBACK, server.port, 'refused-records.example',
        PAUSE_SECONDS);
      const client = await children.run(argv[0], argv.slice(1), { input: MESSAGE,
        timeoutMs: 20_000 });
      assert.equal(client.exitCode, 0, client.stderr);
      const self = parseSelfReport(client.stdout);
      await sensor.waitFor(() => quitReported('refused-records.example')(sensor.events),
        EVENT_TIMEOUT_MS, 'the QUIT');
      const [session] = sessionsGreetingAs(sensor.events, 'refused-records.example');
      assertEveryCommandNames(session, { ContextProcessId: String(self.pid),
        ParentProcessId: String(self.parentPid), UserId: '0', UserName: 'root',
        ImageFileName: realpathSync(SYSTEM_PYTHON), CommandLine: argv.join(' '),
        ConnectionDirection: '0' });
      const run = await sensor.stop();
      const attribution = run.stopLog?.attribution as Record<string, unknown>;
      assert.equal(attribution.connect_records, undefined, 'no records counters');
      assert.equal(attribution.connect_record_hits, 0);
    });
  });
