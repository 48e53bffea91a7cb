import type { SinkSetStats } from '../sink-set-stats.js';

/**
 * The figures an operator watches, gathered by the agent from each part: the same numbers go
 * to the periodic stats log line and to the Prometheus endpoint.
 */
export interface SensorFigures {
  packets: number;
  /** Packets the kernel dropped because the capture buffer was full (pcap's ps_drop). */
  pcapDrops: number;
  flows: number;
  eventsByKind: Record<string, number>;
  /** Connections (not events) whose local process was not found. */
  attributionMisses: number;
  sinks: SinkSetStats;
}
