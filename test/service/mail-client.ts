import assert from 'node:assert/strict';
import type { ChildProcesses } from '../live/child-processes.js';
import type { SensorProcess } from '../live/sensor-process.js';
import { SYSTEM_PYTHON } from '../live/smtp-server.js';

/**
 * Sends `count` messages, one SMTP session each, from one python process. Session INDEX
 * greets as `TAG-INDEX.example` and uses `TAG-INDEX@sender.example` and
 * `TAG-INDEX@rcpt.example`, so every command it sends is one no other session sends. Each
 * command is printed (as JSON: EHLO name, verb, arguments) by smtplib's own putcmd, just
 * before it goes on the wire: what the client sent, counted by the client, not the sensor.
 *
 *   python3 -c SCRIPT HOST PORT TAG FIRST COUNT PAUSE_SECONDS
 */
const SEND_SESSIONS = `
import json, smtplib, sys, time
host, port, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
first, count, pause = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
class RecordingSMTP(smtplib.SMTP):
    def putcmd(self, cmd, args=''):
        print(json.dumps([self.local_hostname, cmd, args]), flush=True)
        super().putcmd(cmd, args)
for index in range(first, first + count):
    name = '%s-%d' % (tag, index)
    client = RecordingSMTP(host, port, local_hostname=name + '.example', timeout=10)
    client.sendmail(name + '@sender.example', [name + '@rcpt.example'],
                    'Subject: service test\\r\\n\\r\\n' + name + '\\r\\n')
    client.quit()
    time.sleep(pause)
`;

/** A client run: the commands it sent, each as a key that `commandKey` also gives events. */
export interface MailRun {
  keys: string[];
  exitCode: number | null;
  stderr: string;
}

export interface MailRunOptions {
  host: string;
  port: number;
  tag: string;
  count: number;
  /** Index of the first session (default 0), so that several runs can share a tag. */
  first?: number;
  /** Seconds between sessions (default 0). */
  pauseSeconds?: number;
}

const CLIENT_TIMEOUT_MS = 30_000;

/** Runs the client to its end and returns what it sent; never rejects for a failing exit. */
export async function sendSessions(children: ChildProcesses, options: MailRunOptions)
  : Promise<MailRun> {
  const argv = [SYSTEM_PYTHON, '-c', SEND_SESSIONS, options.host, String(options.port),
    options.tag, String(options.first ?? 0), String(options.count),
    String(options.pauseSeconds ?? 0)];
  const run = await children.run(argv[0], argv.slice(1), { timeoutMs: CLIENT_TIMEOUT_MS });
  const keys = run.stdout.split('\n').filter((line) => line !== '').map((line) => {
    const [ehloName, verb, args] = JSON.parse(line) as [string, string, string];
    return commandKey(ehloName, verb, firstArgument(args));
  });
  return { keys, exitCode: run.exitCode, stderr: run.stderr };
}

/**
 * What identifies one command of these clients: the EHLO name of its session (unique per
 * session), its verb in upper case (smtplib sends lower case) and CommandArg1.
 */
export function commandKey(ehloName: string, verb: string, argument: string): string {
  return `${ehloName} ${verb.toUpperCase()} ${argument}`.trimEnd();
}

/** CommandArg1 as docs/events.md defines it: the text after the verb, up to a space. */
function firstArgument(args: string): string {
  return args.trim().split(/[ \t]+/)[0];
}

/** An event as it reaches stdout, a file or a collector: JSON with string values. */
export type EventRecord = Record<string, unknown>;

/**
 * The command key of each SmtpCommand event, by event id. A session's EHLO names it, so each
 * of its other commands (DATA and QUIT have no argument) is found through its session id.
 */
export function commandKeysById(events: Iterable<EventRecord>): Map<string, string> {
  const all = [...events].filter((event) => event.event_simpleName === 'SmtpCommand');
  const ehloNames = new Map<unknown, string>();
  for (const event of all) {
    if (String(event.SmtpVerb).toUpperCase() === 'EHLO') {
      ehloNames.set(event.SmtpSessionId, String(event.CommandArg1));
    }
  }
  const keys = new Map<string, string>();
  for (const event of all) {
    const ehloName = ehloNames.get(event.SmtpSessionId) ?? '(no EHLO)';
    keys.set(String(event.id), commandKey(ehloName, String(event.SmtpVerb),
      String(event.CommandArg1)));
  }
  return keys;
}

/** The keys in `expected` that are not among `found`, as one readable string. */
export function missingKeys(expected: Iterable<string>, found: Iterable<string>): string[] {
  const present = new Set(found);
  return [...expected].filter((key) => !present.has(key));
}

/**
 * Sends sessions (sendSessions) and waits until `agent` printed every command they sent on its
 * standard output: it captured them.
 */
export async function sendSessionsAndSee(children: ChildProcesses, agent: SensorProcess,
  options: MailRunOptions, timeoutMs: number): Promise<MailRun> {
  const run = await sendSessions(children, options);
  assert.equal(run.exitCode, 0, run.stderr);
  await agent.waitFor(() => missingKeys(run.keys, commandKeysById(agent.events).values())
    .length === 0, timeoutMs, `the commands of ${options.tag} on stdout`);
  return run;
}
