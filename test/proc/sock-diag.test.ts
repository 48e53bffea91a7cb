import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { constants } from 'node:os';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SockDiag } from '../../src/proc/sock-diag.js';
import { findListenerInode, findSocketInode, SOCKET_NOT_LISTED }
  from '../../src/proc/socket-table-search.js';
import { TcpTuple } from '../../src/proc/tcp-tuple.js';

const PYTHON = '/usr/bin/python3';
/** Connects (an IPv6 socket when the address has a colon), prints its local port, waits. */
const CLIENT_SCRIPT = 'import socket,sys,time; '
  + 'f=socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET; s=socket.socket(f); '
  + 's.connect((sys.argv[1], int(sys.argv[2]))); print(s.getsockname()[1], flush=True); '
  + 'time.sleep(60)';
/** Listens on argv[1] without ever accepting, prints its port, waits. */
const NO_ACCEPT_SCRIPT = 'import socket,sys,time; '
  + 'l=socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET); '
  + 'l.bind((sys.argv[1], 0)); l.listen(); print(l.getsockname()[1], flush=True); time.sleep(60)';
/** include/net/tcp_states.h */
const TCP_ESTABLISHED = 1;
const TCP_TIME_WAIT = 6;
const TCP_LISTEN = 10;
/** Columns of a /proc/net/tcp{,6} line after the endpoints: st, queues, timer, retrnsmt, uid. */
const UID_COLUMN = 4;

const sockDiag = SockDiag.load();

/** The inode and uid of the connection's line in the kernel's socket table, as text. */
function tableEntry(table: 'tcp' | 'tcp6', tuple: TcpTuple): { inode: number; uid: number } {
  const text = readFileSync(`/proc/net/${table}`);
  const needle = table === 'tcp' ? tuple.ipv4Needle! : tuple.ipv6Needle;
  const at = text.indexOf(needle);
  assert.notEqual(at, -1, `the connection is in /proc/net/${table}`);
  const columns = text.toString('latin1', at + needle.length, text.indexOf('\n', at))
    .trim().split(/\s+/);
  return { inode: findSocketInode(text, needle), uid: Number(columns[UID_COLUMN]) };
}

/** The inode of the listener /proc/net/tcp{,6} lists for the tuple's local address and port. */
function tableListener(tuple: TcpTuple): number {
  for (const table of ['tcp', 'tcp6'] as const) {
    const text = readFileSync(`/proc/net/${table}`);
    for (const needle of tuple.listenerNeedles[table]) {
      const inode = findListenerInode(text, needle);
      if (inode > 0) return inode;
    }
  }
  return SOCKET_NOT_LISTED;
}

describe('SockDiag: exact socket lookups through netlink sock_diag', { timeout: 60_000 }, () => {
  const children: ChildProcess[] = [];
  const servers: Server[] = [];
  after(() => {
    for (const child of children) child.kill('SIGKILL');
    for (const server of servers) server.close();
    sockDiag?.close();
  });

  /** A python3 client of a node server on `host`; the accepted socket gives its port. */
  async function connectPython(host: string, connectTo = host) {
    const server = createServer();
    servers.push(server);
    server.listen(0, host);
    await once(server, 'listening');
    const serverPort = (server.address() as { port: number }).port;
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const child = spawn(PYTHON, ['-c', CLIENT_SCRIPT, connectTo, String(serverPort)],
      { stdio: 'ignore' });
    children.push(child);
    const [socket] = await accepted;
    return { serverPort, clientPort: socket.remotePort!, child };
  }

  test('the addon is built and loads (npm run build:native)', () => {
    assert.ok(sockDiag, 'native/sock-diag/build/Release/sock_diag.node loads');
  });

  test('a python3 client over IPv4: its inode and uid, as /proc/net/tcp lists them', async () => {
    const { serverPort, clientPort } = await connectPython('127.0.0.1');
    const tuple = TcpTuple.parse('127.0.0.1', clientPort, '127.0.0.1', serverPort)!;
    const inode = sockDiag!.findInode(tuple);
    assert.ok(inode !== undefined && inode > 0);
    assert.equal(sockDiag!.uid, process.getuid!());
    assert.equal(sockDiag!.state, TCP_ESTABLISHED);
    assert.deepEqual(tableEntry('tcp', tuple), { inode, uid: sockDiag!.uid });
  });

  test('IPv6 loopback', async () => {
    const { serverPort, clientPort } = await connectPython('::1');
    const tuple = TcpTuple.parse('::1', clientPort, '::1', serverPort)!;
    const inode = sockDiag!.findInode(tuple);
    assert.ok(inode !== undefined && inode > 0);
    assert.deepEqual(tableEntry('tcp6', tuple), { inode, uid: sockDiag!.uid });
  });

  test('an IPv6 socket connected to an IPv4 address is found from the IPv4 four-tuple',
    async () => {
      const { serverPort, clientPort } = await connectPython('127.0.0.1', '::ffff:127.0.0.1');
      const tuple = TcpTuple.parse('127.0.0.1', clientPort, '127.0.0.1', serverPort)!;
      const inode = sockDiag!.findInode(tuple);
      assert.ok(inode !== undefined && inode > 0);
      assert.equal(tableEntry('tcp6', tuple).inode, inode, 'listed as IPv4-mapped in tcp6');
      const mapped = TcpTuple.parse('::ffff:127.0.0.1', clientPort, '::ffff:127.0.0.1',
        serverPort)!;
      assert.equal(sockDiag!.findInode(mapped), inode, 'and from its IPv4-mapped spelling');
    });

  test('a four-tuple no socket has is not listed, even on a listening port', async () => {
    const { serverPort } = await connectPython('127.0.0.1');
    const unused = TcpTuple.parse('127.0.0.1', 1, '127.0.0.1', 2)!;
    assert.equal(sockDiag!.findInode(unused), SOCKET_NOT_LISTED);
    // The kernel's lookup falls back to the listener of the local port; the addon refuses it.
    const toListener = TcpTuple.parse('127.0.0.1', serverPort, '127.0.0.1', 1)!;
    assert.equal(sockDiag!.findInode(toListener), SOCKET_NOT_LISTED);
    assert.equal(sockDiag!.findInode(TcpTuple.parse('::1', 1, '::1', 2)!), SOCKET_NOT_LISTED);
  });

  test('nor on a port listened on by 0.0.0.0 or ::, whatever address is asked for', async () => {
    for (const host of ['0.0.0.0', '::']) {
      const server = createServer();
      servers.push(server);
      server.listen(0, host);
      await once(server, 'listening');
      const port = (server.address() as { port: number }).port;
      for (const [local, remote] of [['127.0.0.1', '127.0.0.1'], ['::1', '::1'],
        ['192.0.2.1', '198.51.100.1']]) {
        const gone = TcpTuple.parse(local, port, remote, 40000)!;
        assert.equal(sockDiag!.findInode(gone), SOCKET_NOT_LISTED, `${host}, ${local}`);
      }
    }
  });

  test('before accept(): the accepted socket is found, ESTABLISHED, without an inode',
    async () => {
      const listener = spawn(PYTHON, ['-c', NO_ACCEPT_SCRIPT, '127.0.0.1'],
        { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(listener);
      const [portLine] = await once(listener.stdout!, 'data') as [Buffer];
      const port = Number(portLine.toString());
      const client = connect(port, '127.0.0.1');
      await once(client, 'connect');
      const serverSide = TcpTuple.parse('127.0.0.1', port, '127.0.0.1', client.localPort!)!;
      // The handshake is done: the kernel made the socket and queued it for accept(), which
      // gives it its file (and inode); until then no process holds it.
      assert.equal(sockDiag!.findInode(serverSide), 0);
      assert.equal(sockDiag!.state, TCP_ESTABLISHED);
      assert.ok(sockDiag!.findListenerInode(serverSide)! > 0, 'its listener is there');
      client.destroy();
    });

  test('findListenerInode: the listener the kernel would give a new connection', async () => {
    const cases: [string, boolean, string, boolean][] = [
      // listening host, ipv6Only, connection's local address, found
      ['127.0.0.1', false, '127.0.0.1', true],
      ['127.0.0.1', false, '127.0.0.2', false],
      ['0.0.0.0', false, '127.0.0.2', true],
      ['0.0.0.0', false, '::1', false],
      ['::', false, '127.0.0.1', true], // dual-stack: IPv4 as IPv4-mapped
      ['::', false, '::1', true],
      ['::', true, '127.0.0.1', false], // IPV6_V6ONLY
      ['::', true, '::1', true],
      ['::1', false, '::1', true],
      ['::1', false, '127.0.0.1', false],
    ];
    for (const [host, ipv6Only, local, found] of cases) {
      const server = createServer();
      servers.push(server);
      server.listen({ port: 0, host, ipv6Only });
      await once(server, 'listening');
      const port = (server.address() as { port: number }).port;
      const remote = local.includes(':') ? '::1' : '127.0.0.1';
      const tuple = TcpTuple.parse(local, port, remote, 40000)!;
      const inode = sockDiag!.findListenerInode(tuple);
      const name = `${host}${ipv6Only ? ' (v6 only)' : ''} for ${local}`;
      if (!found) {
        assert.equal(inode, SOCKET_NOT_LISTED, name);
        continue;
      }
      assert.ok(inode !== undefined && inode > 0, name);
      assert.equal(sockDiag!.state, TCP_LISTEN, name);
      assert.equal(inode, tableListener(TcpTuple.parse(host === '0.0.0.0' || host === '::'
        ? local : host, port, remote, 40000)!), `${name}: as /proc/net/tcp{,6} lists it`);
      assert.equal(sockDiag!.findListenerInode(TcpTuple.parse(local, port + 1, remote, 1)!)
        === inode, false, `${name}: not for another port`);
    }
  });

  test('a socket its process closed is listed without an inode, until TIME_WAIT ends',
    async () => {
      const { serverPort, clientPort, child } = await connectPython('127.0.0.1');
      const clientSide = TcpTuple.parse('127.0.0.1', clientPort, '127.0.0.1', serverPort)!;
      child.kill('SIGKILL'); // the client's socket closes first: FIN_WAIT, then TIME_WAIT
      const closedInTimeWait = () => sockDiag!.findInode(clientSide) === 0
        && sockDiag!.state === TCP_TIME_WAIT;
      for (let waited = 0; waited < 2_000 && !closedInTimeWait(); waited += 10) await sleep(10);
      assert.equal(sockDiag!.findInode(clientSide), 0);
      assert.equal(sockDiag!.state, TCP_TIME_WAIT);
    });

  test('close() closes the netlink socket; the next lookup opens another', async () => {
    const { serverPort, clientPort } = await connectPython('127.0.0.1');
    const tuple = TcpTuple.parse('127.0.0.1', clientPort, '127.0.0.1', serverPort)!;
    const inode = sockDiag!.findInode(tuple);
    sockDiag!.close();
    assert.equal(sockDiag!.findInode(tuple), inode);
    assert.equal(sockDiag!.lastError, 0);
  });

  test('wrong arguments to the addon throw a TypeError (a programmer error)', () => {
    const addon = createRequire(import.meta.url)(
      '../../../native/sock-diag/build/Release/sock_diag.node') as {
      lookUp(...args: unknown[]): number;
    };
    const result = new Uint32Array(3);
    const four = new Uint8Array(4);
    assert.throws(() => addon.lookUp(4, new Uint8Array(16), 1, four, 2, result), TypeError);
    assert.throws(() => addon.lookUp(5, four, 1, four, 2, result), TypeError);
    assert.throws(() => addon.lookUp(4, four, 70_000, four, 2, result), TypeError);
    assert.throws(() => addon.lookUp(4, four, 1, four, 2, new Uint32Array(2)), TypeError);
    assert.equal(addon.lookUp(4, four, 1, four, 2, result), 2, 'ENOENT for 0.0.0.0:1');
  });

  test('lookUp with a remote end of 0.0.0.0:0 (a listener\'s) still refuses the listener',
    async () => {
      const addon = createRequire(import.meta.url)(
        '../../../native/sock-diag/build/Release/sock_diag.node') as {
        lookUp(...args: unknown[]): number;
        lookUpListener(...args: unknown[]): number;
      };
      const server = createServer();
      servers.push(server);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const port = (server.address() as { port: number }).port;
      const result = new Uint32Array(3);
      const loopback = new Uint8Array([127, 0, 0, 1]);
      assert.equal(addon.lookUp(4, loopback, port, new Uint8Array(4), 0, result),
        constants.errno.ENOENT);
      assert.equal(addon.lookUpListener(4, loopback, port, result), 0);
      assert.equal(result[2], TCP_LISTEN);
      assert.throws(() => addon.lookUpListener(4, new Uint8Array(16), port, result), TypeError);
    });
});
