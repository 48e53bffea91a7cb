import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { SinkError } from '../sink-error.js';
import { frameSyslogMessage, type SyslogHeader } from './syslog-message.js';
import type { EventTransport, SpooledEvent } from './spooled-event.js';

export interface SyslogTransportOptions {
  host: string;
  port: number;
  /** RFC 5425: TLS, the server's certificate checked against `ca` (or the system's CAs). */
  tls: boolean;
  ca?: Buffer;
  /** Name checked against the server's certificate; the host by default. */
  serverName?: string;
  connectTimeoutMs: number;
  /**
   * Syslog over TCP has no acknowledgement: a batch counts as delivered once the kernel took
   * it and the connection then stayed up this long. A collector that stops gracefully closes
   * the connection within it, and the batch is sent again.
   */
  settleMs: number;
  header: SyslogHeader;
}

/** Sends batches over one long-lived TCP or TLS connection, reconnecting after a failure. */
export class SyslogTransport implements EventTransport {
  readonly description: string;
  private socket: Socket | undefined;
  private broken: Error | undefined;
  private readonly waiting = new Set<(error: Error) => void>();

  constructor(private readonly options: SyslogTransportOptions) {
    this.description = `syslog${options.tls ? '+tls' : ''}://${options.host}:${options.port}`;
  }

  async send(events: readonly SpooledEvent[]): Promise<void> {
    const socket = this.socket ?? await this.connect();
    const frames = Buffer.concat(events.map((item) =>
      frameSyslogMessage(this.options.header, item.event, item.line)));
    await this.guarded(new Promise<void>((resolve, reject) => {
      socket.write(frames, (error) => (error ? reject(error) : resolve()));
    }));
    await this.guarded(new Promise<void>((resolve) => {
      setTimeout(resolve, this.options.settleMs);
    }));
  }

  close(): void {
    this.drop(new SinkError('collector_unreachable', 'sink closed'));
  }

  /** Settles with `work`, or rejects as soon as the connection breaks. */
  private guarded(work: Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.broken !== undefined || this.socket === undefined) {
        reject(this.failure(this.broken));
        return;
      }
      const onBroken = (error: Error) => reject(this.failure(error));
      this.waiting.add(onBroken);
      work.then(resolve, (error: Error) => reject(this.failure(error)))
        .finally(() => this.waiting.delete(onBroken));
    });
  }

  private connect(): Promise<Socket> {
    const { host, port, connectTimeoutMs } = this.options;
    const socket = this.options.tls
      ? tlsConnect({ host, port, ca: this.options.ca, servername: this.options.serverName ?? host })
      : netConnect({ host, port });
    this.broken = undefined;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => socket.destroy(new Error(
        `no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      socket.once(this.options.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        this.socket = socket;
        resolve(socket);
      });
      socket.on('error', (error) => {
        clearTimeout(timer);
        reject(this.failure(error));
        if (this.socket === socket) this.drop(error);
      });
      // The collector never speaks on this connection: an end means it is going away.
      socket.on('end', () => {
        if (this.socket === socket) this.drop(new Error('collector closed the connection'));
      });
      socket.on('close', () => {
        if (this.socket === socket) this.drop(new Error('connection closed'));
      });
    });
  }

  private drop(error: Error): void {
    this.broken ??= error;
    this.socket?.destroy();
    this.socket = undefined;
    for (const notify of this.waiting) notify(error);
    this.waiting.clear();
  }

  private failure(error: Error | undefined): SinkError {
    const reason = error?.message ?? 'not connected';
    return new SinkError('collector_unreachable', `${this.description}: ${reason}`,
      { cause: error });
  }
}
