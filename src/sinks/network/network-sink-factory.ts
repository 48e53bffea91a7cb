import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { NetworkSinkConfig } from '../../config/config-schema.js';
import { HttpTransport } from './http-transport.js';
import type { EventTransport } from './spooled-event.js';
import { SyslogTransport } from './syslog-transport.js';

/** The transport a syslog or http sink's configuration describes; files are read now. */
export function createTransport(sink: NetworkSinkConfig): EventTransport {
  const ca = sink.ca_file === undefined ? undefined : readFileSync(sink.ca_file);
  if (sink.type === 'http') {
    const token = sink.token_file === undefined ? undefined
      : readFileSync(sink.token_file, 'utf8').trim();
    return new HttpTransport({ url: sink.url, gzip: sink.gzip, token, ca,
      timeoutMs: sink.timeout_ms });
  }
  return new SyslogTransport({
    host: sink.host,
    // RFC 5425 section 4.1 assigns 6514 to syslog over TLS; 514 is the customary TCP port.
    port: sink.port ?? (sink.tls ? 6514 : 514),
    tls: sink.tls,
    ca,
    serverName: sink.server_name,
    connectTimeoutMs: sink.connect_timeout_ms,
    settleMs: sink.settle_ms,
    header: { facility: sink.facility, appName: sink.app_name, hostname: hostname(),
      processId: process.pid },
  });
}
