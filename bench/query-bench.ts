import { once } from 'node:events';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync }
  from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runQueryCommand } from '../agent/query-command.js';
import type { EventRecord } from '../src/events/query/event-predicate.js';
import { compileQuery } from '../src/events/query/query-compiler.js';

/**
 * How fast the seed's third query (commands to servers outside the private IPv4 ranges) runs:
 * on parsed events, on JSON lines (parse + match), and end to end through `query` on a file.
 * Writes the figures to bench/results/query-latest.json.
 * Run with `npx tsc -p . && node dist/bench/query-bench.js [EVENTS]`.
 */
const EVENT_COUNT = Number(process.argv[2] ?? 500_000);

/** This file runs as dist/bench/query-bench.js. */
const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS_PATH = join(REPOSITORY_ROOT, 'bench', 'results', 'query-latest.json');

/** Distinct lines the file cycles through; enough that no caching flatters the figures. */
const DISTINCT_LINES = 10_000;

const EXPRESSION = 'event_simpleName=SmtpCommand RemoteAddressIP4!="10.0.0.0/8" ' +
  'RemoteAddressIP4!="172.16.0.0/12" RemoteAddressIP4!="192.168.0.0/16"';

const SENDERS = [
  ['/usr/sbin/sendmail', 'sendmail -t'],
  ['/usr/bin/python3.11', 'python3 /opt/report/send.py --daily'],
  ['/usr/bin/curl', 'curl --url smtp://mx.example.net --mail-from ops@example.net -T r.txt'],
  ['/usr/lib/postfix/sbin/smtp', 'smtp -t unix -u -c'],
] as const;
const VERBS = ['EHLO', 'MAIL', 'RCPT', 'DATA', 'QUIT'] as const;
const KINDS = ['2', '4', '5', '7', '13'] as const;

/** One event in ten is a companion event, one in eight goes over IPv6, a third stay private. */
function eventLine(index: number): string {
  const [image, commandLine] = SENDERS[index % SENDERS.length];
  const verb = index % VERBS.length;
  const event: Record<string, string> = {
    event_simpleName: index % 10 === 9 ? 'SmtpAnomaly' : 'SmtpCommand',
    id: index.toString(16).padStart(32, '0'),
    timestamp: String(1701619200000 + index * 7),
    ContextTimeStamp: ((1701619200000 + index * 7) / 1000).toFixed(3),
    aid: '3f2b9c0d4e5f46a7b8c9d0e1f2a3b4c5',
    ComputerName: `web-${index % 50}`,
    event_platform: 'Lin',
    ContextProcessId: String(1000 + (index % 30000)),
    ParentProcessId: '1',
    UserId: '0',
    UserName: 'root',
    ImageFileName: image,
    CommandLine: commandLine,
    SmtpCommandKind: KINDS[verb],
    SmtpVerb: VERBS[verb],
    CommandArg1: verb === 1 ? `FROM:<user${index % 977}@example.com>` : '',
  };
  Object.assign(event, addressFields(index));
  event.ConnectionDirection = '0';
  event.SmtpSessionId = (index >> 3).toString(16).padStart(16, '0');
  return JSON.stringify(event);
}

function addressFields(index: number): Record<string, string> {
  const octet = index % 250;
  if (index % 8 === 7) {
    return {
      LocalAddressIP6: '2001:db8:1::5', LocalPort: String(30000 + octet),
      RemoteAddressIP6: `2001:db8:25::${octet.toString(16)}`, RemotePort: '25',
    };
  }

  const remotes = [`10.20.${octet}.1`, `198.51.100.${octet}`, `192.168.1.${octet}`,
    `203.0.113.${octet}`, `172.20.${octet}.9`, `172.32.${octet}.9`];
  return {
    LocalAddressIP4: '10.1.2.3', LocalPort: String(30000 + octet),
    RemoteAddressIP4: remotes[index % remotes.length], RemotePort: '25',
  };
}

async function writeEventFile(path: string, lines: readonly string[]): Promise<void> {
  const file = createWriteStream(path);
  for (let index = 0; index < EVENT_COUNT; index += 1000) {
    const batch: string[] = [];
    const end = Math.min(index + 1000, EVENT_COUNT);
    for (let line = index; line < end; line++) batch.push(lines[line % lines.length], '\n');
    if (!file.write(batch.join(''))) await once(file, 'drain');
  }
  file.end();
  await once(file, 'close');
}

interface Measurement {
  label: string;
  seconds: number;
  eventsPerSecond: number;
}

/** Every figure printed, in order, for the results file. */
const measurements: Measurement[] = [];

function timed<T>(label: string, events: number, work: () => T): T {
  const start = performance.now();
  const result = work();
  report(label, events, performance.now() - start);
  return result;
}

function report(label: string, events: number, milliseconds: number): void {
  const seconds = milliseconds / 1000;
  const eventsPerSecond = Math.round(events / seconds);
  measurements.push({ label, seconds: Number(seconds.toFixed(3)), eventsPerSecond });
  console.log(`${label.padEnd(44)} ${seconds.toFixed(2)} s  `
    + `${eventsPerSecond.toLocaleString('en-US')} events/s`);
}

function writeResults(file: { megabytes: number }, matched: number, outputBytes: number): void {
  mkdirSync(dirname(RESULTS_PATH), { recursive: true });
  writeFileSync(RESULTS_PATH, `${JSON.stringify({
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version },
    events: EVENT_COUNT,
    distinctLines: DISTINCT_LINES,
    fileMegabytes: file.megabytes,
    expression: EXPRESSION,
    matches: matched,
    outputMegabytes: Number((outputBytes / 1e6).toFixed(1)),
    runs: measurements,
  }, null, 2)}\n`);
  console.log(`results: ${RESULTS_PATH}`);
}

function matchParsed(lines: readonly string[]): number {
  const matches = compileQuery(EXPRESSION);
  const events = lines.map((line) => JSON.parse(line) as EventRecord);
  return timed('compiled predicate, parsed events', EVENT_COUNT, () => {
    let matched = 0;
    for (let index = 0; index < EVENT_COUNT; index++) {
      if (matches(events[index % events.length])) matched++;
    }
    return matched;
  });
}

function matchLines(lines: readonly string[]): number {
  const matches = compileQuery(EXPRESSION);
  return timed('compiled predicate, JSON.parse + match', EVENT_COUNT, () => {
    let matched = 0;
    for (let index = 0; index < EVENT_COUNT; index++) {
      if (matches(JSON.parse(lines[index % lines.length]) as EventRecord)) matched++;
    }
    return matched;
  });
}

async function runCommand(path: string, count: boolean): Promise<number> {
  let bytes = 0;
  const stdout = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
  });
  const start = performance.now();
  const code = await runQueryCommand({
    expression: EXPRESSION, files: [path], count, stdin: new PassThrough(), stdout,
    stderr: process.stderr,
  });
  const label = count ? 'runQueryCommand --count, file' : 'runQueryCommand, file to stdout';
  report(label, EVENT_COUNT, performance.now() - start);
  return code === 0 ? bytes : -1;
}

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'query-bench-'));
  try {
    const lines = Array.from({ length: DISTINCT_LINES }, (_, index) => eventLine(index));
    const path = join(folder, 'events.jsonl');
    await writeEventFile(path, lines);
    const megabytes = Number((statSync(path).size / 1e6).toFixed(1));
    console.log(`${EVENT_COUNT.toLocaleString('en-US')} events, ${megabytes.toFixed(0)} MB, `
      + 'query:');
    console.log(`  ${EXPRESSION}`);

    const matched = matchParsed(lines);
    if (matchLines(lines) !== matched) throw new Error('the two predicate runs disagree');
    if (await runCommand(path, true) < 0) throw new Error('query --count failed');
    const bytes = await runCommand(path, false);
    if (bytes < 0) throw new Error('query failed');
    console.log(`${matched.toLocaleString('en-US')} matches, ${(bytes / 1e6).toFixed(0)} MB out`);
    writeResults({ megabytes }, matched, bytes);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

await main();
