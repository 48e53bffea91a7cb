import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ChildProcesses, terminate } from './child-processes.js';
import { freePort } from './free-port.js';

/** The interpreter that has aiosmtpd (Debian's python3-aiosmtpd); not the python3 on PATH. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** An aiosmtpd server started by a test, listening on `host:port`. */
export interface SmtpServer {
  host: string;
  port: number;
  /** Its argv, as the sensor reports it in CommandLine (joined by spaces). */
  argv: string[];
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface SmtpServerOptions {
  host: string;
  /** A free port is chosen when none is given. */
  port?: number;
  /** Accept AUTH PLAIN and LOGIN (without TLS) for this user and password only. */
  account?: { user: string; password: string };
  /**
   * Seconds to wait before answering EHLO (not with `account`): a client then holds its
   * connection at least that long, as one across a real network does.
   */
  ehloDelaySeconds?: number;
  /**
   * Put before the server's command line and executed in its place, e.g. `ip netns exec NAME`,
   * which execs the server in the same process: `child` and `argv` are then still the server's.
   */
  wrapper?: readonly string[];
}

/** How long a server has to accept connections after it was started. */
const READY_TIMEOUT_MS = 10_000;
const PROBE_INTERVAL_MS = 50;
const PROBE_TIMEOUT_MS = 2_000;

/**
 * aiosmtpd with an authenticator. The account comes through the environment, so that neither
 * the user nor the password is on a command line (which the sensor reports, rightly).
 */
const AUTHENTICATING_SERVER = `
import asyncio, os, sys
from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
host, port = sys.argv[1], int(sys.argv[2])
user = os.environ['SMTP_TEST_USER'].encode()
password = os.environ['SMTP_TEST_PASSWORD'].encode()
def authenticate(server, session, envelope, mechanism, data):
    accepted = isinstance(data, LoginPassword) and data.login == user and data.password == password
    return AuthResult(success=accepted)
def protocol():
    return SMTP(Sink(), authenticator=authenticate, auth_require_tls=False)
async def serve():
    await asyncio.get_running_loop().create_server(protocol, host, port)
    await asyncio.Event().wait()
asyncio.run(serve())
`;

/**
 * aiosmtpd that waits before it answers EHLO (RFC 5321 section 4.1.1.1), then accepts and
 * discards every message. The handler's five-argument EHLO hook replaces the reply lines, so it
 * records the client's name itself, as aiosmtpd does without a hook.
 */
const SLOW_EHLO_SERVER = `
import asyncio, sys
from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP
host, port, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
class SlowEhloSink(Sink):
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        await asyncio.sleep(delay)
        session.host_name = hostname
        return responses
async def serve():
    await asyncio.get_running_loop().create_server(lambda: SMTP(SlowEhloSink()), host, port)
    await asyncio.Event().wait()
asyncio.run(serve())
`;

/** The aiosmtpd command line that accepts and discards every message. */
export function sinkServerArgv(host: string, port: number): string[] {
  return [SYSTEM_PYTHON, '-m', 'aiosmtpd', '-n', '-c', 'aiosmtpd.handlers.Sink',
    '-l', `${host}:${port}`];
}

/** Starts aiosmtpd and resolves once it answers with its 220 greeting. */
export async function startSmtpServer(children: ChildProcesses, options: SmtpServerOptions)
  : Promise<SmtpServer> {
  const port = options.port ?? await freePort(options.host);
  const argv = serverArgv(options, port);
  const env = options.account === undefined ? process.env : {
    ...process.env,
    SMTP_TEST_USER: options.account.user,
    SMTP_TEST_PASSWORD: options.account.password,
  };
  const launched = [...options.wrapper ?? [], ...argv];
  const child = children.start(launched[0], launched.slice(1),
    { stdio: ['ignore', 'ignore', 'pipe'], env });
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  await waitForGreeting(options.host, port, child, () => stderr.join(''));
  return { host: options.host, port, argv, child, stop: () => terminate(child) };
}

function serverArgv(options: SmtpServerOptions, port: number): string[] {
  if (options.account !== undefined) {
    return [SYSTEM_PYTHON, '-c', AUTHENTICATING_SERVER, options.host, String(port)];
  }
  if (options.ehloDelaySeconds !== undefined) {
    return [SYSTEM_PYTHON, '-c', SLOW_EHLO_SERVER, options.host, String(port),
      String(options.ehloDelaySeconds)];
  }
  return sinkServerArgv(options.host, port);
}

/**
 * Polls until a connection gets a 220 greeting. The probe sends no command, so a sensor
 * already capturing reports nothing for it.
 */
export async function waitForGreeting(host: string, port: number, child?: ChildProcess,
  diagnostics: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child !== undefined && child.exitCode !== null) {
      throw new Error(`SMTP server on ${host}:${port} exited with ${child.exitCode}: `
        + diagnostics());
    }
    if (await greets(host, port)) return;
    await sleep(PROBE_INTERVAL_MS);
  }
  throw new Error(`SMTP server on ${host}:${port} not ready after ${READY_TIMEOUT_MS} ms: `
    + diagnostics());
}

function greets(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (greeted: boolean) => {
      socket.destroy();
      resolve(greeted);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => finish(false));
    socket.once('data', (chunk: Buffer) => finish(chunk.toString('latin1').startsWith('220')));
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}
