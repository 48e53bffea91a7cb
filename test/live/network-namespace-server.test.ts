import assert from 'node:assert/strict';
import { mkdtempSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChildProcesses } from './child-processes.js';
import { liveTestRefusal } from './live-prerequisites.js';
import { NetworkNamespace } from './network-namespace.js';
import { assertDialogue, assertEndpoints, assertEveryCommandNames, oneMessageDialogue,
  type ProcessFields } from './process-fields.js';
import { MESSAGE, RECIPIENT, SENDER } from './python-smtp-clients.js';
import { nonZeroAttributionCounters, outputLagSummary } from './sensor-diagnostics.js';
import { SensorProcess } from './sensor-process.js';
import { type SmtpServer, startSmtpServer } from './smtp-server.js';
import { type SmtpSession, quitReported, sessionsGreetingAs } from './smtp-sessions.js';

const CLIENT_TIMEOUT_MS = 20_000;
const EVENT_TIMEOUT_MS = 10_000;
/**
 * The server's own port, free in a namespace just created; the sensor runs with its default
 * ports (25, 465, 587), as deployed.
 */
const SMTP_PORT = 25;
/**
 * The server waits this long before answering EHLO, as one across a real network does: over
 * the veth pair a client's whole dialogue takes a few ms, and at load a lookup can start after
 * it (short-lived-clients.test.ts measures that race). Every client then must be named.
 */
const EHLO_DELAY_SECONDS = 0.5;
/** swaks is a perl script (`#!/usr/bin/perl`): the kernel runs perl with the script's path. */
const PERL = '/usr/bin/perl';

const refusal = liveTestRefusal();

/**
 * The mail server is the remote machine here: aiosmtpd runs inside a network namespace, as a
 * relay in a container or across a network would, and real clients on the host reach it over
 * the veth pair. The sensor captures on the host's end of the pair, so each connection is
 * outbound from the host and must name the client that made it.
 */
describe('live capture: real clients on the host, the SMTP server in a network namespace',
  { skip: refusal === '' ? false : refusal }, () => {
    const children = new ChildProcesses();
    const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-live-netns-server-'));
    const messageFile = join(scratch, 'message.eml');
    let namespace: NetworkNamespace | undefined;
    let server: SmtpServer;
    let sensor: SensorProcess | undefined;

    before(async () => {
      writeFileSync(messageFile, MESSAGE);
      namespace = NetworkNamespace.create('s');
      server = await startSmtpServer(children, { host: namespace.namespaceAddress,
        port: SMTP_PORT, ehloDelaySeconds: EHLO_DELAY_SECONDS, wrapper: namespace.exec([]) });
      sensor = await SensorProcess.start(children, ['--interface', namespace.hostInterface]);
    });

    after(async () => {
      await sensor?.stop();
      await children.stopAll();
      namespace?.delete();
      rmSync(scratch, { recursive: true, force: true });
    });

    /** Runs a client on the host to completion; resolves with its pid and its session. */
    async function sendFromHost(argv: string[], ehloName: string, input = ''): Promise<{
      pid: number; session: SmtpSession;
    }> {
      const client = await children.run(argv[0], argv.slice(1),
        { input, timeoutMs: CLIENT_TIMEOUT_MS });
      assert.equal(client.exitCode, 0, `${argv[0]} failed: ${client.stderr}`);
      await sensor!.waitFor(() => quitReported(ehloName)(sensor!.events), EVENT_TIMEOUT_MS,
        `QUIT of the session greeting as ${ehloName}`);
      const sessions = sessionsGreetingAs(sensor!.events, ehloName);
      assert.equal(sessions.length, 1, `one connection greets as ${ehloName}`);
      return { pid: client.pid, session: sessions[0] };
    }

    const hostClient = (pid: number, imageFileName: string, commandLine: string)
      : ProcessFields => ({
      ContextProcessId: String(pid),
      ParentProcessId: String(process.pid),
      UserId: '0',
      UserName: 'root',
      ImageFileName: imageFileName,
      CommandLine: commandLine,
      ConnectionDirection: '0',
    });

    /** The client side is the host's end of the veth, the server side the namespace's. */
    function assertAcrossTheVeth(session: SmtpSession): void {
      assertEndpoints(session, namespace!.hostAddress, namespace!.namespaceAddress, SMTP_PORT);
    }

    test('the server runs inside the namespace, in the process that was started', () => {
      const serverNamespace = readlinkSync(`/proc/${server.child.pid}/ns/net`);
      assert.notEqual(serverNamespace, readlinkSync('/proc/self/ns/net'),
        'aiosmtpd is in another network namespace than the sensor and the clients');
      assert.equal(realpathSync(`/proc/${server.child.pid}/exe`), realpathSync(server.argv[0]),
        '`ip netns exec` execs the server in place');
    });

    test('swaks on the host: perl running /usr/bin/swaks, with the spawned pid', async () => {
      const argv = ['/usr/bin/swaks', '--server', `${namespace!.namespaceAddress}:${SMTP_PORT}`,
        '--to', RECIPIENT, '--from', SENDER, '--helo', 'netns-swaks.example'];
      const { pid, session } = await sendFromHost(argv, 'netns-swaks.example');
      assertDialogue(session, oneMessageDialogue('netns-swaks.example', SENDER, RECIPIENT));
      assertEveryCommandNames(session,
        hostClient(pid, realpathSync(PERL), [PERL, ...argv].join(' ')));
      assertAcrossTheVeth(session);
    });

    test('msmtp on the host: its binary, the server on its command line', async () => {
      const argv = ['/usr/bin/msmtp', `--host=${namespace!.namespaceAddress}`,
        `--port=${SMTP_PORT}`, `--from=${SENDER}`, '--domain=netns-msmtp.example',
        '--auth=off', '--tls=off', RECIPIENT];
      const { pid, session } = await sendFromHost(argv, 'netns-msmtp.example', MESSAGE);
      assertDialogue(session, oneMessageDialogue('netns-msmtp.example', SENDER, RECIPIENT));
      assertEveryCommandNames(session,
        hostClient(pid, realpathSync('/usr/bin/msmtp'), argv.join(' ')));
      assertAcrossTheVeth(session);
    });

    test('curl smtp:// on the host: the URL naming the namespace\'s address', async () => {
      const argv = ['/usr/bin/curl', '-sS',
        `smtp://${namespace!.namespaceAddress}:${SMTP_PORT}/netns-curl.example`,
        '--mail-from', SENDER, '--mail-rcpt', RECIPIENT, '-T', messageFile];
      const { pid, session } = await sendFromHost(argv, 'netns-curl.example');
      assertDialogue(session, oneMessageDialogue('netns-curl.example', SENDER, RECIPIENT));
      assertEveryCommandNames(session,
        hostClient(pid, realpathSync('/usr/bin/curl'), argv.join(' ')));
      assertAcrossTheVeth(session);
    });

    test('the sensor stops cleanly, every connection outbound and attributed', async (t) => {
      const run = await sensor!.stop();
      t.diagnostic(nonZeroAttributionCounters(run));
      t.diagnostic(outputLagSummary(run));
      assert.equal(run.exitCode, 0, run.stderr.slice(-2_000));
      assert.deepEqual(run.unparsedLines, [], 'every output line is JSON');
      const counters = (run.stopLog?.attribution ?? {}) as Record<string, number>;
      assert.equal(counters.outbound_connections, 3, 'swaks, msmtp and curl');
      assert.equal(counters.processes_not_found, 0, 'no connection without its process');
    });
  });
