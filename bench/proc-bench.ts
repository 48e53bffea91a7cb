import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_PROC_LIMITS } from '../src/proc/proc-limits.js';
import { UNKNOWN_PROCESS } from '../src/proc/process-info.js';
import { ProcFileReader } from '../src/proc/proc-file-reader.js';
import { SockDiag } from '../src/proc/sock-diag.js';
import { SocketOwnerResolver } from '../src/proc/socket-owner-resolver.js';
import { findSocketInode } from '../src/proc/socket-table-search.js';
import { TcpTuple } from '../src/proc/tcp-tuple.js';

/**
 * What attribution costs on a host with many processes: SLEEPERS idle processes, then CLIENTS
 * short-lived bash clients (bash opens the connection itself, through /dev/tcp) connecting to a
 * local server, each connection resolved as soon as it is accepted (as the agent resolves at
 * the SYN). Reports the cost per new connection, per repeated lookup, and of a full scan, then
 * the steps apart: connection -> inode through sock_diag and through /proc/net/tcp, and a listing
 * of /proc. Run with `npm run build && node dist/bench/proc-bench.js [SLEEPERS] [CLIENTS]
 * [tables]`; `tables` finds sockets in /proc/net/tcp{,6} instead of through sock_diag, as
 * without the addon. Figures: docs/process-attribution.md, Cost.
 */
const SLEEPERS = Number(process.argv[2] ?? 2_000);
const CLIENTS = Number(process.argv[3] ?? 300);
const USE_SOCK_DIAG = process.argv[4] !== 'tables';
/** Clients started together, then the next batch after BATCH_PAUSE_MS: about 200 a second. */
const BATCH = 10;
const BATCH_PAUSE_MS = 50;
const FULL_SCAN_RUNS = 5;
/** Connections on which each step is timed alone. */
const STEP_RUNS = 100;
const BASH = '/bin/bash';
/**
 * Connects, waits up to 3 s for a reply that never comes, exits: a script sending one message.
 * bash starts in about 2 ms, so the clients come at the rate asked for even on two cores.
 */
const CLIENT_SCRIPT = 'exec 3<>/dev/tcp/127.0.0.1/$0; read -t 3 -u 3';

const started: ChildProcess[] = [];

function startChild(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: 'ignore' });
  started.push(child);
  return child;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

function summary(label: string, times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, time) => sum + time, 0) / sorted.length;
  return `${label.padEnd(44)} n=${String(sorted.length).padStart(4)}  mean ${mean.toFixed(3)} ms`
    + `  p50 ${percentile(sorted, 0.5).toFixed(3)}  p99 ${percentile(sorted, 0.99).toFixed(3)}`
    + `  max ${sorted[sorted.length - 1].toFixed(3)}`;
}

async function startSleepers(): Promise<void> {
  for (let index = 0; index < SLEEPERS; index++) startChild('sleep', ['60']);
  await Promise.all(started.map((child) => once(child, 'spawn')));
}

function measureFullScans(resolver: SocketOwnerResolver): number[] {
  const times: number[] = [];
  for (let run = 0; run < FULL_SCAN_RUNS; run++) {
    const before = performance.now();
    resolver.indexAllProcesses();
    times.push(performance.now() - before);
  }
  return times;
}

interface NewConnectionResults {
  times: number[];
  wrong: number;
  unknown: number;
  accepted: Socket[];
}

/** Starts the clients in batches and resolves each connection in the accept callback. */
async function resolveNewConnections(resolver: SocketOwnerResolver) {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const clientPids = new Set<string>();
  const results: NewConnectionResults = { times: [], wrong: 0, unknown: 0, accepted: [] };
  server.on('connection', (socket: Socket) => {
    const before = performance.now();
    const owner = resolver.resolve('127.0.0.1', socket.remotePort!, '127.0.0.1', port,
      Date.now());
    results.times.push(performance.now() - before);
    if (owner === UNKNOWN_PROCESS) results.unknown++;
    else if (!clientPids.has(owner.processId)) results.wrong++;
    results.accepted.push(socket);
    socket.on('error', () => {});
  });
  for (let index = 0; index < CLIENTS; index += BATCH) {
    for (let client = index; client < Math.min(CLIENTS, index + BATCH); client++) {
      const child = startChild(BASH, ['-c', CLIENT_SCRIPT, String(port)]);
      clientPids.add(String(child.pid));
    }
    await sleep(BATCH_PAUSE_MS);
  }
  while (results.times.length < CLIENTS) await sleep(20);
  return { server, port, results };
}

/** Lookups of connections already resolved: from the cache, then from the index. */
function measureRepeats(resolver: SocketOwnerResolver, port: number, sockets: Socket[]) {
  const open = sockets.filter((socket) => !socket.destroyed && socket.remotePort !== undefined);
  const cached: number[] = [];
  const indexed: number[] = [];
  const later = Date.now() + DEFAULT_PROC_LIMITS.connectionCacheTtlMs;
  for (const socket of open) {
    for (const [times, now] of [[cached, Date.now()], [indexed, later]] as const) {
      const before = performance.now();
      resolver.resolve('127.0.0.1', socket.remotePort!, '127.0.0.1', port, now);
      times.push(performance.now() - before);
    }
  }
  return { cached, indexed };
}

/**
 * The two steps of a lookup apart, on the connections still open: connection -> inode (through
 * sock_diag, and by reading /proc/net/tcp as without it), and listing /proc, which the search
 * for a new process avoids when it can.
 */
function measureSteps(port: number, sockets: Socket[]) {
  const sockDiag = SockDiag.load();
  const reader = new ProcFileReader(DEFAULT_PROC_LIMITS.maxSocketTableBytes);
  const steps = { sockDiag: [] as number[], table: [] as number[], listing: [] as number[] };
  for (const socket of sockets.filter((open) => !open.destroyed).slice(0, STEP_RUNS)) {
    const tuple = TcpTuple.parse('127.0.0.1', socket.remotePort!, '127.0.0.1', port)!;
    if (sockDiag !== undefined) steps.sockDiag.push(timed(() => sockDiag.findInode(tuple)));
    steps.table.push(timed(() => findSocketInode(reader.read('/proc/net/tcp')!,
      tuple.ipv4Needle!)));
    steps.listing.push(timed(() => readdirSync('/proc')));
  }
  return steps;
}

/** Milliseconds `work` took. */
function timed(work: () => unknown): number {
  const before = performance.now();
  work();
  return performance.now() - before;
}

async function main(): Promise<void> {
  const sleepersStarted = performance.now();
  await startSleepers();
  const processCount = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length;
  console.log(`${SLEEPERS} sleepers started in ${(performance.now() - sleepersStarted)
    .toFixed(0)} ms; ${processCount} processes on the host`);

  const resolver = new SocketOwnerResolver({ useSockDiag: USE_SOCK_DIAG });
  console.log(`sockets found through ${USE_SOCK_DIAG ? 'sock_diag' : '/proc/net/tcp{,6}'}`);
  const fullScans = measureFullScans(resolver);
  const statsBefore = { ...resolver.stats };
  const { server, port, results } = await resolveNewConnections(resolver);
  const repeats = measureRepeats(resolver, port, results.accepted);
  const steps = measureSteps(port, results.accepted);

  console.log(summary('full scan of every process', fullScans));
  console.log(summary('new connection, short-lived client (cold)', results.times));
  console.log(summary('same connection again (connection cache)', repeats.cached));
  console.log(summary('same connection after the cache TTL (index)', repeats.indexed));
  if (steps.sockDiag.length > 0) {
    console.log(summary('step: inode through sock_diag', steps.sockDiag));
  }
  console.log(summary('step: inode in /proc/net/tcp', steps.table));
  console.log(summary('step: listing /proc', steps.listing));
  console.log(`new connections: ${results.times.length}, wrongly attributed ${results.wrong}, `
    + `unknown ${results.unknown}`);
  const stats = resolver.stats as unknown as Record<string, number>;
  const deltas = Object.entries(stats)
    .map(([name, value]) => [name, value - (statsBefore as Record<string, number>)[name]])
    .filter(([, value]) => value !== 0)
    .map(([name, value]) => `${name}=${Number(value).toFixed(Number.isInteger(value) ? 0 : 1)}`);
  console.log(`counters during the client phase: ${deltas.join(' ')}`);

  for (const socket of results.accepted) socket.destroy();
  server.close();
}

try {
  await main();
} finally {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
}
