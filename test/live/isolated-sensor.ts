import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcesses } from './child-processes.js';
import { SensorProcess } from './sensor-process.js';
import { waitForGreeting } from './smtp-server.js';

/** A sensor that sees, of all the processes of the machine, only itself and one server. */
export interface IsolatedSensor {
  sensor: SensorProcess;
  /** The server's pid as the sensor sees it, inside the PID namespace. */
  serverPidInside: string;
  /** The same process's pid in the test's (the host's) PID namespace. */
  serverHostPid: number;
}

const PID_TIMEOUT_MS = 5_000;
const POLL_INTERVAL_MS = 20;

/**
 * Starts an SMTP server and the sensor in a PID namespace of their own, /proc mounted for it,
 * in the host's network namespace. The sensor can then attribute nothing to the processes of
 * the rest of the host: a client there, or in a network namespace, is for it a remote client,
 * as a client on another machine would be; its server is a local process. The shell that
 * starts the server execs the sensor, so the sensor is pid 1 there and the server's parent.
 */
export async function startIsolatedSensor(children: ChildProcesses, scratch: string,
  serverArgv: readonly string[], server: { host: string; port: number },
  sensorArgs: readonly string[]): Promise<IsolatedSensor> {
  const pidFile = join(scratch, `server-${server.port}.pid`);
  const script = `${serverArgv.map(shellQuote).join(' ')} >/dev/null 2>&1 & `
    + `echo $! > ${shellQuote(pidFile)}; exec "$@"`;
  const wrapper = ['unshare', '--pid', '--kill-child', '--mount-proc', '/bin/sh', '-c', script,
    'sh'];
  const sensor = await SensorProcess.start(children, sensorArgs,
    { wrapper, findSensorPid: (unshare) => firstChild(unshare) });
  await waitForGreeting(server.host, server.port);
  const serverPidInside = readFileSync(pidFile, 'utf8').trim();
  const serverHostPid = await childWithInnerPid(sensor.sensorPid, serverPidInside);
  return { sensor, serverPidInside, serverHostPid };
}

/** The pid of the one process `unshare --fork` started, as the host numbers it. */
async function firstChild(parent: ChildProcess): Promise<number> {
  const pids = await childrenOf(parent.pid!, () => true);
  return pids[0];
}

/** The child of `parent` whose pid inside its PID namespace is `innerPid` (NSpid line). */
async function childWithInnerPid(parent: number, innerPid: string): Promise<number> {
  const [pid] = await childrenOf(parent, (child) => {
    const status = readFileSync(`/proc/${child}/status`, 'utf8');
    return status.match(/^NSpid:\s+(.*)$/m)?.[1].split(/\s+/).at(-1) === innerPid;
  });
  return pid;
}

/** Polls /proc/PID/task/PID/children (the main thread's children) until one matches. */
async function childrenOf(parent: number, wanted: (pid: number) => boolean): Promise<number[]> {
  const deadline = Date.now() + PID_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const text = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim();
    const pids = text === '' ? [] : text.split(' ').map(Number).filter(wanted);
    if (pids.length > 0) return pids;
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`no matching child of pid ${parent} after ${PID_TIMEOUT_MS} ms`);
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
