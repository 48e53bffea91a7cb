import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
 * With the kernel connect records (the default, `records`), it also prints what their BPF
 * programs cost in the kernel (kernel.bpf_stats_enabled is set for the run: run time and count
 * of each program the sensor loaded); `proc` runs the sensor with them off, /proc alone.
 * Run as root: `npx tsc -p . && node dist/bench/live-attribution-bench.js [CLIENTS]
 * [CONCURRENCY] [records|proc]`.
 */
const CLIENTS = Number(process.argv[2] ?? 300);
const CONCURRENCY = Number(process.argv[3] ?? 4);
const MODE = process.argv[4] ?? 'records';
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

interface ProgramCost {
  name: string;
  runs: number;
  ns: number;
}

/** The sensor's programs in native/connect-owner/connect_owner.bpf.c. */
const PROGRAM_NAMES = ['record_connect', 'record_syn'];

/**
 * The connect records' BPF programs, with their run counts and times (bpftool prog show). By
 * name: this kernel gives bpftool no pids, so no other sensor may run meanwhile.
 */
function programCosts(): ProgramCost[] {
  const shown = spawnSync('bpftool', ['prog', 'show', '--json'], { encoding: 'utf8' });
  const programs = JSON.parse(shown.stdout || '[]') as {
    name?: string; run_cnt?: number; run_time_ns?: number;
  }[];
  return programs.filter((program) => PROGRAM_NAMES.includes(program.name ?? ''))
    .map((program) => ({ name: program.name ?? '?', runs: program.run_cnt ?? 0,
      ns: program.run_time_ns ?? 0 }));
}

function describeCosts(before: ProgramCost[], after: ProgramCost[]): string {
  return after.map((program) => {
    const start = before.find((earlier) => earlier.name === program.name);
    const runs = program.runs - (start?.runs ?? 0);
    const ns = program.ns - (start?.ns ?? 0);
    return `${program.name} ${runs} runs, ${(ns / 1e6).toFixed(2)} ms, `
      + `${runs === 0 ? 0 : (ns / runs).toFixed(0)} ns/run, `
      + `${(ns / CLIENTS / 1000).toFixed(1)} µs per client`;
  }).join('; ');
}

function setBpfStats(enabled: boolean): string {
  const path = '/proc/sys/kernel/bpf_stats_enabled';
  const before = readFileSync(path, 'utf8').trim();
  writeFileSync(path, enabled ? '1' : '0');
  return before;
}

function cpuBetween(before: CpuSample, after: CpuSample) {
  return { cpuMs: after.cpuMs - before.cpuMs, wallMs: after.wallMs - before.wallMs };
}

async function main(): Promise<number> {
  const ticksPerSecond = clockTicksPerSecond();
  const children = new ChildProcesses();
  try {
    const server = await startSmtpServer(children, { host: LOOPBACK });
    const config = join(mkdtempSync(join(tmpdir(), 'attribution-bench-')), 'config.yaml');
    writeFileSync(config, `attribution:\n  connect_records: "${MODE === 'proc' ? 'off'
      : 'required'}"\n`);
    const sensor = await SensorProcess.start(children,
      ['--interface', 'lo', '--ports', String(server.port), '--config', config]);
    const statsWere = setBpfStats(true);
    const idleStart = sampleCpu(sensor.sensorPid, ticksPerSecond);
    await sleep(IDLE_MEASURE_MS);
    const busyStart = sampleCpu(sensor.sensorPid, ticksPerSecond);
    const costsBefore = programCosts();
    const clients = await runShortLivedClients(children, LOOPBACK, server.port, CLIENTS,
      CONCURRENCY, 'bench');
    const clientsEnd = performance.now();
    const drained = await sensor.waitFor(() => quitsTo(sensor.events, server.port) >= CLIENTS,
      DRAIN_TIMEOUT_MS, `${CLIENTS} QUITs`).then(() => true, () => false);
    const busyEnd = sampleCpu(sensor.sensorPid, ticksPerSecond);
    const costsAfter = programCosts();
    setBpfStats(statsWere === '1');
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
      `attribution                 ${MODE === 'proc' ? '/proc alone'
        : `connect records: ${counters.connect_record_hits} hits, `
          + `${counters.connect_record_misses} misses`}`,
      `BPF programs in the kernel  ${costsAfter.length === 0 ? 'none'
        : describeCosts(costsBefore, costsAfter)}`,
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
