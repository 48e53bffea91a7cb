import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { ChildProcesses } from '../live/child-processes.js';
import { SensorProcess, type SensorLogLine } from '../live/sensor-process.js';
import type { EventRecord } from './mail-client.js';

/** The loopback address and interface the service tests capture on. */
export const LOOPBACK = '127.0.0.1';
export const LOOPBACK_INTERFACE = 'lo';

/** Fast retries, so that an outage and its end take seconds, not minutes. */
export const QUICK_RETRY = { initial_ms: 50, max_ms: 400 };

/**
 * Writes the agent's YAML configuration file, as an operator would. `interface` is set to
 * loopback unless the caller set it; the tests' SMTP port is passed with --ports.
 */
export function writeConfig(path: string, config: Record<string, unknown>): void {
  const capture = { interface: LOOPBACK_INTERFACE, ...config.capture as object };
  writeFileSync(path, stringify({ ...config, capture }));
}

/**
 * `smtp-sensor run --config FILE --ports PORT`, the real agent, resolved once it logged
 * `capture started`. Events it prints on stdout are in `sensor.events`, its log in `logs`.
 */
export function startAgent(children: ChildProcesses, configPath: string, smtpPort: number,
  extraArgs: readonly string[] = []): Promise<SensorProcess> {
  return SensorProcess.start(children, ['--config', configPath, '--ports', String(smtpPort),
    ...extraArgs]);
}

/** The JSON lines of a file sink's file; none when it does not exist. */
export function readEventFile(path: string): EventRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((line) => line !== '')
    .map((line) => JSON.parse(line) as EventRecord);
}

/** Log lines with this message, from index `since` on. */
export function logsWithMessage(sensor: SensorProcess, message: string, since = 0)
  : SensorLogLine[] {
  return sensor.logs.slice(since).filter((line) => line.msg === message);
}

/** pino's level numbers. */
export const LOG_LEVEL = { warn: 40, error: 50 } as const;

/** Sends a signal to the running agent (SIGHUP for a reload). */
export function signalAgent(sensor: SensorProcess, signal: NodeJS.Signals): void {
  process.kill(sensor.sensorPid, signal);
}

/** How many times each id occurs beyond its first, summed: the duplicates of a delivery. */
export function duplicateCount(received: ReadonlyMap<string, number>): number {
  let duplicates = 0;
  for (const count of received.values()) duplicates += count - 1;
  return duplicates;
}
