import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChildProcesses } from './child-processes.js';
import { liveTestRefusal } from './live-prerequisites.js';
import { assertDialogue } from './process-fields.js';
import { RECIPIENT, SENDER, authenticateAndSendArgv } from './python-smtp-clients.js';
import { SensorProcess, type SensorRun } from './sensor-process.js';
import { type SmtpServer, startSmtpServer } from './smtp-server.js';
import { quitReported, sessionsGreetingAs } from './smtp-sessions.js';

const LOOPBACK = '127.0.0.1';
const ACCOUNT = { user: 'user', password: 'secret-password' };
const CLIENT_TIMEOUT_MS = 20_000;
const EVENT_TIMEOUT_MS = 10_000;

/** The four ways a client sends PLAIN and LOGIN credentials (RFC 4954, RFC 4616). */
const EXCHANGES = [
  { mechanism: 'PLAIN', style: 'initial' },
  { mechanism: 'PLAIN', style: 'separate' },
  { mechanism: 'LOGIN', style: 'initial' },
  { mechanism: 'LOGIN', style: 'separate' },
] as const;

const refusal = liveTestRefusal();

describe('live capture: AUTH PLAIN and LOGIN credentials never reach the output or the log',
  { skip: refusal === '' ? false : refusal }, () => {
    const children = new ChildProcesses();
    let server: SmtpServer;
    let sensor: SensorProcess | undefined;
    let run: SensorRun | undefined;

    before(async () => {
      server = await startSmtpServer(children, { host: LOOPBACK, account: ACCOUNT });
      // The most verbose level: a credential must not appear in any log line, debug included.
      sensor = await SensorProcess.start(children,
        ['--interface', 'lo', '--ports', String(server.port), '--log-level', 'trace']);
    });

    after(async () => {
      await sensor?.stop();
      await children.stopAll();
    });

    for (const { mechanism, style } of EXCHANGES) {
      const ehloName = `auth-${mechanism.toLowerCase()}-${style}.example`;
      test(`AUTH ${mechanism}, response ${style === 'initial' ? 'on the AUTH line' : 'after 334'}: `
        + 'the mechanism is reported, then the mail commands', async () => {
        const argv = authenticateAndSendArgv(LOOPBACK, server.port, ehloName, mechanism, style);
        const env = { ...process.env, SMTP_TEST_USER: ACCOUNT.user,
          SMTP_TEST_PASSWORD: ACCOUNT.password };
        const client = await children.run(argv[0], argv.slice(1),
          { timeoutMs: CLIENT_TIMEOUT_MS, env });
        assert.equal(client.exitCode, 0, `the server accepted the credentials: ${client.stderr}`);
        await sensor!.waitFor(() => quitReported(ehloName)(sensor!.events), EVENT_TIMEOUT_MS,
          `QUIT of ${ehloName}`);
        const [session] = sessionsGreetingAs(sensor!.events, ehloName);
        assertDialogue(session, [`ehlo ${ehloName}`, `AUTH ${mechanism}`,
          `mail FROM:<${SENDER}>`, `rcpt TO:<${RECIPIENT}>`, 'data', 'quit']);
      });
    }

    test('no form of the password is in standard output or standard error', async () => {
      run = await sensor!.stop();
      assert.equal(run.events.filter((event) => event.SmtpVerb === 'AUTH').length,
        EXCHANGES.length, 'the AUTH commands were captured');
      for (const secret of credentialForms(ACCOUNT.user, ACCOUNT.password)) {
        assert.ok(!run.stdout.includes(secret), `standard output shows ${secret}`);
        assert.ok(!run.stderr.includes(secret), `standard error shows ${secret}`);
      }
    });
  });

/**
 * The password, and every base64 text that carries it: the PLAIN response
 * (`\0user\0password`, RFC 4616), the LOGIN password line, and the password's base64 at each
 * of the three alignments it can have inside a longer base64 text, edges dropped.
 */
function credentialForms(user: string, password: string): string[] {
  const base64 = (text: string) => Buffer.from(text).toString('base64');
  const forms = [password, base64(`\0${user}\0${password}`), base64(password)];
  for (let shift = 0; shift < 3; shift++) {
    const shifted = base64('\0'.repeat(shift) + password);
    const firstClean = Math.ceil((shift * 8) / 6) + 1;
    forms.push(shifted.slice(firstClean, shifted.length - 4));
  }
  return forms;
}
