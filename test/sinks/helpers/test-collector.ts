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
  readonly requests: { encoding?: string; contentType?: string; status: number }[] = [];
  /** Lines that were not JSON objects with an id: a corrupt delivery. */
  readonly malformed: string[] = [];
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
      this.requests.push({ encoding: request.headers['content-encoding'],
        contentType: request.headers['content-type'], status });
      if (status === 204) this.record(request, Buffer.concat(chunks));
      response.writeHead(status).end();
    });
  }

  private status(request: IncomingMessage): number {
    if (this.options.token !== undefined
      && request.headers.authorization !== `Bearer ${this.options.token}`) return 401;
    return this.refuseWith ?? 204;
  }

  private record(request: IncomingMessage, body: Buffer): void {
    const text = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body)
      .toString('utf8');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const id = parseId(line);
      if (id === undefined) this.malformed.push(line);
      else this.received.set(id, (this.received.get(id) ?? 0) + 1);
    }
  }
}

function parseId(line: string): string | undefined {
  try {
    const value = JSON.parse(line) as { id?: unknown };
    return typeof value.id === 'string' ? value.id : undefined;
  } catch {
    return undefined;
  }
}
