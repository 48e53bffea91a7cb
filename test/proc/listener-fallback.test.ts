import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { UNKNOWN_PROCESS } from '../../src/proc/process-info.js';
import { SocketOwnerResolver } from '../../src/proc/socket-owner-resolver.js';
import type { SocketOwnerStats } from '../../src/proc/socket-owner-stats.js';
import { type FakeProcess, FakeProcRoot, SENSOR_PID, tcpLine, timeWaitLine }
  from './fake-proc-root.js';

/*
 * A host, 10.0.0.5 and 2001:db8::5, whose servers a remote client, 203.0.113.7 or
 * 2001:db8::99, connects to. Endpoints in the kernel's little-endian hex, worked out by hand:
 * 10.0.0.5 = 0500000A, 10.0.0.6 = 0600000A, 203.0.113.7 = 077100CB; ports 25 = 0019,
 * 26 = 001A, 465 = 01D1, 587 = 024B, 1025 = 0401, 2525 = 09DD, 2587 = 0A1B, 2626 = 0A42,
 * 40000 = 9C40, 40001 = 9C41. A listener's remote end is the wildcard with port 0.
 */
const HOST = '10.0.0.5';
const HOST_V6 = '2001:db8::5';
const CLIENT = '203.0.113.7';
const CLIENT_V6 = '2001:db8::99';
const ANY4 = '00000000:0000';
const ANY6 = `${'0'.repeat(32)}:0000`;
const HOST_V6_HEX = 'B80D0120000000000000000005000000';
const MAPPED_HOST_HEX = '0000000000000000FFFF00000500000A';
const LISTEN = '0A';

const HOST_TCP = [
  tcpLine(0, '00000000:0019', ANY4, LISTEN, 0, 9025), // postfix master, smtpd workers
  tcpLine(1, '0500000A:0019', '077100CB:9C40', '01', 107, 9100), // accepted by smtpd 210
  tcpLine(2, '0500000A:024B', ANY4, LISTEN, 1000, 9587), // aiosmtpd on the address
  tcpLine(3, '00000000:024B', ANY4, LISTEN, 0, 9588), // another server on the wildcard
  timeWaitLine(4, '0500000A:024B', '077100CB:9C41'),
  tcpLine(5, '00000000:0A1B', ANY4, LISTEN, 0, 9660),
  tcpLine(6, '00000000:0401', ANY4, LISTEN, 0, 9671),
  tcpLine(7, '0500000A:001A', ANY4, '07', 0, 9680), // bound, not listening
  tcpLine(8, '0600000A:0A42', ANY4, LISTEN, 0, 9690), // another address of the port
];
const HOST_TCP6 = [
  tcpLine(0, `${HOST_V6_HEX}:09DD`, ANY6, LISTEN, 0, 9640),
  tcpLine(1, `${'0'.repeat(32)}:01D1`, ANY6, LISTEN, 0, 9650), // dual-stack ::
  tcpLine(2, `${'0'.repeat(32)}:0A1B`, ANY6, LISTEN, 0, 9661),
  tcpLine(3, `${MAPPED_HOST_HEX}:0401`, ANY6, LISTEN, 0, 9670), // bound to ::ffff:10.0.0.5
];

const ROOT = [0, 0, 0, 0] as [number, number, number, number];
const POSTFIX = [107, 107, 107, 107] as [number, number, number, number];

/** A server process of the fixture: root unless told, the program named after its comm. */
function server(pid: number, comm: string, sockets: number[], more: Partial<FakeProcess> = {})
  : FakeProcess {
  return { pid, parentProcessId: 1, startTime: 1000 + pid, comm, uids: ROOT,
    exe: `/usr/sbin/${comm}`, argv: [comm], sockets, ...more };
}

function buildHost(): FakeProcRoot {
  const proc = new FakeProcRoot();
  proc.writePasswd(['root:x:0:0:root:/root:/bin/bash',
    'postfix:x:107:113::/var/spool/postfix:/usr/sbin/nologin']);
  proc.setTables(HOST_TCP, HOST_TCP6);
  proc.addProcess(server(1, 'systemd', []));
  proc.addProcess(server(SENSOR_PID, 'node', []));
  proc.addProcess(server(200, 'master', [9025], { startTime: 300 }));
  proc.addProcess(server(210, 'smtpd', [9025, 9100], { parentProcessId: 200, startTime: 5000,
    uids: POSTFIX }));
  proc.addProcess(server(211, 'smtpd', [9025], { parentProcessId: 200, startTime: 6000,
    uids: POSTFIX }));
  proc.addProcess(server(300, 'aiosmtpd', [9587]));
  proc.addProcess(server(310, 'other', [9588]));
  proc.addProcess(server(400, 'v6only', [9640]));
  proc.addProcess(server(410, 'dualstack', [9650]));
  proc.addProcess(server(420, 'wildcard4', [9660]));
  proc.addProcess(server(430, 'wildcard6', [9661]));
  proc.addProcess(server(440, 'mapped', [9670]));
  proc.addProcess(server(441, 'wildcard4', [9671]));
  proc.addProcess(server(450, 'bound', [9680]));
  proc.addProcess(server(460, 'elsewhere', [9690]));
  return proc;
}

function fallbackCounters(stats: SocketOwnerStats) {
  const { hits, misses, listener_lookups, listener_fallbacks, shared_listener_fallbacks,
    listeners_not_found } = stats;
  return { hits, misses, listener_lookups, listener_fallbacks, shared_listener_fallbacks,
    listeners_not_found };
}

describe('SocketOwnerResolver.resolveServer: the listener when the connection is gone', () => {
  let proc: FakeProcRoot;
  let resolver: SocketOwnerResolver;
  const now = 1_700_000_000_000;
  const serverPid = (address: string, port: number, client = CLIENT, clientPort = 40100) =>
    resolver.resolveServer(address, port, client, clientPort, now).processId;

  beforeEach(() => {
    proc = buildHost();
    resolver = new SocketOwnerResolver({ procRoot: proc.root });
  });
  afterEach(() => proc.dispose());

  test('the accepted socket, while listed: the worker that accepted, not the listener', () => {
    const smtpd = resolver.resolveServer(HOST, 25, CLIENT, 40000, now);
    assert.equal(smtpd.processId, '210');
    assert.equal(smtpd.userName, 'postfix');
    assert.equal(resolver.stats.listener_lookups, 0);
  });

  test('gone, on a listener a master and its workers hold: the youngest worker, as shared',
    () => {
      const process = resolver.resolveServer(HOST, 25, CLIENT, 40100, now);
      assert.equal(process.processId, '211', 'the shared-socket rule: youngest, not master');
      assert.equal(process.imageFileName, '/usr/sbin/smtpd');
      assert.equal(resolver.stats.sockets_not_found, 1, 'the connection itself was not found');
      assert.deepEqual(fallbackCounters(resolver.stats), { hits: 1, misses: 0,
        listener_lookups: 1, listener_fallbacks: 1, shared_listener_fallbacks: 1,
        listeners_not_found: 0 });
    });

  test('resolve() never falls back to a listener: that is for the server side only', () => {
    assert.equal(resolver.resolve(HOST, 25, CLIENT, 40100, now), UNKNOWN_PROCESS);
    assert.equal(resolver.stats.listener_lookups, 0);
  });

  test('a listener bound to the address wins over one on the wildcard', () => {
    assert.equal(serverPid(HOST, 587), '300');
    assert.equal(resolver.stats.shared_listener_fallbacks, 0, 'one holder: the one accepting');
  });

  test('listed without an inode (TIME_WAIT after the server closed): the listener', () => {
    assert.equal(serverPid(HOST, 587, CLIENT, 40001), '300');
    assert.equal(resolver.stats.sockets_without_inode, 1);
    assert.equal(resolver.stats.listener_fallbacks, 1);
  });

  test('IPv6: a listener bound to the address, which an IPv4 connection cannot reach', () => {
    assert.equal(serverPid(HOST_V6, 2525, CLIENT_V6), '400');
    assert.equal(resolver.resolveServer(HOST, 2525, CLIENT, 40100, now), UNKNOWN_PROCESS);
    assert.equal(resolver.stats.listeners_not_found, 1);
  });

  test('a dual-stack listener on :: serves IPv6, IPv4 and IPv4-mapped connections', () => {
    assert.equal(serverPid(HOST_V6, 465, CLIENT_V6), '410');
    assert.equal(serverPid(HOST, 465), '410');
    assert.equal(serverPid(`::ffff:${HOST}`, 465, `::ffff:${CLIENT}`), '410');
  });

  test('for IPv4, 0.0.0.0 wins over ::; for IPv6 only :: can serve', () => {
    assert.equal(serverPid(HOST, 2587), '420');
    assert.equal(serverPid(HOST_V6, 2587, CLIENT_V6), '430');
  });

  test('for IPv4, a socket bound to the IPv4-mapped address wins over 0.0.0.0', () => {
    assert.equal(serverPid(HOST, 1025), '440');
  });

  test('no listener: a socket bound but not listening, one on another address', () => {
    assert.equal(resolver.resolveServer(HOST, 26, CLIENT, 40100, now), UNKNOWN_PROCESS);
    assert.equal(resolver.resolveServer(HOST, 2626, CLIENT, 40100, now), UNKNOWN_PROCESS);
    assert.equal(resolver.resolveServer(HOST, 8025, CLIENT, 40100, now), UNKNOWN_PROCESS);
    assert.deepEqual(fallbackCounters(resolver.stats), { hits: 0, misses: 3,
      listener_lookups: 3, listener_fallbacks: 0, shared_listener_fallbacks: 0,
      listeners_not_found: 3 });
  });

  test('a listener whose holder exited: no process, never a former one', () => {
    resolver.indexAllProcesses();
    proc.removeProcess(300);
    assert.equal(resolver.resolveServer(HOST, 587, CLIENT, 40100, now), UNKNOWN_PROCESS);
    assert.equal(resolver.stats.listeners_not_found, 1);
  });

  test('unparsable addresses are not looked up at all', () => {
    assert.equal(resolver.resolveServer('mail.example', 25, CLIENT, 40100, now),
      UNKNOWN_PROCESS);
    assert.equal(resolver.stats.unparsable_addresses, 1);
    assert.equal(resolver.stats.listener_lookups, 0);
  });
});

describe('resolveServer: a listener in another network namespace', () => {
  const CONTAINER_NET = 'net:[4026532500]';
  let proc: FakeProcRoot;
  afterEach(() => proc.dispose());

  test('the namespace that owns the address answers, not a host listener on 0.0.0.0', () => {
    proc = buildHost();
    proc.addProcess(server(1000, 'containerd-smtp', [9725], { namespace: CONTAINER_NET,
      tables: { tcp: [tcpLine(0, '00000000:0019', ANY4, LISTEN, 0, 9725)], tcp6: [],
        addresses: ['172.17.0.2'] } }));
    const resolver = new SocketOwnerResolver({ procRoot: proc.root });
    const now = 1_700_000_000_000;
    assert.equal(resolver.resolveServer('172.17.0.2', 25, CLIENT, 40100, now).processId, '1000');
    assert.equal(resolver.resolveServer(HOST, 25, CLIENT, 40100, now).processId, '211',
      'the host address: the host listener');
  });
});
