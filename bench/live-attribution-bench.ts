import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChildProcesses } from '../test/live/child-processes.js';
import { outputLagSummary } from '../test/live/sensor-diagnostics.js';
import { SensorProcess } from '../test/live/sensor-process.js';
import {
  judgeAttribution, quitsTo, runShortLivedClients,
} from '../test/live/short-lived-clients.js';
import { startSmtpServer } from '../test/live/smtp-server.js';

/**
 * What live attribution achieves and costs. `smtp-sensor run` captures on lo while CLIENTS
 * short-lived python clients (default 300), CONCURRENCY at a time (default 4), each send one
 * message to a local aiosmtpd and exit right after QUIT. Prints the share of clients whose
 * every event names their own pid and python, and the sensor's CPU time per new connection:
 * utime + stime of its /proc/PID/stat before and after the clients, less what it spends idle
 * over the same time, beside the resolver's own lookup time from its `capture stopped` line.
 * Run as root: `npx tsc -p . && node dist/bench/live-attribution-bench.js [CLIENTS] [CONCURRENCY]`.
 */
const CLIENTS = Number(process.argv[2] ?? 300);
const CONCURRENCY = Number(process.argv[3] ?? 4);
const LOOPBACK = '127.0.0.1';
/** The sensor's CPU use with no traffic is measured over this time, then subtracted. */
const IDLE_MEASURE_MS = 2_000;
const DRAIN_TIMEOUT_MS = 30_000;

interface CpuSample {
  cpuMs: number;
  wallMs: number;
}

/** Fields 14 and 15 of /proc/PID/stat, counted after the `)` that ends the command name. */
function sampleCpu(pid: number, ticksPerSecond: number): CpuSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { cpuMs: (ticks * 1000) / ticksPerSecond, wallMs: performance.now() };
}

function clockTicksPerSecond(): number {
  const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  return Number(result.stdout.trim()) || 100;
}

function cpuBetween(before: CpuSample, after: CpuSample) {
  return { cpuMs: after.cpuMs - before.cpuMs, wallMs: after.wallMs - before.wallMs };
}

async function main(): Promise<number> {
  const ticksPerSecond = clockTicksPerSecond();
  const children = new ChildProcesses();
  try {
    const server = await startSmtpServer(children, { host: LOOPBACK });
    const sensor = await SensorProcess.start(children,
      ['--interface', 'lo', '--ports', String(server.port)]);
    const idleStart = sampleCpu(sensor.sensorPid, ticksPerSecond);
    await sleep(IDLE_MEASURE_MS);
    const busyStart = sampleCpu(sensor.sensorPid, ticksPerSecond);
    const clients = await runShortLivedClients(children, LOOPBACK, server.port, CLIENTS,
      CONCURRENCY, 'bench');
    const clientsEnd = performance.now();
    const drained = await sensor.waitFor(() => quitsTo(sensor.events, server.port) >= CLIENTS,
      DRAIN_TIMEOUT_MS, `${CLIENTS} QUITs`).then(() => true, () => false);
    const busyEnd = sampleCpu(sensor.sensorPid, ticksPerSecond);
    const run = await sensor.stop();
    const idle = cpuBetween(idleStart, busyStart);
    const busy = cpuBetween(busyStart, busyEnd);
    const idleShare = idle.cpuMs / idle.wallMs;
    const netCpuMs = busy.cpuMs - idleShare * busy.wallMs;
    const outcome = judgeAttribution(run, clients);
    const counters = (run.stopLog?.attribution ?? {}) as Record<string, number>;
    const clientSeconds = (clientsEnd - busyStart.wallMs) / 1000;
    const lines = [
      `clients                     ${CLIENTS} (${CONCURRENCY} at a time), `
        + `${(CLIENTS / clientSeconds).toFixed(0)}/s over ${clientSeconds.toFixed(1)} s`,
      `all commands reported       ${outcome.withAllCommands}/${CLIENTS}`
        + (drained ? '' : ' (not all QUITs came in time)'),
      `attributed to their process ${outcome.attributed}/${CLIENTS} `
        + `(${((100 * outcome.attributed) / CLIENTS).toFixed(1)}%)`,
      `sensor CPU                  ${busy.cpuMs.toFixed(0)} ms over ${busy.wallMs.toFixed(0)} ms,`
        + ` idle ${(idleShare * 100).toFixed(1)}% of a core`,
      `sensor CPU per connection   ${(netCpuMs / CLIENTS).toFixed(2)} ms (idle subtracted, `
        + `${1000 / ticksPerSecond} ms clock ticks)`,
      `resolver time per lookup    ${(counters.lookup_time_ms / counters.lookups).toFixed(2)} ms `
        + `(${counters.lookups} lookups, ${counters.full_scans} full scans, `
        + `${counters.full_scans_rate_limited} refused by the budget)`,
      `misses by reason            sockets_not_found ${counters.sockets_not_found}, `
        + `sockets_without_inode ${counters.sockets_without_inode}, `
        + `owners_not_found ${counters.owners_not_found}`,
      `events                      ${outputLagSummary(run)}`,
      `pcap                        ${JSON.stringify(run.stopLog?.pcap)}`,
      `sensor exit code            ${run.exitCode}`,
    ];
    console.log(lines.join('\n'));
    for (const problem of outcome.problems.slice(0, 10)) console.log(`  ${problem}`);
    return outcome.withAllCommands === CLIENTS ? 0 : 1;
  } finally {
    await children.stopAll();
  }
}

process.exitCode = await main();
