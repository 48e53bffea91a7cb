import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { SinkError } from '../sink-error.js';
import type { EventTransport, SpooledEvent } from './spooled-event.js';

const gzip = promisify(gzipCallback);
/** The reply body is read only to free the connection; more than this is not kept. */
const MAX_REPLY_BYTES = 4096;

export interface HttpTransportOptions {
  url: string;
  gzip: boolean;
  /** Sent as `Authorization: Bearer <token>`; never logged. */
  token?: string;
  /** PEM certificates trusted in place of the system's for an https URL. */
  ca?: Buffer;
  timeoutMs: number;
}

/**
 * POSTs a batch as JSON lines (`application/x-ndjson`), gzip-compressed unless disabled. A
 * batch counts as delivered only on a 2xx reply: anything else, a timeout or a connection
 * error rejects, and the shipper sends the same batch again later.
 */
export class HttpTransport implements EventTransport {
  readonly description: string;
  private readonly url: URL;
  private readonly agent: HttpAgent;
  private readonly inFlight = new Set<{ destroy(error: Error): void }>();

  constructor(private readonly options: HttpTransportOptions) {
    this.url = new URL(options.url);
    // Credentials in the URL itself are kept out of every log line.
    this.description = `${this.url.protocol}//${this.url.host}${this.url.pathname}`;
    this.agent = this.url.protocol === 'https:'
      ? new HttpsAgent({ keepAlive: true, ca: options.ca })
      : new HttpAgent({ keepAlive: true });
  }

  async send(events: readonly SpooledEvent[]): Promise<void> {
    const lines = Buffer.concat(events.flatMap((item) => [item.line, NEWLINE]));
    const body = this.options.gzip ? await gzip(lines) : lines;
    const reply = await this.post(body);
    if (reply.status < 200 || reply.status > 299) {
      throw new SinkError('collector_refused',
        `${this.description} replied ${reply.status}: ${reply.text}`);
    }
  }

  close(): void {
    for (const pending of this.inFlight) {
      pending.destroy(new SinkError('collector_unreachable', 'sink closed'));
    }
    this.agent.destroy();
  }

  private headers(body: Buffer): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-ndjson',
      'content-length': String(body.length),
    };
    if (this.options.gzip) headers['content-encoding'] = 'gzip';
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
    return headers;
  }

  private post(body: Buffer): Promise<{ status: number; text: string }> {
    const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const request = send(this.url, { method: 'POST', agent: this.agent,
        headers: this.headers(body), timeout: this.options.timeoutMs }, (response) => {
        readReply(response).then((text) => resolve({ status: response.statusCode ?? 0, text }),
          reject);
      });
      this.inFlight.add(request);
      request.on('close', () => this.inFlight.delete(request));
      request.on('timeout', () => request.destroy(new Error(
        `no reply within ${this.options.timeoutMs} ms`)));
      request.on('error', (error) => reject(new SinkError('collector_unreachable',
        `${this.description}: ${error.message}`, { cause: error })));
      request.end(body);
    });
  }
}

const NEWLINE = Buffer.from('\n');

function readReply(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      if (text.length < MAX_REPLY_BYTES) text += chunk.slice(0, MAX_REPLY_BYTES - text.length);
    });
    response.on('end', () => resolve(text.replace(/\s+/g, ' ').trim()));
    response.on('error', reject);
  });
}
