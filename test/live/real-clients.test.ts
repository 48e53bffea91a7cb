import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChildProcesses, type FinishedProcess } from './child-processes.js';
import { liveTestRefusal } from './live-prerequisites.js';
import { POSTFIX_SMTP_CLIENT, PostfixRelay, PostfixUnavailableError, postfixSmtpClientPids }
  from './postfix-relay.js';
import { assertDialogue, assertEndpoints, assertEveryCommandNames, oneMessageDialogue }
  from './process-fields.js';
import { MESSAGE, RECIPIENT, SENDER, parseSelfReport, sendOneMessageArgv }
  from './python-smtp-clients.js';
import { nonZeroAttributionCounters, outputLagSummary } from './sensor-diagnostics.js';
import { SensorProcess, type SensorRun } from './sensor-process.js';
import { SYSTEM_PYTHON, type SmtpServer, startSmtpServer } from './smtp-server.js';
import { type SmtpSession, quitReported, sessionsGreetingAs } from './smtp-sessions.js';

const LOOPBACK = '127.0.0.1';
/** A client runs in well under a second; this bounds a hung one. */
const CLIENT_TIMEOUT_MS = 20_000;
/** The last command reaches the sensor's output within this time of the client's exit. */
const EVENT_TIMEOUT_MS = 10_000;
/** Postfix queues first, then its qmgr hands the message to an smtp process. */
const RELAY_TIMEOUT_MS = 20_000;
/** swaks is a perl script (`#!/usr/bin/perl`): the kernel runs perl with the script's path. */
const PERL = '/usr/bin/perl';
const POSTFIX_SENDER = 'postfix-live-test@example.org';
/**
 * Each server waits this long before answering EHLO, as a server across a network does, so
 * that every client holds its socket longer than any lookup and a miss is a failure. Without
 * it these tests race the lookup: postfix's smtp process relays a message to a local server
 * within 1 to 2 ms of its SYN, then closes the connection (the process stays, idle, for
 * max_idle), while the first lookup of a process new to the sensor took 2 to 10 ms here,
 * reading the ~180 pids postfix's start allocated before smtp's; it lost in most runs, and a
 * smtplib client sending at once lost once at load 6. Clients that send at once are measured by
 * short-lived-clients.test.ts.
 */
const EHLO_DELAY_SECONDS = 0.5;

const CLIENT_NAMES = ['swaks', 'python', 'msmtp', 'curl', 'postfix'] as const;
type ClientName = typeof CLIENT_NAMES[number];

const refusal = liveTestRefusal();

describe('live capture on loopback: real SMTP clients, each named with its process',
  { skip: refusal === '' ? false : refusal }, () => {
    const children = new ChildProcesses();
    const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-live-'));
    const messageFile = join(scratch, 'message.eml');
    const servers = new Map<ClientName, SmtpServer>();
    let sensor: SensorProcess | undefined;
    let postfix: PostfixRelay | undefined;

    before(async () => {
      writeFileSync(messageFile, MESSAGE);
      for (const name of CLIENT_NAMES) {
        servers.set(name, await startSmtpServer(children,
          { host: LOOPBACK, ehloDelaySeconds: EHLO_DELAY_SECONDS }));
      }
      const ports = [...servers.values()].map((server) => server.port).join(',');
      sensor = await SensorProcess.start(children,
        ['--interface', 'lo', '--ports', ports, '--log-level', 'info']);
    });

    after(async () => {
      await sensor?.stop();
      postfix?.restore(POSTFIX_SENDER);
      await children.stopAll();
      rmSync(scratch, { recursive: true, force: true });
    });

    /** Runs a client to completion, then waits for the QUIT of the session it greeted with. */
    async function sendWith(argv: string[], ehloName: string, input = ''): Promise<{
      client: FinishedProcess; session: SmtpSession;
    }> {
      const client = await children.run(argv[0], argv.slice(1),
        { input, timeoutMs: CLIENT_TIMEOUT_MS });
      assert.equal(client.exitCode, 0, `${argv[0]} failed: ${client.stderr}`);
      return { client, session: await reportedSession(ehloName, EVENT_TIMEOUT_MS) };
    }

    async function reportedSession(ehloName: string, timeoutMs: number): Promise<SmtpSession> {
      await sensor!.waitFor(() => quitReported(ehloName)(sensor!.events), timeoutMs,
        `QUIT of the session greeting as ${ehloName}`);
      const sessions = sessionsGreetingAs(sensor!.events, ehloName);
      assert.equal(sessions.length, 1, `one connection greets as ${ehloName}`);
      return sessions[0];
    }

    const rootClient = (pid: number, imageFileName: string, commandLine: string) => ({
      ContextProcessId: String(pid),
      ParentProcessId: String(process.pid),
      UserId: '0',
      UserName: 'root',
      ImageFileName: imageFileName,
      CommandLine: commandLine,
      ConnectionDirection: '0',
    });

    test('swaks: the perl interpreter running /usr/bin/swaks, pid of the spawned swaks',
      async () => {
        const port = servers.get('swaks')!.port;
        const argv = ['/usr/bin/swaks', '--server', `${LOOPBACK}:${port}`, '--to', RECIPIENT,
          '--from', SENDER, '--helo', 'swaks.example'];
        const { client, session } = await sendWith(argv, 'swaks.example');
        assertDialogue(session, oneMessageDialogue('swaks.example', SENDER, RECIPIENT));
        // /proc of a running swaks shows exe /usr/bin/perl and cmdline "/usr/bin/perl
        // /usr/bin/swaks ARGS": execve of a script runs its interpreter in the same process.
        assertEveryCommandNames(session,
          rootClient(client.pid, realpathSync(PERL), [PERL, ...argv].join(' ')));
        assertEndpoints(session, LOOPBACK, LOOPBACK, port);
      });

    test('python smtplib: the interpreter\'s real path and the script on the command line',
      async () => {
        const port = servers.get('python')!.port;
        const argv = sendOneMessageArgv(LOOPBACK, port, 'smtplib.example');
        const { client, session } = await sendWith(argv, 'smtplib.example', MESSAGE);
        assert.equal(parseSelfReport(client.stdout).pid, client.pid, 'python is the spawned pid');
        assertDialogue(session,
          oneMessageDialogue('smtplib.example', SENDER, RECIPIENT, 'lower'));
        assertEveryCommandNames(session,
          rootClient(client.pid, realpathSync(SYSTEM_PYTHON), argv.join(' ')));
        assertEndpoints(session, LOOPBACK, LOOPBACK, port);
      });

    test('msmtp: server and envelope on the command line, message on standard input',
      async () => {
        const port = servers.get('msmtp')!.port;
        const argv = ['/usr/bin/msmtp', `--host=${LOOPBACK}`, `--port=${port}`,
          `--from=${SENDER}`, '--domain=msmtp.example', '--auth=off', '--tls=off', RECIPIENT];
        const { client, session } = await sendWith(argv, 'msmtp.example', MESSAGE);
        assertDialogue(session, oneMessageDialogue('msmtp.example', SENDER, RECIPIENT));
        assertEveryCommandNames(session,
          rootClient(client.pid, realpathSync('/usr/bin/msmtp'), argv.join(' ')));
        assertEndpoints(session, LOOPBACK, LOOPBACK, port);
      });

    test('curl smtp://: the EHLO name from the URL path, the message from a file', async () => {
      const port = servers.get('curl')!.port;
      const argv = ['/usr/bin/curl', '-sS', `smtp://${LOOPBACK}:${port}/curl.example`,
        '--mail-from', SENDER, '--mail-rcpt', RECIPIENT, '-T', messageFile];
      const { client, session } = await sendWith(argv, 'curl.example');
      assertDialogue(session, oneMessageDialogue('curl.example', SENDER, RECIPIENT));
      assertEveryCommandNames(session,
        rootClient(client.pid, realpathSync('/usr/bin/curl'), argv.join(' ')));
      assertEndpoints(session, LOOPBACK, LOOPBACK, port);
    });

    /**
     * sendmail queues the message; postfix's qmgr hands it to an smtp process, which relays it.
     * Resolves with the relay session and the command line of each smtp process seen meanwhile,
     * by pid (they stay idle for a while after a delivery, max_idle).
     */
    async function relayThroughPostfix() {
      const smtpClients = new Map<string, string>();
      const argv = ['/usr/sbin/sendmail', '-t', '-f', POSTFIX_SENDER];
      const sendmail = await children.run(argv[0], argv.slice(1),
        { input: MESSAGE, timeoutMs: CLIENT_TIMEOUT_MS });
      assert.equal(sendmail.exitCode, 0, `sendmail failed: ${sendmail.stderr}`);
      await sensor!.waitFor(() => {
        for (const pid of postfixSmtpClientPids()) {
          const commandLine = smtpClients.get(pid) ?? commandLineOf(pid);
          if (commandLine !== undefined) smtpClients.set(pid, commandLine);
        }
        return quitReported('postfix.example')(sensor!.events);
      }, RELAY_TIMEOUT_MS, 'QUIT of postfix\'s relay session');
      return { session: sessionsGreetingAs(sensor!.events, 'postfix.example')[0], smtpClients };
    }

    test('postfix sendmail -t: the event names postfix\'s smtp process, not sendmail',
      async (t) => {
        const port = servers.get('postfix')!.port;
        try {
          postfix = await PostfixRelay.start(port, 'postfix.example');
        } catch (error) {
          if (!(error instanceof PostfixUnavailableError)) throw error;
          t.skip(`postfix cannot be started: ${error.message}`);
          return;
        }
        try {
          const { session, smtpClients } = await relayThroughPostfix();
          assertDialogue(session, oneMessageDialogue('postfix.example', POSTFIX_SENDER, RECIPIENT));
          const smtpPid = session.commands[0].ContextProcessId;
          assert.ok(smtpClients.has(smtpPid), `the relay session names pid '${smtpPid}', `
            + `not a running ${POSTFIX_SMTP_CLIENT} (seen: ${[...smtpClients.keys()].join(', ')})`);
          assertEveryCommandNames(session, {
            ContextProcessId: smtpPid,
            ParentProcessId: postfix.masterPid(),
            UserId: postfixUserId(),
            UserName: 'postfix',
            ImageFileName: POSTFIX_SMTP_CLIENT,
            CommandLine: smtpClients.get(smtpPid)!,
            ConnectionDirection: '0',
          });
          assertEndpoints(session, LOOPBACK, LOOPBACK, port);
        } finally {
          // Stopped at once: a postfix left running would relay other tests' mail.
          postfix.restore(POSTFIX_SENDER);
        }
      });

    test('SIGTERM: exit code 0, a "capture stopped" line with the attribution and pcap counters',
      async (t) => {
        const run: SensorRun = await sensor!.stop('SIGTERM');
        t.diagnostic(nonZeroAttributionCounters(run));
        t.diagnostic(outputLagSummary(run));
        assert.equal(run.exitCode, 0, run.stderr.slice(-2_000));
        assert.deepEqual(run.unparsedLines, [], 'every output line is JSON');
        assert.ok(run.stopLog, `no "capture stopped" log line in:\n${run.stderr.slice(-2_000)}`);
        const attribution = run.stopLog.attribution as Record<string, number> | undefined;
        assert.equal(typeof attribution?.lookups, 'number', 'attribution counters');
        const pcap = run.stopLog.pcap as Record<string, number> | undefined;
        // libpcap's pcap_stat names (ps_recv, ps_drop), or the sensor's own names for them.
        assert.equal(typeof (pcap?.ps_recv ?? pcap?.received), 'number', 'pcap packets received');
        assert.equal(pcap?.ps_drop ?? pcap?.dropped, 0, 'pcap packets dropped');
      });
  });

/**
 * /proc/PID/cmdline with its NUL separators as spaces, trailing NULs dropped; undefined when
 * the process is gone.
 */
function commandLineOf(pid: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').split('\0')
      .join(' ');
  } catch {
    return undefined;
  }
}

function postfixUserId(): string {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n')
    .find((entry) => entry.startsWith('postfix:'));
  return line?.split(':')[2] ?? 'no postfix user';
}
