import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ChildProcesses } from './child-processes.js';

/** The repository, from dist/test/live/ where this file runs once compiled. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SENSOR_EXECUTABLE = join(REPOSITORY_ROOT, 'agent', 'smtp-sensor');

/** One line of standard output: an event, every value a string (docs/events.md). */
export type SensorEvent = Record<string, string>;
/** One pino line of standard error. */
export type SensorLogLine = Record<string, unknown> & { msg?: string };

/** What a sensor run left behind once it was stopped. */
export interface SensorRun {
  events: SensorEvent[];
  /** Wall-clock ms at which each event was read from the sensor's output, by index. */
  arrivalTimes: number[];
  logs: SensorLogLine[];
  /** The `capture stopped` line, with the counters; undefined when it was not written. */
  stopLog: SensorLogLine | undefined;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Lines of either stream that are not JSON: there should be none. */
  unparsedLines: string[];
  stdout: string;
  stderr: string;
}

export interface SensorStartOptions {
  /** Put before the sensor's command line, e.g. `unshare ...`: the sensor is then a child. */
  wrapper?: string[];
  /** The pid to signal when the sensor is not the spawned process itself. */
  findSensorPid?: (spawned: ChildProcess) => Promise<number>;
}

/** The capture must start within this time (the first full scan of /proc included). */
const START_TIMEOUT_MS = 20_000;
/** After SIGTERM the sensor flushes and exits; past this it is killed and the test fails. */
const STOP_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 25;

/** argv of `smtp-sensor run` with these arguments. */
export function sensorRunArgv(args: readonly string[]): string[] {
  return [process.execPath, SENSOR_EXECUTABLE, 'run', ...args];
}

/**
 * The `Nice=` of the systemd unit: live tests run the sensor at the priority it is deployed
 * with, since attribution of short-lived clients depends on it. `nice` execs the sensor, so
 * the spawned pid is the sensor's.
 */
function deployedPriority(): string[] {
  const unit = readFileSync(join(REPOSITORY_ROOT, 'systemd', 'smtp-sensor.service'), 'utf8');
  const nice = /^Nice=(-?\d+)$/m.exec(unit)?.[1];
  return nice === undefined ? [] : ['nice', '-n', nice];
}

/**
 * A running `smtp-sensor run`. Its output is parsed as it comes, so that a test can wait for
 * the events of the clients it started while the sensor keeps capturing.
 */
export class SensorProcess {
  readonly events: SensorEvent[] = [];
  readonly arrivalTimes: number[] = [];
  readonly logs: SensorLogLine[] = [];
  private readonly unparsedLines: string[] = [];
  private readonly stdout: string[] = [];
  private readonly stderr: string[] = [];
  private stopping: Promise<SensorRun> | undefined;
  /** Registered at once, so that an exit before `stop()` is not missed. */
  private readonly closed: Promise<[number | null, NodeJS.Signals | null]>;

  private constructor(readonly child: ChildProcess, public sensorPid: number) {
    this.closed = (once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>)
      .catch(() => [null, null]);
    readLines(child.stdout!, this.stdout, (line) => {
      this.events.push(line as SensorEvent);
      this.arrivalTimes.push(Date.now());
    }, this.unparsedLines);
    readLines(child.stderr!, this.stderr, (line) => this.logs.push(line), this.unparsedLines);
  }

  /** Starts `smtp-sensor run ARGS` and resolves once it logged `capture started`. */
  static async start(children: ChildProcesses, args: readonly string[],
    options: SensorStartOptions = {}): Promise<SensorProcess> {
    const argv = [...options.wrapper ?? [], ...deployedPriority(), ...sensorRunArgv(args)];
    const child = children.start(argv[0], argv.slice(1), { cwd: REPOSITORY_ROOT });
    const sensor = new SensorProcess(child, child.pid ?? -1);
    await sensor.waitFor(() => sensor.logs.some((line) => line.msg === 'capture started'),
      START_TIMEOUT_MS, '"capture started" in the sensor\'s log');
    if (options.findSensorPid !== undefined) sensor.sensorPid = await options.findSensorPid(child);
    return sensor;
  }

  /**
   * Resolves once `condition` holds, checked as output comes; rejects at the deadline or when
   * the sensor exits first, with its standard error in the message.
   */
  async waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`the sensor exited (${this.child.exitCode ?? this.child.signalCode}) `
          + `while waiting for ${what}; stderr:\n${this.stderr.join('').slice(-4_000)}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`no ${what} after ${timeoutMs} ms; sensor stderr:\n`
          + this.stderr.join('').slice(-4_000));
      }
      await sleep(POLL_INTERVAL_MS);
    }
  }

  /**
   * Sends `signal`, waits for the exit, and returns everything the sensor wrote. Later calls
   * return the same run.
   */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<SensorRun> {
    this.stopping ??= this.stopOnce(signal);
    return this.stopping;
  }

  private async stopOnce(signal: NodeJS.Signals): Promise<SensorRun> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      killQuietly(this.sensorPid, signal);
    }
    const deadline = sleep(STOP_TIMEOUT_MS, undefined, { ref: false });
    const ended = await Promise.race([this.closed, deadline]);
    if (ended === undefined) {
      this.child.kill('SIGKILL');
      if (this.sensorPid !== this.child.pid) killQuietly(this.sensorPid, 'SIGKILL');
      await this.closed;
    }
    return {
      events: this.events,
      arrivalTimes: this.arrivalTimes,
      logs: this.logs,
      stopLog: this.logs.find((line) => line.msg === 'capture stopped'),
      exitCode: ended?.[0] ?? null,
      signal: ended?.[1] ?? 'SIGKILL',
      unparsedLines: this.unparsedLines,
      stdout: this.stdout.join(''),
      stderr: this.stderr.join(''),
    };
  }
}

/** Splits a stream into lines and parses each as JSON; keeps the raw text too. */
function readLines(stream: NodeJS.ReadableStream, raw: string[],
  onObject: (value: SensorLogLine) => void, unparsed: string[]): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    raw.push(chunk);
    const lines = (pending + chunk).split('\n');
    pending = lines.pop()!;
    for (const line of lines) parseLine(line, onObject, unparsed);
  });
  stream.on('end', () => parseLine(pending, onObject, unparsed));
}

function parseLine(line: string, onObject: (value: SensorLogLine) => void, unparsed: string[]) {
  if (line.trim() === '') return;
  try {
    onObject(JSON.parse(line) as SensorLogLine);
  } catch {
    unparsed.push(line);
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}
