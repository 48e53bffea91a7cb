import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

/** A program that ran to its end (or was killed at its deadline). */
export interface FinishedProcess {
  pid: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  /** Written to standard input, which is then closed. */
  input?: string | Buffer;
  /** Killed with SIGKILL past this; the result says `timedOut`. */
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

/** Time a process has to end after SIGTERM before it gets SIGKILL. */
const TERMINATION_GRACE_MS = 3_000;

/**
 * Every process a test file starts, so that its `after` hook can end them all, whatever
 * failed. Processes are ended one by one, by their own pid, never by name.
 */
export class ChildProcesses {
  private readonly started = new Set<ChildProcess>();

  start(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.started.add(child);
    child.once('exit', () => this.started.delete(child));
    child.once('error', () => this.started.delete(child));
    return child;
  }

  /** Runs a program to its end, collecting its output; never rejects for a failing exit. */
  async run(command: string, args: readonly string[], options: RunOptions)
    : Promise<FinishedProcess> {
    const child = this.start(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin!.on('error', () => {});
    child.stdin!.end(options.input ?? '');
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    const [exitCode, signal] = await once(child, 'close') as
      [number | null, NodeJS.Signals | null];
    clearTimeout(deadline);
    return {
      pid: child.pid ?? -1,
      exitCode,
      signal,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
      timedOut,
    };
  }

  /** SIGTERM to each process still running, then SIGKILL to those that ignored it. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.started].map((child) => terminate(child)));
  }
}

/** Ends one process: SIGTERM, then SIGKILL after the grace time. Resolves once it exited. */
export async function terminate(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit').catch(() => []);
  child.kill(signal);
  const grace = () => sleep(TERMINATION_GRACE_MS, false, { ref: false });
  const ended = await Promise.race([exited.then(() => true), grace()]);
  if (ended) return;
  child.kill('SIGKILL');
  await Promise.race([exited, grace()]);
}
