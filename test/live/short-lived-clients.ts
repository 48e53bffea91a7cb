import { realpathSync } from 'node:fs';
import type { ChildProcesses } from './child-processes.js';
import { oneMessageDialogue } from './process-fields.js';
import { RECIPIENT, SENDER, sendOneMessageArgv } from './python-smtp-clients.js';
import type { SensorEvent, SensorRun } from './sensor-process.js';
import { SYSTEM_PYTHON } from './smtp-server.js';
import { commandLines, sessionsGreetingAs } from './smtp-sessions.js';

/** One python process that sent one message and exited right after QUIT. */
export interface ShortLivedClient {
  ehloName: string;
  pid: number;
  exitCode: number | null;
  stderr: string;
}

/** How the sensor reported a batch of short-lived clients. */
export interface AttributionOutcome {
  clients: number;
  /** Clients whose whole dialogue was reported. */
  withAllCommands: number;
  /** Clients whose every command names their pid and the python interpreter. */
  attributed: number;
  /** One line per client that is not both, saying what was wrong. */
  /** Wrong sessions, commands or processes: each one fails the test. */
  problems: string[];
  /** Clients whose events name no process: they lower the share attributed. */
  unattributed: string[];
}

const CLIENT_TIMEOUT_MS = 20_000;

/**
 * Runs `count` clients, `concurrency` at a time, each a separate /usr/bin/python3 that greets
 * as `PREFIX-INDEX.example`. Resolves when all have exited.
 */
export async function runShortLivedClients(children: ChildProcesses, host: string, port: number,
  count: number, concurrency: number, prefix: string): Promise<ShortLivedClient[]> {
  const clients: ShortLivedClient[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const ehloName = `${prefix}-${next++}.example`;
      const argv = sendOneMessageArgv(host, port, ehloName);
      const run = await children.run(argv[0], argv.slice(1), { timeoutMs: CLIENT_TIMEOUT_MS });
      clients.push({ ehloName, pid: run.pid, exitCode: run.exitCode, stderr: run.stderr });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return clients;
}

/**
 * Checks each client's session: its commands, and the process every command names. A client
 * not attributed is shown with the lag of its first command (read time minus capture time):
 * a long one means the sensor looked up its process late, maybe after it had exited.
 */
export function judgeAttribution(run: SensorRun, clients: readonly ShortLivedClient[])
  : AttributionOutcome {
  const events = run.events;
  const lagOf = (event: SensorEvent) =>
    run.arrivalTimes[events.indexOf(event)] - Number(event.timestamp);
  const python = realpathSync(SYSTEM_PYTHON);
  const outcome: AttributionOutcome = {
    clients: clients.length, withAllCommands: 0, attributed: 0, problems: [], unattributed: [],
  };
  for (const client of clients) {
    const sessions = sessionsGreetingAs(events, client.ehloName);
    if (client.exitCode !== 0) outcome.problems.push(`${client.ehloName}: exit ${client.exitCode}`);
    if (sessions.length !== 1) {
      outcome.problems.push(`${client.ehloName}: ${sessions.length} sessions reported`);
      continue;
    }
    const expected = oneMessageDialogue(client.ehloName, SENDER, RECIPIENT, 'lower');
    const found = commandLines(sessions[0]);
    if (found.join('|') === expected.join('|')) outcome.withAllCommands++;
    else outcome.problems.push(`${client.ehloName}: commands ${found.join(', ')}`);
    const wrong = sessions[0].commands.find((event) =>
      event.ContextProcessId !== String(client.pid) || event.ImageFileName !== python);
    if (wrong === undefined) {
      outcome.attributed++;
      continue;
    }
    const description = `${client.ehloName}: pid ${client.pid} reported as `
      + `'${wrong.ContextProcessId}' '${wrong.ImageFileName}', first command output `
      + `${lagOf(sessions[0].commands[0])} ms after capture`;
    // An unknown process lowers the share; another process named is a wrong answer. The right
    // pid with no executable is a client that exited between the socket's discovery and the
    // read of its exe link (a zombie has none): what is left of it is true, not wrong.
    const unknown = wrong.ContextProcessId === '' && wrong.ImageFileName === '';
    const exitedMidLookup = wrong.ContextProcessId === String(client.pid)
      && wrong.ImageFileName === '';
    if (unknown || exitedMidLookup) {
      outcome.unattributed.push(description);
    } else {
      outcome.problems.push(description);
    }
  }
  return outcome;
}

/** QUITs reported for connections to `port`: one per client that finished its dialogue. */
export function quitsTo(events: readonly SensorEvent[], port: number): number {
  return events.filter((event) => event.event_simpleName === 'SmtpCommand'
    && event.RemotePort === String(port) && event.SmtpVerb.toUpperCase() === 'QUIT').length;
}
