import { configSchema, type SensorConfig } from '../../../src/config/config-schema.js';

/** A full configuration with these sinks and a spool in `directory`, defaults elsewhere. */
export function sinkConfig(directory: string, sinks: unknown[],
  spool: Record<string, unknown> = {}): SensorConfig {
  return configSchema.parse({ output: { sinks }, spool: { directory, ...spool } });
}

/** Fast retries, so that outage tests take seconds. */
export const QUICK_RETRY = { initial_ms: 50, max_ms: 400 };
