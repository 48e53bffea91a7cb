import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { SinkError } from '../sink-error.js';
import type { SensorFigures } from './sensor-figures.js';

/**
 * Serves the sensor's figures in the Prometheus text format on `GET /metrics`. Values are read
 * from `figures()` at scrape time, so nothing is kept twice. Listens where the configuration
 * says, 127.0.0.1 unless an operator allowed otherwise: the figures reveal mail activity.
 */
export class PrometheusExporter {
  readonly registry = new Registry();
  private server: Server | undefined;

  constructor(private readonly figures: () => SensorFigures) {
    collectDefaultMetrics({ register: this.registry, prefix: 'smtp_sensor_' });
    this.counter('packets_total', 'Packets captured', [], (f, set) => set({}, f.packets));
    this.counter('pcap_dropped_total', 'Packets the kernel dropped (capture buffer full)', [],
      (f, set) => set({}, f.pcapDrops));
    this.gauge('flows', 'TCP flows being followed', [], (f, set) => set({}, f.flows));
    this.counter('events_total', 'Events emitted, by kind', ['kind'], (f, set) => {
      for (const [kind, count] of Object.entries(f.eventsByKind)) set({ kind }, count);
    });
    // Per connection (LiveAttribution's processes_not_found), not per event: each event of
    // such a connection has empty process fields.
    this.counter('attribution_misses_total',
      'Connections whose process could not be found (their events name no process)', [],
      (f, set) => set({}, f.attributionMisses));
    this.addSinkMetrics();
  }

  /** Starts listening on `host:port`; rejects when the address cannot be used. */
  listen(address: string): Promise<void> {
    const separator = address.lastIndexOf(':');
    const host = address.slice(0, separator).replace(/^\[|\]$/g, '');
    const port = Number(address.slice(separator + 1));
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url !== '/metrics') {
        response.writeHead(404).end();
        return;
      }
      this.registry.metrics().then((text) => {
        response.writeHead(200, { 'content-type': this.registry.contentType }).end(text);
      }, () => response.writeHead(500).end());
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (error) => reject(new SinkError('sink_output_failed',
        `metrics endpoint ${address}: ${error.message}`, { cause: error })));
      server.listen(port, host, () => resolve());
    });
  }

  /** The bound port (useful when listening on port 0). */
  get port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.server === undefined) resolve();
      else this.server.close(() => resolve());
      this.server?.closeAllConnections();
    });
  }

  private addSinkMetrics(): void {
    this.gauge('spool_depth', 'Spooled events not yet acknowledged by the slowest sink', [],
      (f, set) => set({}, f.sinks.spool?.depth ?? 0));
    this.gauge('spool_bytes', 'Bytes in spool segments', [],
      (f, set) => set({}, f.sinks.spool?.bytes ?? 0));
    this.counter('spool_write_errors_total', 'Events the spool failed to store (lost)', [],
      (f, set) => set({}, f.sinks.spool?.write_errors ?? 0));
    this.counter('sink_delivered_total', 'Events delivered, by sink', ['sink'], (f, set) =>
      this.eachSink(f, set, (s) => ('delivered' in s ? s.delivered : s.written)));
    this.counter('sink_errors_total', 'Failed sends or writes, by sink', ['sink'], (f, set) =>
      this.eachSink(f, set, (s) => ('send_errors' in s ? s.send_errors : s.write_errors)));
    this.counter('sink_dropped_total', 'Events lost, by sink (spool cap or failed writes)',
      ['sink'], (f, set) => this.eachSink(f, set, (s) => ('dropped' in s ? s.dropped : s.lost)));
  }

  private eachSink(figures: SensorFigures, set: (labels: Record<string, string>, value: number)
    => void, pick: (stats: SensorFigures['sinks']['sinks'][string]) => number): void {
    for (const [sink, stats] of Object.entries(figures.sinks.sinks)) set({ sink }, pick(stats));
  }

  private counter(name: string, help: string, labelNames: string[],
    read: (figures: SensorFigures, set: (labels: Record<string, string>, value: number)
      => void) => void): void {
    const figures = this.figures;
    new Counter({ name: `smtp_sensor_${name}`, help, labelNames, registers: [this.registry],
      collect() {
        this.reset();
        read(figures(), (labels, value) => this.inc(labels, value));
      } });
  }

  private gauge(name: string, help: string, labelNames: string[],
    read: (figures: SensorFigures, set: (labels: Record<string, string>, value: number)
      => void) => void): void {
    const figures = this.figures;
    new Gauge({ name: `smtp_sensor_${name}`, help, labelNames, registers: [this.registry],
      collect() {
        this.reset();
        read(figures(), (labels, value) => this.set(labels, value));
      } });
  }
}
