import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_PROC_LIMITS } from '../src/proc/proc-limits.js';
import { UNKNOWN_PROCESS } from '../src/proc/process-info.js';
import { SocketOwnerResolver } from '../src/proc/socket-owner-resolver.js';

/**
 * What attribution costs on a host with many processes: SLEEPERS idle processes, then CLIENTS
 * short-lived bash clients (bash opens the connection itself, through /dev/tcp) connecting to a
 * local server, each connection resolved as soon as it is accepted (as the agent resolves at
 * the SYN). Reports the cost per new connection, per repeated lookup, and of a full scan. Run
 * with `npx tsc -p . && node dist/bench/proc-bench.js [SLEEPERS] [CLIENTS]`.
 */
const SLEEPERS = Number(process.argv[2] ?? 2_000);
const CLIENTS = Number(process.argv[3] ?? 300);
/** Clients started together, then the next batch after BATCH_PAUSE_MS: about 200 a second. */
const BATCH = 10;
const BATCH_PAUSE_MS = 50;
const FULL_SCAN_RUNS = 5;
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

async function main(): Promise<void> {
  const sleepersStarted = performance.now();
  await startSleepers();
  const processCount = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length;
  console.log(`${SLEEPERS} sleepers started in ${(performance.now() - sleepersStarted)
    .toFixed(0)} ms; ${processCount} processes on the host`);

  const resolver = new SocketOwnerResolver();
  const fullScans = measureFullScans(resolver);
  const statsBefore = { ...resolver.stats };
  const { server, port, results } = await resolveNewConnections(resolver);
  const repeats = measureRepeats(resolver, port, results.accepted);

  console.log(summary('full scan of every process', fullScans));
  console.log(summary('new connection, short-lived client (cold)', results.times));
  console.log(summary('same connection again (connection cache)', repeats.cached));
  console.log(summary('same connection after the cache TTL (index)', repeats.indexed));
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
