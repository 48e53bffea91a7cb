import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { UNKNOWN_PROCESS } from '../../src/proc/process-info.js';
import { SocketOwnerResolver } from '../../src/proc/socket-owner-resolver.js';

const PYTHON = '/usr/bin/python3';
const CURL = '/usr/bin/curl';

/** Connects (IPv6 socket when the address has a colon), prints its local port, then waits. */
const CLIENT_SCRIPT = 'import socket,sys,time; '
  + 'f=socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET; s=socket.socket(f); '
  + 's.connect((sys.argv[1], int(sys.argv[2]))); print(s.getsockname()[1], flush=True); '
  + 'time.sleep(60)';
/** Connects to 127.0.0.1 from the local port given (0: any), prints it, then waits. */
const BOUND_CLIENT_SCRIPT = 'import socket,sys,time; s=socket.socket(); '
  + 's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); '
  + 's.bind(("127.0.0.1", int(sys.argv[2]))); s.connect(("127.0.0.1", int(sys.argv[1]))); '
  + 'print(s.getsockname()[1], flush=True); time.sleep(60)';
/** Listens on 127.0.0.1, prints its port, accepts one connection, then waits. */
const LISTENER_SCRIPT = 'import socket,time; l=socket.socket(); l.bind(("127.0.0.1", 0)); '
  + 'l.listen(); print(l.getsockname()[1], flush=True); c=l.accept(); time.sleep(60)';

/** Listens on argv[1], prints its port, then never accepts. */
const NO_ACCEPT_SCRIPT = 'import socket,sys,time; l=socket.socket(); '
  + 'l.bind((sys.argv[1], 0)); l.listen(); print(l.getsockname()[1], flush=True); time.sleep(60)';
/** Listens on argv[1], prints its port, closes each connection it accepts at once. */
const CLOSING_SCRIPT = 'import socket,sys; l=socket.socket(); l.bind((sys.argv[1], 0)); '
  + 'l.listen(); print(l.getsockname()[1], flush=True)\nwhile True: l.accept()[0].close()';
/**
 * A master that listens on 127.0.0.1 and forks a worker, which prints the port, accepts one
 * connection, prints its pid and keeps the connection; both hold the listener.
 */
const PREFORK_SCRIPT = 'import os,socket,time; l=socket.socket(); l.bind(("127.0.0.1", 0)); '
  + 'l.listen()\nif os.fork() == 0:\n print(l.getsockname()[1], flush=True); c=l.accept(); '
  + 'print(os.getpid(), flush=True); time.sleep(60)\ntime.sleep(60)';

const children: ChildProcess[] = [];
/**
 * Processes the children forked: the prefork worker, which runs on into its master's sleep, for
 * 120 s in all. It holds the stdout pipe it inherited, and left running it kept this file's
 * process from exiting for those two minutes.
 */
const grandchildren: number[] = [];

function start(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return child;
}

async function firstLine(child: ChildProcess): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  const [line] = await once(lines, 'line') as [string];
  lines.close();
  return line;
}

async function listen(host: string): Promise<{ server: Server; port: number }> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { server, port: address.port };
}

/** Ends every process the tests started, each by its own pid. */
function killChildren(): void {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const pid of grandchildren.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

describe('real processes on this host', { timeout: 60_000 }, () => {
  const resolver = new SocketOwnerResolver();
  const servers: Server[] = [];
  after(() => {
    killChildren();
    for (const server of servers) server.close();
  });

  /** A client connects to a node server; the accepted socket tells the client's port. */
  async function connectClient(host: string, command: string, args: (port: number) => string[]) {
    const { server, port } = await listen(host);
    servers.push(server);
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const child = start(command, args(port));
    const [socket] = await accepted;
    return { child, serverPort: port, clientPort: socket.remotePort! };
  }

  test('python3 client over IPv4: exact pid, executable, command line and user', async () => {
    const { child, serverPort, clientPort } = await connectClient('127.0.0.1', PYTHON,
      (port) => ['-c', CLIENT_SCRIPT, '127.0.0.1', String(port)]);
    const process = resolver.resolve('127.0.0.1', clientPort, '127.0.0.1', serverPort,
      Date.now());
    assert.deepEqual(process, {
      processId: String(child.pid),
      parentProcessId: String(globalThis.process.pid),
      userId: String(globalThis.process.getuid!()),
      userName: userInfo().username,
      imageFileName: realpathSync(PYTHON),
      commandLine: `${PYTHON} -c ${CLIENT_SCRIPT} 127.0.0.1 ${serverPort}`,
    });
  });

  test('the server side of the same kind of connection is this test process', async () => {
    const { serverPort, clientPort } = await connectClient('127.0.0.1', PYTHON,
      (port) => ['-c', CLIENT_SCRIPT, '127.0.0.1', String(port)]);
    const process = resolver.resolve('127.0.0.1', serverPort, '127.0.0.1', clientPort,
      Date.now());
    assert.equal(process.processId, String(globalThis.process.pid));
    assert.equal(process.imageFileName, realpathSync(globalThis.process.execPath));
  });

  test('python3 client over IPv6 loopback', async () => {
    const { child, serverPort, clientPort } = await connectClient('::1', PYTHON,
      (port) => ['-c', CLIENT_SCRIPT, '::1', String(port)]);
    const process = resolver.resolve('::1', clientPort, '::1', serverPort, Date.now());
    assert.equal(process.processId, String(child.pid));
  });

  test('IPv6 socket connected to an IPv4 address, looked up as the IPv4 the capture sees',
    async () => {
      const { child, serverPort, clientPort } = await connectClient('127.0.0.1', PYTHON,
        (port) => ['-c', CLIENT_SCRIPT, '::ffff:127.0.0.1', String(port)]);
      const process = resolver.resolve('127.0.0.1', clientPort, '127.0.0.1', serverPort,
        Date.now());
      assert.equal(process.processId, String(child.pid));
    });

  test('curl client', { skip: !existsSync(CURL) && `${CURL} is not installed` }, async () => {
    const { child, serverPort, clientPort } = await connectClient('127.0.0.1', CURL,
      (port) => ['-s', '--max-time', '60', `http://127.0.0.1:${port}/`]);
    const process = resolver.resolve('127.0.0.1', clientPort, '127.0.0.1', serverPort,
      Date.now());
    assert.equal(process.processId, String(child.pid));
    assert.equal(process.imageFileName, realpathSync(CURL));
    assert.equal(process.commandLine,
      `${CURL} -s --max-time 60 http://127.0.0.1:${serverPort}/`);
  });
});

describe('the resolver on this host, through sock_diag', { timeout: 60_000 }, () => {
  const servers: Server[] = [];
  after(() => {
    killChildren();
    for (const server of servers) server.close();
  });

  async function localServer(): Promise<number> {
    const { server, port } = await listen('127.0.0.1');
    servers.push(server);
    server.on('connection', (socket: Socket) => socket.on('error', () => {}));
    return port;
  }

  test('a connection of this host is found through sock_diag, reading no socket table',
    async () => {
      const resolver = new SocketOwnerResolver();
      const port = await localServer();
      const child = start(PYTHON, ['-c', CLIENT_SCRIPT, '127.0.0.1', String(port)]);
      const clientPort = Number(await firstLine(child));
      const process = resolver.resolve('127.0.0.1', clientPort, '127.0.0.1', port, Date.now());
      assert.equal(process.processId, String(child.pid));
      const { sock_diag_lookups, sock_diag_hits, socket_table_reads } = resolver.stats;
      assert.deepEqual({ sock_diag_lookups, sock_diag_hits, socket_table_reads },
        { sock_diag_lookups: 1, sock_diag_hits: 1, socket_table_reads: 0 });
      resolver.close();
    });

  test('a four-tuple toward a listening port is not taken for the listener', async () => {
    const resolver = new SocketOwnerResolver();
    const port = await localServer();
    assert.equal(resolver.resolve('127.0.0.1', port, '127.0.0.1', 1, Date.now()),
      UNKNOWN_PROCESS);
    assert.equal(resolver.stats.sockets_not_found, 1);
  });

  test('a four-tuple taken again by another process is not answered from the cache',
    async () => {
      const resolver = new SocketOwnerResolver();
      const { server, port } = await listen('127.0.0.1');
      servers.push(server);
      let accepted = once(server, 'connection') as Promise<[Socket]>;
      const first = start(PYTHON, ['-c', BOUND_CLIENT_SCRIPT, String(port), '0']);
      const clientPort = Number(await firstLine(first));
      const [firstSocket] = await accepted;
      assert.equal(resolver.resolve('127.0.0.1', clientPort, '127.0.0.1', port, 1_000).processId,
        String(first.pid));
      // This side closes first and keeps TIME_WAIT, which accepts a new SYN of the four-tuple.
      firstSocket.destroy();
      first.kill('SIGKILL');
      await once(first, 'exit');
      accepted = once(server, 'connection') as Promise<[Socket]>;
      const second = start(PYTHON, ['-c', BOUND_CLIENT_SCRIPT, String(port), String(clientPort)]);
      assert.equal(Number(await firstLine(second)), clientPort);
      await accepted;
      const process = resolver.resolve('127.0.0.1', clientPort, '127.0.0.1', port, 2_000);
      assert.equal(process.processId, String(second.pid));
      assert.equal(resolver.stats.reused_four_tuples, 1);
      assert.equal(resolver.stats.connection_cache_hits, 0);
    });

  test('a socket closed while its owner is looked for ends the search, without a full scan',
    async () => {
      let clientSocket: Socket | undefined;
      let clockReads = 0;
      // The resolver reads its elapsed clock when resolve() starts, then when its first scan
      // starts, after sock_diag found the inode: the socket is closed there, as a client that
      // exits right after QUIT closes it while the sensor looks for it.
      const resolver = new SocketOwnerResolver({ elapsedClock: () => {
        if (++clockReads === 2) clientSocket?.destroy();
        return 0;
      } });
      resolver.indexAllProcesses(); // before the socket exists: this process is not young
      const port = await localServer();
      clientSocket = connect(port, '127.0.0.1');
      await once(clientSocket, 'connect');
      clockReads = 0;
      const process = resolver.resolve('127.0.0.1', clientSocket.localPort!, '127.0.0.1', port,
        Date.now());
      assert.equal(process, UNKNOWN_PROCESS);
      const { sockets_closed_during_search, owners_not_found, full_scans } = resolver.stats;
      assert.deepEqual({ sockets_closed_during_search, owners_not_found, full_scans },
        { sockets_closed_during_search: 1, owners_not_found: 1, full_scans: 1 });
    });
});

describe('inbound: the listener when the accepted socket is gone, through sock_diag',
  { timeout: 60_000 }, () => {
    after(killChildren);

    /** The socket inodes /proc/PID/fd of `pid` links to. */
    function socketInodes(pid: number): number[] {
      return readdirSync(`/proc/${pid}/fd`).map((fd) => {
        try {
          return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        } catch {
          return undefined;
        }
      }).filter((inode) => inode !== undefined).map(Number);
    }

    test('not accepted yet: listed without inode, in no fd, so the listener\'s owner', async () => {
      const resolver = new SocketOwnerResolver();
      const server = start(PYTHON, ['-c', NO_ACCEPT_SCRIPT, '127.0.0.1']);
      const port = Number(await firstLine(server));
      const held = socketInodes(server.pid!);
      const client = connect(port, '127.0.0.1');
      client.on('error', () => {});
      await once(client, 'connect');
      assert.deepEqual(socketInodes(server.pid!), held, 'no fd for the connection yet');
      const process = resolver.resolveServer('127.0.0.1', port, '127.0.0.1', client.localPort!,
        Date.now());
      assert.equal(process.processId, String(server.pid), 'the process that will accept it');
      assert.equal(process.commandLine, `${PYTHON} -c ${NO_ACCEPT_SCRIPT} 127.0.0.1`);
      const { sockets_without_inode, listener_fallbacks } = resolver.stats;
      assert.deepEqual({ sockets_without_inode, listener_fallbacks },
        { sockets_without_inode: 1, listener_fallbacks: 1 });
      client.destroy();
    });

    test('closed by its server (on 0.0.0.0) before the lookup: resolve() finds no process, '
      + 'resolveServer() the server', async () => {
      const resolver = new SocketOwnerResolver();
      const server = start(PYTHON, ['-c', CLOSING_SCRIPT, '0.0.0.0']);
      const port = Number(await firstLine(server));
      const client = connect(port, '127.0.0.1');
      client.on('error', () => {});
      await once(client, 'connect');
      const clientPort = client.localPort!;
      await once(client, 'close');
      const now = Date.now();
      assert.equal(resolver.resolve('127.0.0.1', port, '127.0.0.1', clientPort, now),
        UNKNOWN_PROCESS);
      const process = resolver.resolveServer('127.0.0.1', port, '127.0.0.1', clientPort, now);
      assert.equal(process.processId, String(server.pid));
      assert.equal(process.imageFileName, realpathSync(PYTHON));
      assert.equal(resolver.stats.listener_fallbacks, 1);
    });

    test('a worker that accepted, its master holding the listener too: the worker, from the '
      + 'accepted socket, then from the listener once the connection is gone', async () => {
      const resolver = new SocketOwnerResolver();
      const master = start(PYTHON, ['-c', PREFORK_SCRIPT]);
      const output = createInterface({ input: master.stdout! })[Symbol.asyncIterator]();
      const port = Number((await output.next()).value);
      const client = connect(port, '127.0.0.1');
      client.on('error', () => {});
      await once(client, 'connect');
      const worker = String((await output.next()).value);
      grandchildren.push(Number(worker));
      assert.equal(readFileSync(`/proc/${worker}/stat`, 'utf8').split(' ')[3],
        String(master.pid), 'the worker is a child of the master');
      const accepted = resolver.resolveServer('127.0.0.1', port, '127.0.0.1', client.localPort!,
        Date.now());
      assert.equal(accepted.processId, worker, 'the worker that holds the accepted socket');
      assert.equal(resolver.stats.listener_lookups, 0);
      const gone = resolver.resolveServer('127.0.0.1', port, '127.0.0.1', 1, Date.now());
      assert.equal(gone.processId, worker, 'the youngest holder of the listener, not the master');
      assert.equal(resolver.stats.shared_listener_fallbacks, 1);
      client.destroy();
    });
  });

/**
 * A namespace joined to the host by a veth pair, as a container is: 10.213.N.1 on the host side,
 * 10.213.N.2 inside. Names and addresses carry this test process's pid, so that two runs at
 * once do not collide.
 */
describe('a real network namespace', { timeout: 60_000 }, () => {
  const namespace = `smtp-sensor-proc-test-${process.pid}`;
  const hostSide = `sph${process.pid}`;
  const insideSide = `spn${process.pid}`;
  const subnet = `10.213.${process.pid % 250}`;
  let refusal = '';

  function ip(...args: string[]): void {
    const run = spawnSync('ip', args, { encoding: 'utf8' });
    assert.equal(run.status, 0, `ip ${args.join(' ')}: ${run.stderr}`);
  }

  before(() => {
    const added = spawnSync('ip', ['netns', 'add', namespace], { encoding: 'utf8' });
    if (added.status !== 0) {
      refusal = `ip netns add is not permitted here: ${added.stderr.trim() || added.error}`;
      return;
    }
    ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', insideSide, 'netns', namespace);
    ip('addr', 'add', `${subnet}.1/30`, 'dev', hostSide);
    ip('link', 'set', hostSide, 'up');
    ip('netns', 'exec', namespace, 'ip', 'addr', 'add', `${subnet}.2/30`, 'dev', insideSide);
    ip('netns', 'exec', namespace, 'ip', 'link', 'set', insideSide, 'up');
    ip('netns', 'exec', namespace, 'ip', 'link', 'set', 'lo', 'up');
  });
  after(() => {
    killChildren();
    // Deleting the namespace destroys its end of the veth pair, and with it the host's end.
    if (refusal === '') spawnSync('ip', ['netns', 'del', namespace]);
  });

  const inNamespace = (args: string[]) => start('ip', ['netns', 'exec', namespace, ...args]);

  test('listener and client inside the namespace: found through its /proc/PID/net/tcp',
    async (t) => {
      if (refusal !== '') {
        t.skip(refusal);
        return;
      }
      const listenerScript = LISTENER_SCRIPT.replace('127.0.0.1', `${subnet}.2`);
      const listener = inNamespace([PYTHON, '-c', listenerScript]);
      const serverPort = await firstLine(listener);
      const client = inNamespace([PYTHON, '-c', CLIENT_SCRIPT, `${subnet}.2`, serverPort]);
      const clientPort = Number(await firstLine(client));
      const resolver = new SocketOwnerResolver();
      const process = resolver.resolve(`${subnet}.2`, clientPort, `${subnet}.2`,
        Number(serverPort), Date.now());
      assert.equal(process.processId, String(client.pid), '`ip netns exec` execs python');
      assert.equal(process.imageFileName, realpathSync(PYTHON));
      assert.equal(process.commandLine,
        `${PYTHON} -c ${CLIENT_SCRIPT} ${subnet}.2 ${serverPort}`);
      assert.ok(resolver.stats.other_namespace_hits >= 1);
      const accepted = resolver.resolve(`${subnet}.2`, Number(serverPort), `${subnet}.2`,
        clientPort, Date.now());
      assert.equal(accepted.processId, String(listener.pid));
    });

  test('a client in the namespace talking to the host over the veth pair, as a container does',
    async (t) => {
      if (refusal !== '') {
        t.skip(refusal);
        return;
      }
      const { server, port } = await listen(`${subnet}.1`);
      const accepted = once(server, 'connection') as Promise<[Socket]>;
      const client = inNamespace([PYTHON, '-c', CLIENT_SCRIPT, `${subnet}.1`, String(port)]);
      const [socket] = await accepted;
      const resolver = new SocketOwnerResolver();
      const outbound = resolver.resolve(`${subnet}.2`, socket.remotePort!, `${subnet}.1`, port,
        Date.now());
      assert.equal(outbound.processId, String(client.pid));
      const inbound = resolver.resolve(`${subnet}.1`, port, `${subnet}.2`, socket.remotePort!,
        Date.now());
      assert.equal(inbound.processId, String(globalThis.process.pid), 'the host side');
      socket.destroy();
      server.close();
    });
});
