import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** GNU time reports the peak resident set size of the command it runs (`-v`). */
const GNU_TIME = '/usr/bin/time';
/** Without GNU time, /proc/PID/status is read this often for VmHWM (the peak RSS so far). */
const RSS_POLL_MILLISECONDS = 50;

export interface TimedRun {
  exitCode: number | null;
  seconds: number;
  /** Peak resident set size in KiB, or null when it could not be read. */
  peakRssKib: number | null;
  /** User plus system CPU time, when GNU time reported it. */
  cpuSeconds: number | null;
  /** The command's own standard error, without GNU time's report. */
  stderr: string;
}

/** GNU time's report follows the command's standard error and starts with this line. */
const GNU_TIME_REPORT_START = '\tCommand being timed:';

/**
 * Runs `command args` with standard output written to `outputPath` (a file, not a pipe: the
 * reader's speed must not enter the measure) and measures its wall time and peak RSS.
 */
export function runTimed(command: string, args: readonly string[], outputPath: string,
  cwd: string): Promise<TimedRun> {
  const useGnuTime = existsSync(GNU_TIME);
  const output = openSync(outputPath, 'w');
  const started = performance.now();
  const child = useGnuTime
    ? spawn(GNU_TIME, ['-v', command, ...args], { cwd, stdio: ['ignore', output, 'pipe'] })
    : spawn(command, [...args], { cwd, stdio: ['ignore', output, 'pipe'] });
  closeSync(output);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => { stderr += text; });
  let polledPeak: number | null = null;
  const poll = useGnuTime ? null : setInterval(() => {
    polledPeak = Math.max(polledPeak ?? 0, readPeakRss(child.pid) ?? 0);
  }, RSS_POLL_MILLISECONDS);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode) => {
      const seconds = (performance.now() - started) / 1000;
      if (poll !== null) clearInterval(poll);
      const reportStart = useGnuTime ? stderr.lastIndexOf(GNU_TIME_REPORT_START) : -1;
      const report = reportStart < 0 ? '' : stderr.slice(reportStart);
      resolve({
        exitCode,
        seconds,
        peakRssKib: useGnuTime ? gnuTimeField(report, 'Maximum resident set size (kbytes)')
          : polledPeak,
        cpuSeconds: useGnuTime ? cpuSeconds(report) : null,
        stderr: reportStart < 0 ? stderr : stderr.slice(0, reportStart),
      });
    });
  });
}

function gnuTimeField(stderr: string, name: string): number | null {
  const match = new RegExp(`^\\s*${name.replace(/[()]/g, '\\$&')}: ([0-9.]+)$`, 'm').exec(stderr);
  return match === null ? null : Number(match[1]);
}

function cpuSeconds(stderr: string): number | null {
  const user = gnuTimeField(stderr, 'User time (seconds)');
  const system = gnuTimeField(stderr, 'System time (seconds)');
  return user === null || system === null ? null : user + system;
}

function readPeakRss(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}
