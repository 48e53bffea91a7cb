import type { SensorRun } from './sensor-process.js';

/** The attribution counters of the `capture stopped` line that are not zero, as one line. */
export function nonZeroAttributionCounters(run: SensorRun): string {
  const counters = (run.stopLog?.attribution ?? {}) as Record<string, unknown>;
  const nonZero = Object.entries(counters).filter(([, value]) => value !== 0);
  if (nonZero.length === 0) return 'no attribution counters (no "capture stopped" line?)';
  return nonZero.map(([name, value]) => `${name}=${typeof value === 'number'
    ? Math.round(value * 10) / 10 : String(value)}`).join(' ');
}

/**
 * How long after capture each SmtpCommand reached the sensor's output: read time minus the
 * event's `timestamp` (capture time). The first command of a connection waits for the lookup
 * of its process, so a lag here is time during which a short-lived client can exit.
 */
export function outputLagSummary(run: SensorRun): string {
  const lags = run.events.map((event, index) => run.arrivalTimes[index] - Number(event.timestamp))
    .filter((lag, index) => run.events[index].event_simpleName === 'SmtpCommand'
      && Number.isFinite(lag))
    .sort((a, b) => a - b);
  if (lags.length === 0) return 'no commands';
  const at = (fraction: number) =>
    lags[Math.min(lags.length - 1, Math.floor(fraction * lags.length))];
  return `output lag after capture: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, `
    + `max ${lags[lags.length - 1]} ms over ${lags.length} commands`;
}
