import type pino from 'pino';
import type { SensorEvent } from '../../events/sensor-event.js';
import type { BatchLimits, SpoolBatch } from '../spool/spool-cursor.js';
import { SpoolCursor } from '../spool/spool-cursor.js';
import type { Spool } from '../spool/spool.js';
import type { SpoolConsumer } from '../spool/spool-consumer.js';
import { retryDelayMs, type BackoffOptions } from './retry-backoff.js';
import type { ShipperStats } from './shipper-stats.js';
import type { EventTransport, SpooledEvent } from './spooled-event.js';

/** Without an append to wake it, an idle shipper still looks at the spool this often. */
const IDLE_POLL_MS = 1000;

export interface ShipperOptions {
  name: string;
  where?: (event: SensorEvent) => boolean;
  batch: BatchLimits;
  backoff: BackoffOptions;
}

/**
 * Moves one network sink's events from the spool to its collector, on its own: it reads a
 * batch after its own position, sends it, and acknowledges it only once the transport says it
 * was delivered; a failed batch is sent again after a jittered exponential backoff, for as
 * long as it takes (the spool's cap is the limit). The capture loop never waits for it.
 */
export class SpoolShipper {
  private readonly cursor: SpoolCursor;
  private readonly consumer: SpoolConsumer;
  private readonly counters = { delivered: 0, filtered: 0, batches: 0, send_errors: 0,
    unreadable: 0 };
  private pending: { batch: SpoolBatch; events: SpooledEvent[] } | undefined;
  private stopping = false;
  private lastError = '';
  private draining = false;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private readonly unsubscribe: () => void;

  constructor(private readonly spool: Spool, private readonly transport: EventTransport,
    private readonly options: ShipperOptions, private readonly log: pino.Logger) {
    const consumer = spool.consumers.get(options.name);
    if (consumer === undefined) throw new Error(`spool has no consumer ${options.name}`);
    this.consumer = consumer;
    this.cursor = new SpoolCursor(spool, consumer);
    this.unsubscribe = spool.onAppend(() => this.wake?.());
  }

  start(): void {
    this.running ??= this.loop();
  }

  stats(): ShipperStats {
    return { ...this.counters, dropped: this.consumer.dropped,
      lag: this.spool.depthOf(this.consumer) };
  }

  /**
   * Sends what is left in the spool until it is all delivered or the deadline passes, then
   * stops; what was not delivered stays in the spool for the next start.
   */
  async stop(deadline: number): Promise<void> {
    this.draining = true;
    this.wake?.();
    const timer = setTimeout(() => this.halt(), Math.max(0, deadline - Date.now()));
    await this.running;
    clearTimeout(timer);
    this.halt();
  }

  private halt(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.transport.close();
    this.unsubscribe();
    this.wake?.();
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      this.pending ??= this.readBatch();
      if (this.pending === undefined) {
        if (this.draining) break;
        await this.pause(IDLE_POLL_MS);
        continue;
      }
      if (await this.deliver(this.pending.events)) {
        this.acknowledge(this.pending.batch);
        this.pending = undefined;
        if (attempt > 0) this.log.info({ sink: this.options.name }, 'sink delivering again');
        attempt = 0;
      } else {
        // One line per outage, not per retry; the stats count every failed attempt.
        if (attempt === 0 && !this.stopping) {
          this.log.warn({ sink: this.options.name, to: this.transport.description,
            error: this.lastError }, 'sink send failed, retrying with backoff');
        }
        await this.pause(retryDelayMs(this.options.backoff, attempt++));
      }
    }
    this.cursor.close();
  }

  private readBatch(): { batch: SpoolBatch; events: SpooledEvent[] } | undefined {
    const batch = this.cursor.next(this.options.batch);
    if (batch === undefined) return undefined;
    const events: SpooledEvent[] = [];
    for (const line of batch.payloads) {
      const event = parseEvent(line);
      if (event === undefined) this.counters.unreadable++;
      else if (this.options.where !== undefined && !this.options.where(event)) {
        this.counters.filtered++;
      } else events.push({ line, event });
    }
    return { batch, events };
  }

  private async deliver(events: readonly SpooledEvent[]): Promise<boolean> {
    if (events.length === 0) return true;
    try {
      await this.transport.send(events);
      this.counters.delivered += events.length;
      this.counters.batches++;
      return true;
    } catch (error) {
      this.counters.send_errors++;
      this.lastError = (error as Error).message;
      return false;
    }
  }

  private acknowledge(batch: SpoolBatch): void {
    try {
      this.spool.acknowledge(this.options.name, batch.nextSequence);
    } catch (error) {
      // The events were delivered; a lost acknowledgement only means they are sent again.
      this.log.error({ sink: this.options.name, error: (error as Error).message },
        'cannot save the acknowledged position');
    }
  }

  private pause(milliseconds: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, milliseconds);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }
}

function parseEvent(line: Buffer): SensorEvent | undefined {
  try {
    const value: unknown = JSON.parse(line.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? value as SensorEvent : undefined;
  } catch {
    return undefined;
  }
}
