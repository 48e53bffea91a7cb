import type pino from 'pino';
import type { SensorConfig, SinkConfig } from '../config/config-schema.js';
import { sinkNames } from '../config/sink-names.js';
import { eventJson } from '../events/event-json.js';
import { compileQuery } from '../events/query/query-compiler.js';
import type { SensorEvent } from '../events/sensor-event.js';
import { FileSink } from './local/file-sink.js';
import type { LocalSink } from './local/local-sink.js';
import { StdoutSink } from './local/stdout-sink.js';
import { createTransport } from './network/network-sink-factory.js';
import { SpoolShipper } from './network/spool-shipper.js';
import type { SinkSetStats, SinkStats } from './sink-set-stats.js';
import { Spool } from './spool/spool.js';

type Predicate = (event: SensorEvent) => boolean;

interface LocalEntry {
  name: string;
  type: 'stdout' | 'file';
  sink: LocalSink;
  where?: Predicate;
  filtered: number;
}

interface NetworkEntry {
  name: string;
  type: 'syslog' | 'http';
  shipper: SpoolShipper;
}

export interface SinkSetOptions {
  /** File descriptor of the stdout sink; tests pass another one. */
  stdoutFd?: number;
}

/**
 * Every configured output, behind one synchronous `write` that the capture loop calls per
 * event. Stdout and file sinks are written in place. When there are network sinks, each event
 * is first appended to the spool (once, whatever the filters) and the network sinks read it
 * from there in the background, each at its own pace, so the capture loop never waits on a
 * collector and a restart resumes where each collector stopped confirming.
 *
 * Call order: `write`* and `flush` from the capture loop, `reopen` on SIGHUP, `close` once.
 * Writes during `close` are still accepted until its promise settles.
 */
export class SinkSet {
  private readonly local: LocalEntry[] = [];
  private readonly network: NetworkEntry[] = [];
  private readonly spool: Spool | undefined;
  private readonly where: Predicate | undefined;
  private events = 0;
  private filtered = 0;
  private closing: Promise<void> | undefined;

  constructor(config: SensorConfig, private readonly log: pino.Logger,
    options: SinkSetOptions = {}) {
    const { sinks } = config.output;
    const names = sinkNames(sinks);
    this.where = compileOptional(config.output.where);
    const networkNames = names.filter((_, index) => isNetwork(sinks[index]));
    if (networkNames.length > 0) {
      this.spool = new Spool({ directory: config.spool.directory,
        maxBytes: config.spool.max_bytes, segmentBytes: config.spool.segment_bytes,
        syncIntervalMs: config.spool.sync_interval_ms, consumers: networkNames });
      this.logSpoolDamage();
    }
    try {
      sinks.forEach((sink, index) => this.addSink(sink, names[index], options));
    } catch (error) {
      // A sink that cannot be opened fails the whole set. What was opened is closed again,
      // so that the set a reload falls back to has the spool and the files to itself.
      this.closeOpened();
      throw error;
    }
    for (const entry of this.network) entry.shipper.start();
  }

  /** True when standard output is the only sink and its reader went away. */
  get outputClosed(): boolean {
    return this.network.length === 0 && this.local.every((entry) =>
      entry.sink instanceof StdoutSink && entry.sink.closed);
  }

  write(event: SensorEvent): void {
    this.events++;
    if (this.where !== undefined && !this.where(event)) {
      this.filtered++;
      return;
    }
    const line = eventJson(event) + '\n';
    for (const entry of this.local) {
      if (entry.where !== undefined && !entry.where(event)) entry.filtered++;
      else entry.sink.write(line);
    }
    // The spool keeps the line without its newline; transports add their own framing.
    this.spool?.append(Buffer.from(line.slice(0, -1)));
  }

  flush(): void {
    for (const entry of this.local) entry.sink.flush();
  }

  /** SIGHUP: output files are closed and opened again, for an external log rotation. */
  reopen(): void {
    for (const entry of this.local) {
      try {
        entry.sink.reopen();
      } catch (error) {
        this.log.error({ sink: entry.name, error: (error as Error).message },
          'cannot reopen the output file');
      }
    }
  }

  /**
   * Flushes, gives network sinks until `deadline` (ms since the epoch) to deliver what is
   * spooled, then closes everything. What was not delivered stays in the spool.
   */
  close(deadline: number): Promise<void> {
    this.closing ??= this.closeAll(deadline);
    return this.closing;
  }

  private async closeAll(deadline: number): Promise<void> {
    this.flush();
    await Promise.all(this.network.map((entry) => entry.shipper.stop(deadline)));
    for (const entry of this.local) entry.sink.close();
    this.spool?.close();
  }

  stats(): SinkSetStats {
    const sinks: Record<string, SinkStats> = {};
    for (const entry of this.local) {
      sinks[entry.name] = { type: entry.type, filtered: entry.filtered, ...entry.sink.stats() };
    }
    for (const entry of this.network) {
      sinks[entry.name] = { type: entry.type, ...entry.shipper.stats() };
    }
    const spool = this.spool === undefined ? undefined
      : { ...this.spool.stats(), depth: this.spool.depth };
    return { events: this.events, filtered: this.filtered, sinks, spool };
  }

  private addSink(sink: SinkConfig, name: string, options: SinkSetOptions): void {
    const where = compileOptional(sink.where);
    switch (sink.type) {
      case 'stdout':
        this.local.push({ name, type: sink.type, where, filtered: 0,
          sink: new StdoutSink(options.stdoutFd) });
        return;
      case 'file':
        this.local.push({ name, type: sink.type, where, filtered: 0,
          sink: new FileSink({ path: sink.path, maxBytes: sink.max_bytes, keep: sink.keep }) });
        return;
      case 'syslog':
      case 'http': {
        const shipper = new SpoolShipper(this.spool as Spool, createTransport(sink), {
          name, where, batch: { maxRecords: sink.batch.max_events, maxBytes: sink.batch.max_bytes },
          backoff: { initialMs: sink.retry.initial_ms, maxMs: sink.retry.max_ms },
        }, this.log);
        this.network.push({ name, type: sink.type, shipper });
      }
    }
  }

  /** Closes the outputs and the spool opened so far, for a constructor that failed. */
  private closeOpened(): void {
    for (const entry of this.local) entry.sink.close();
    for (const entry of this.network) void entry.shipper.stop(0);
    this.spool?.close();
  }

  private logSpoolDamage(): void {
    const stats = (this.spool as Spool).stats();
    if (stats.damaged_bytes_skipped === 0 && stats.damaged_records_skipped === 0) return;
    this.log.warn({ damaged_bytes: stats.damaged_bytes_skipped,
      damaged_records: stats.damaged_records_skipped }, 'spool had damaged records, skipped');
  }
}

function isNetwork(sink: SinkConfig): boolean {
  return sink.type === 'syslog' || sink.type === 'http';
}

function compileOptional(expression: string | undefined): Predicate | undefined {
  return expression === undefined ? undefined : compileQuery(expression);
}
