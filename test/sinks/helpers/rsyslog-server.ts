import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TestCertificates } from './certificates.js';
import { waitFor } from './wait-for.js';

/** One message as rsyslog parsed it: header fields it extracted, and MSG. */
export interface ReceivedSyslog {
  msgid: string;
  appName: string;
  hostname: string;
  facility: string;
  msg: string;
}

/** Header fields cannot hold '|' here (they are ours); MSG is last and may. */
const FIELD_SEPARATOR = '|';

/**
 * A real rsyslogd on 127.0.0.1, started in the foreground with its own configuration in
 * `directory`: imtcp (octet-counted framing is on by default), with GnuTLS when certificates
 * are given (RFC 5425), writing each message's parsed fields to a file that `messages` reads.
 */
export class RsyslogServer {
  port = 0;
  private child: ChildProcess | undefined;
  private readonly output: string;

  constructor(private readonly directory: string, private readonly tls?: TestCertificates) {
    mkdirSync(directory, { recursive: true });
    this.output = join(directory, 'received.log');
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    writeFileSync(join(this.directory, 'rsyslog.conf'), this.configuration());
    const child = spawn('rsyslogd', ['-n', '-f', join(this.directory, 'rsyslog.conf'),
      '-i', join(this.directory, 'rsyslogd.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    await waitFor('rsyslogd listening', () => {
      if (exited) throw new Error('rsyslogd exited at start');
      return this.listening;
    }, 10_000).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    });
  }

  /** Stops rsyslogd gracefully (SIGTERM), as an operator restarting the collector would. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  messages(): ReceivedSyslog[] {
    if (!existsSync(this.output)) return [];
    return readFileSync(this.output, 'utf8').split('\n').filter((line) => line !== '')
      .map((line) => {
        const [msgid, appName, hostname, facility, ...rest] = line.split(FIELD_SEPARATOR);
        return { msgid, appName, hostname, facility, msg: rest.join(FIELD_SEPARATOR).trim() };
      });
  }

  private listeningState = false;

  private get listening(): boolean {
    const probe = connect(this.port, '127.0.0.1');
    probe.once('connect', () => {
      this.listeningState = true;
      probe.destroy();
    });
    probe.once('error', () => probe.destroy());
    return this.listeningState;
  }

  private configuration(): string {
    const tls = this.tls === undefined ? '' : `global(
  defaultNetstreamDriver="gtls"
  defaultNetstreamDriverCAFile="${this.tls.caPath}"
  defaultNetstreamDriverCertFile="${this.tls.certPath}"
  defaultNetstreamDriverKeyFile="${this.tls.keyPath}"
)
`;
    const driver = this.tls === undefined ? ''
      : ' streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon"';
    return `global(workDirectory="${this.directory}")
${tls}module(load="imtcp"${driver})
input(type="imtcp" address="127.0.0.1" port="${this.port}")
template(name="fields" type="string"
  string="%msgid%|%app-name%|%hostname%|%syslogfacility-text%|%msg%\\n")
*.* action(type="omfile" file="${this.output}" template="fields")
`;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
