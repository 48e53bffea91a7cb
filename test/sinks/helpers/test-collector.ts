import { createServer as createHttpServer, type IncomingMessage, type Server,
  type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface TestCollectorOptions {
  /** Requests without `Authorization: Bearer <token>` get 401. */
  token?: string;
  /** Serve HTTPS with this certificate. */
  tls?: { cert: Buffer; key: Buffer };
}

/**
 * A real HTTP(S) collector on 127.0.0.1: it records every event id it accepts (and how often,
 * since delivery is at-least-once), checks the bearer token, decompresses gzip, and can be
 * told to refuse batches (`refuseWith`) or be stopped and started again on the same port.
 */
export class TestCollector {
  readonly received = new Map<string, number>();
  /** Every request, in order; `events` counts the event lines accepted (0 when refused). */
  readonly requests: { encoding?: string; contentType?: string; status: number;
    events: number }[] = [];
  /** Lines that were not JSON objects with an id: a corrupt delivery. */
  readonly malformed: string[] = [];
  /** The first copy of each event accepted, by id, for tests that check its content. */
  readonly events = new Map<string, Record<string, unknown>>();
  /** Ids delivered again with a different line: a duplicate must be an exact copy. */
  readonly differingCopies: string[] = [];
  private readonly lines = new Map<string, string>();
  refuseWith: number | undefined;
  port = 0;
  private server: Server | undefined;

  constructor(private readonly options: TestCollectorOptions = {}) {}

  get url(): string {
    return `${this.options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${this.port}/ingest`;
  }

  async start(): Promise<void> {
    const handler = (request: IncomingMessage, response: ServerResponse) => {
      this.handle(request, response);
    };
    const server = this.options.tls === undefined ? createHttpServer(handler)
      : createHttpsServer(this.options.tls, handler);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const status = this.status(request);
      const events = status === 204 ? this.record(request, Buffer.concat(chunks)) : 0;
      this.requests.push({ encoding: request.headers['content-encoding'],
        contentType: request.headers['content-type'], status, events });
      response.writeHead(status).end();
    });
  }

  private status(request: IncomingMessage): number {
    if (this.options.token !== undefined
      && request.headers.authorization !== `Bearer ${this.options.token}`) return 401;
    return this.refuseWith ?? 204;
  }

  /** Records the batch's events; returns how many lines were events. */
  private record(request: IncomingMessage, body: Buffer): number {
    const text = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body)
      .toString('utf8');
    let events = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const event = parseEvent(line);
      if (event === undefined) {
        this.malformed.push(line);
        continue;
      }
      events++;
      const id = event.id as string;
      this.received.set(id, (this.received.get(id) ?? 0) + 1);
      const first = this.lines.get(id);
      if (first === undefined) {
        this.lines.set(id, line);
        this.events.set(id, event);
      } else if (first !== line) {
        this.differingCopies.push(id);
      }
    }
    return events;
  }
}

/** The line as an event object with a string id, or undefined when it is not one. */
function parseEvent(line: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(line) as Record<string, unknown> | null;
    return typeof value === 'object' && value !== null && typeof value.id === 'string'
      ? value : undefined;
  } catch {
    return undefined;
  }
}
