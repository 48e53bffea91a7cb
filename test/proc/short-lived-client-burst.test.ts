import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { realpathSync } from 'node:fs';
import { describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { ProcessInfo } from '../../src/proc/process-info.js';
import { ConnectRecords } from '../../src/proc/connect-records.js';
import { SocketOwnerResolver } from '../../src/proc/socket-owner-resolver.js';
import { SynWatcher } from '../helpers/syn-watcher.js';
import type { SinkConnection, SinkListening } from './smtp-sink-worker.js';

const PYTHON = '/usr/bin/python3';
const CLIENTS = 100;
/** Clients running at once: a batch job sending 100 messages, 10 at a time. */
const PARALLEL_CLIENTS = 10;
const BURST_TIMEOUT_MS = 90_000;
/**
 * Lookups that started before their client's QUIT may still lose the race: the client's socket
 * closes a round trip after QUIT, while the search for its owner takes tens of microseconds on
 * an idle host and milliseconds on an overloaded one, where a thread can also be preempted
 * mid-lookup. A few in a hundred are tolerated; a resolver that could not find new clients
 * quickly (or sockets at all) would miss most of them.
 */
const MAX_MISSED_WHILE_OPEN = 3;
/** Four-tuples taken again by a later client: 5 of 100 seen in one burst. */
const MAX_REUSED_PORTS = 10;

/**
 * smtplib sends one message and exits right after QUIT. Arguments: port, then the index xargs
 * appends. Prints its local port, its pid and CLOCK_MONOTONIC (the clock of
 * process.hrtime.bigint()) in ns just before QUIT, after which its socket may close any time,
 * in one write(): the clients share the pipe, and a line under PIPE_BUF is never interleaved.
 */
const SEND_ONE_MESSAGE = `
import os, smtplib, sys, time
client = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='burst.test', timeout=30)
client.sendmail('a@example.org', ['b@example.org'], 'Subject: burst\\r\\n\\r\\nhello\\r\\n')
port = client.sock.getsockname()[1]
before_quit = time.monotonic_ns()
client.quit()
os.write(1, f'{port} {os.getpid()} {before_quit}\\n'.encode())
`;

interface ClientReport {
  pid: string;
  beforeQuit: bigint;
}

interface Lookup {
  owner: ProcessInfo;
  /** When the server's thread accepted the connection, and resolve() was called and returned. */
  acceptedAt: bigint;
  startedAt: bigint;
  finishedAt: bigint;
}

interface BurstOutcome {
  /** Attributed to the client's own pid. */
  attributed: number;
  /** Attributed to another process: never acceptable. */
  wrong: number;
  /** Not attributed although the lookup started before the client sent QUIT. */
  missedWhileOpen: number;
  /** Not attributed, the lookup having started after the client sent QUIT. */
  missedAfterQuit: number;
  /** Attributed, but the executable or command line were gone (the process had exited). */
  withoutDetails: number;
  /** Of each miss while open: ms from accept to lookup, of the lookup, from lookup to QUIT. */
  missTimings: string[];
}

/**
 * Starts CLIENTS python3 clients through xargs and resolves each connection in the main thread
 * as soon as the server's worker thread reports it, the way the sensor resolves at the SYN.
 */
async function runBurst(resolver: SocketOwnerResolver): Promise<BurstOutcome> {
  const worker = new Worker(new URL('./smtp-sink-worker.js', import.meta.url));
  const lookups = new Map<number, Lookup>();
  let serverPort = 0;
  worker.on('message', (message: SinkListening | SinkConnection) => {
    if (message.type === 'listening') {
      serverPort = message.port;
      return;
    }
    const startedAt = process.hrtime.bigint();
    const owner = resolver.resolve('127.0.0.1', message.clientPort, '127.0.0.1', serverPort,
      Date.now());
    lookups.set(message.clientPort, { owner, acceptedAt: message.acceptedAt, startedAt,
      finishedAt: process.hrtime.bigint() });
  });
  try {
    while (serverPort === 0) await sleep(5);
    const reports = await startClients(serverPort);
    for (let waited = 0; lookups.size < reports.size && waited < 5_000; waited += 10) {
      await sleep(10);
    }
    return judge(reports, lookups);
  } finally {
    await worker.terminate();
  }
}

async function startClients(serverPort: number): Promise<Map<number, ClientReport>> {
  const xargs = spawn('xargs', ['-P', String(PARALLEL_CLIENTS), '-n', '1', PYTHON, '-c',
    SEND_ONE_MESSAGE, String(serverPort)], { stdio: ['pipe', 'pipe', 'inherit'] });
  xargs.stdin.end(Array.from({ length: CLIENTS }, (_, index) => `${index}\n`).join(''));
  let output = '';
  xargs.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('latin1');
  });
  const deadline = setTimeout(() => xargs.kill('SIGKILL'), BURST_TIMEOUT_MS);
  await once(xargs, 'exit');
  clearTimeout(deadline);
  const lines = output.split('\n').filter((text) => text !== '');
  assert.equal(lines.length, CLIENTS, 'every client sent its message');
  // Loopback reuses a closed connection's four-tuple at once (net.ipv4.tcp_tw_reuse): a port
  // two clients had says nothing of which lookup was whose, so neither is judged.
  const reports = new Map<number, ClientReport>();
  const reused = new Set<number>();
  for (const line of lines) {
    const [port, pid, beforeQuit] = line.split(' ');
    if (reports.has(Number(port))) reused.add(Number(port));
    reports.set(Number(port), { pid, beforeQuit: BigInt(beforeQuit) });
  }
  for (const port of reused) reports.delete(port);
  assert.ok(reports.size >= CLIENTS - 2 * MAX_REUSED_PORTS,
    `${CLIENTS - reports.size} clients shared a port with another`);
  return reports;
}

function judge(reports: Map<number, ClientReport>, lookups: Map<number, Lookup>): BurstOutcome {
  const outcome: BurstOutcome = { attributed: 0, wrong: 0, missedWhileOpen: 0,
    missedAfterQuit: 0, withoutDetails: 0, missTimings: [] };
  const python = realpathSync(PYTHON);
  for (const [port, report] of reports) {
    const lookup = lookups.get(port);
    assert.ok(lookup, `the connection from port ${port} was resolved`);
    if (lookup.owner.processId === report.pid) {
      outcome.attributed++;
      if (lookup.owner.imageFileName !== python) outcome.withoutDetails++;
    } else if (lookup.owner.processId !== '') {
      outcome.wrong++;
    } else if (lookup.startedAt < report.beforeQuit) {
      outcome.missedWhileOpen++;
      const ms = (from: bigint, to: bigint) => (Number(to - from) / 1e6).toFixed(2);
      outcome.missTimings.push(`${ms(lookup.acceptedAt, lookup.startedAt)} `
        + `${ms(lookup.startedAt, lookup.finishedAt)} ${ms(lookup.startedAt, report.beforeQuit)}`);
    } else {
      outcome.missedAfterQuit++;
    }
  }
  return outcome;
}

function describeOutcome(t: TestContext, outcome: BurstOutcome, resolver: SocketOwnerResolver) {
  const stats = Object.entries(resolver.stats).filter(([, value]) => value !== 0)
    .map(([name, value]) => `${name}=${Number.isInteger(value) ? value : value.toFixed(1)}`);
  t.diagnostic(`${outcome.attributed} of ${CLIENTS} attributed; ${JSON.stringify(outcome)}`);
  t.diagnostic(stats.join(' '));
}

describe('a burst of short-lived python3 smtplib clients, resolved as each connects',
  { timeout: 2 * BURST_TIMEOUT_MS }, () => {
    test('through sock_diag: every client still in its session is attributed', async (t) => {
      const resolver = new SocketOwnerResolver();
      resolver.indexAllProcesses();
      const outcome = await runBurst(resolver);
      describeOutcome(t, outcome, resolver);
      assert.equal(resolver.stats.sock_diag_unavailable, 0);
      assert.equal(outcome.wrong, 0);
      assert.equal(resolver.stats.socket_table_reads, 0);
      assert.ok(outcome.missedWhileOpen <= MAX_MISSED_WHILE_OPEN,
        `${outcome.missedWhileOpen} clients missed although looked up before their QUIT`);
      resolver.close();
    });

    test('with the kernel connect records: every client is attributed, to its own pid, '
      + 'looked up after all had exited', { skip: process.getuid?.() === 0 ? false
      : 'loading a BPF program needs root' }, async (t) => {
      const worker = new Worker(new URL('./smtp-sink-worker.js', import.meta.url));
      const [listening] = await once(worker, 'message') as [SinkListening];
      const syns = await SynWatcher.start(listening.port);
      const records = ConnectRecords.open([listening.port]);
      const resolver = new SocketOwnerResolver({ connectRecords: records });
      try {
        const reports = await startClients(listening.port);
        let attributed = 0;
        for (const [port, report] of reports) {
          const syn = await syns.sequenceOf('127.0.0.1', port);
          const owner = resolver.resolve('127.0.0.1', port, '127.0.0.1', listening.port,
            Date.now(), syn);
          assert.equal(owner.processId, report.pid, `the client on port ${port}`);
          assert.equal(owner.imageFileName, realpathSync(PYTHON));
          attributed++;
        }
        t.diagnostic(`${attributed} of ${reports.size} clients with a port of their own `
          + `attributed, none running any more; lookup_time_ms `
          + `${resolver.stats.lookup_time_ms.toFixed(1)}`);
        assert.equal(resolver.stats.connect_record_hits, reports.size);
        assert.equal(resolver.stats.processes_scanned, 0, 'nothing read in /proc');
      } finally {
        records.close();
        await syns.stop();
        await worker.terminate();
      }
    });

    test('through /proc/net/tcp (no sock_diag): slower, never wrong', async (t) => {
      // Without sock_diag a remembered four-tuple cannot be checked against its socket cheaply,
      // and loopback takes four-tuples again within seconds: no connection cache here.
      const resolver = new SocketOwnerResolver({ useSockDiag: false,
        limits: { connectionCacheTtlMs: 0 } });
      resolver.indexAllProcesses();
      const outcome = await runBurst(resolver);
      describeOutcome(t, outcome, resolver);
      assert.equal(resolver.stats.sock_diag_lookups, 0);
      assert.equal(outcome.wrong, 0);
    });
  });
