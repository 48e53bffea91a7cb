import type { LocalSinkStats } from './local/local-sink.js';
import type { ShipperStats } from './network/shipper-stats.js';
import type { SpoolStats } from './spool/spool-stats.js';

export type SinkStats =
  | ({ type: 'stdout' | 'file' } & LocalSinkStats)
  | ({ type: 'syslog' | 'http' } & ShipperStats);

/** Everything the sinks count, for the periodic stats line and the Prometheus endpoint. */
export interface SinkSetStats {
  events: number;
  /** Events that `output.where` left out, before any sink. */
  filtered: number;
  sinks: Record<string, SinkStats>;
  /** Absent when no network sink is configured (the spool is then not used). */
  spool?: SpoolStats & { depth: number };
}
