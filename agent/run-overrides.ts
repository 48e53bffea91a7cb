import type { ConfigOverrides } from '../src/config/config-overrides.js';
import { parsePortList } from './port-list.js';

/** The flags of `smtp-sensor run` as yargs gives them. */
export interface RunFlags {
  interface?: string;
  ports?: string;
  inbound?: boolean;
  'buffer-size'?: number;
  'stats-interval'?: number;
  where?: string;
  'log-level'?: string;
}

/**
 * Command-line flags shaped like the configuration file; they win over it key by key. A flag
 * not given stays undefined and leaves the file's value (or the default) in place.
 */
export function runOverrides(args: RunFlags): ConfigOverrides {
  return {
    capture: {
      interface: args.interface,
      ports: args.ports === undefined ? undefined : parsePortList(args.ports),
      inbound: args.inbound,
      buffer_mib: args['buffer-size'],
    },
    output: { where: args.where },
    stats: { interval_seconds: args['stats-interval'] },
    logging: { level: args['log-level'] },
  };
}
