import type { SensorEvent } from '../../events/sensor-event.js';

/** An event read back from the spool: its JSON line as stored, and the parsed object. */
export interface SpooledEvent {
  readonly line: Buffer;
  readonly event: SensorEvent;
}

/**
 * What carries batches to one collector. `send` resolves only when the collector has the whole
 * batch by the transport's own standard of delivery, and rejects with a SinkError otherwise;
 * it is never called again before the previous call settled. `close` aborts a send in flight.
 */
export interface EventTransport {
  /** Where events go, for logs: never with credentials. */
  readonly description: string;
  send(events: readonly SpooledEvent[]): Promise<void>;
  close(): void;
}
