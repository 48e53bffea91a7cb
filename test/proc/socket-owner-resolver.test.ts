import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ProcError } from '../../src/proc/proc-error.js';
import { UNKNOWN_PROCESS } from '../../src/proc/process-info.js';
import { resolveSocketInode } from '../../src/proc/resolve-socket-inode.js';
import { SocketOwnerResolver } from '../../src/proc/socket-owner-resolver.js';
import { NetworkNamespaces } from '../../src/proc/network-namespaces.js';
import { DEFAULT_PROC_LIMITS } from '../../src/proc/proc-limits.js';
import { SocketOwnerStats } from '../../src/proc/socket-owner-stats.js';
import { SocketTables } from '../../src/proc/socket-tables.js';
import { TcpTuple } from '../../src/proc/tcp-tuple.js';
import { FakeProcRoot, HOST_NAMESPACE, SENSOR_PID, tcpLine, timeWaitLine }
  from './fake-proc-root.js';

/*
 * The host: 10.0.0.5 and 2001:db8::5, sending to 198.51.100.25 and 2001:db8::25. Endpoints in
 * the tables are the kernel's little-endian hex, worked out by hand:
 * 10.0.0.5 = 0500000A, 198.51.100.25 = 196433C6, 172.17.0.2 = 020011AC; ports 25 = 0019,
 * 587 = 024B, 50000 = C350 (50001 = C351 ...), 45000 = AFC8.
 */
const CLIENT = '10.0.0.5';
const SERVER = '198.51.100.25';
const V4_SERVER_25 = '196433C6:0019';
const V6_CLIENT = 'B80D0120000000000000000005000000';
const V6_SERVER = 'B80D0120000000000000000025000000';
const MAPPED_CLIENT = '0000000000000000FFFF00000500000A';
const MAPPED_SERVER = '0000000000000000FFFF0000196433C6';

const HOST_TCP = [
  tcpLine(0, '00000000:0019', '00000000:0000', '0A', 0, 100),
  tcpLine(1, '0500000A:C350', V4_SERVER_25, '01', 107, 7001),
  tcpLine(2, '0500000A:C352', V4_SERVER_25, '01', 0, 7004),
  tcpLine(3, '0500000A:C353', '196433C6:024B', '01', 1000, 7005),
  timeWaitLine(4, '0500000A:C35A', V4_SERVER_25),
  tcpLine(5, '0500000A:C35B', V4_SERVER_25, '01', 0, 7666),
];
const HOST_TCP6 = [
  tcpLine(0, `${V6_CLIENT}:C351`, `${V6_SERVER}:0019`, '01', 1000, 7002),
  tcpLine(1, `${MAPPED_CLIENT}:C354`, `${MAPPED_SERVER}:024B`, '01', 1000, 7003),
];

function buildHost(): FakeProcRoot {
  const proc = new FakeProcRoot();
  proc.writePasswd(['root:x:0:0:root:/root:/bin/bash',
    'postfix:x:107:113::/var/spool/postfix:/usr/sbin/nologin',
    'alice:x:1000:1000:Alice:/home/alice:/bin/bash']);
  proc.setTables(HOST_TCP, HOST_TCP6);
  const root = [0, 0, 0, 0] as [number, number, number, number];
  const alice = [1000, 1000, 1000, 1000] as [number, number, number, number];
  proc.addProcess({ pid: 1, parentProcessId: 0, startTime: 1, comm: 'systemd', uids: root,
    exe: '/usr/lib/systemd/systemd', argv: ['/sbin/init'], sockets: [100] });
  proc.addProcess({ pid: 2, parentProcessId: 0, startTime: 1, comm: 'kthreadd', uids: root,
    argv: [] });
  proc.addProcess({ pid: SENSOR_PID, parentProcessId: 1, startTime: 400, comm: 'node',
    uids: root, exe: '/usr/bin/node', argv: ['node', 'agent/smtp-sensor', 'run'] });
  proc.addProcess({ pid: 200, parentProcessId: 1, startTime: 300, comm: 'master', uids: root,
    exe: '/usr/lib/postfix/sbin/master', argv: ['/usr/lib/postfix/sbin/master', '-w'] });
  proc.addProcess({ pid: 300, parentProcessId: 200, startTime: 5000, comm: 'smtp',
    uids: [107, 107, 107, 107], exe: '/usr/lib/postfix/sbin/smtp',
    argv: ['smtp', '-t', 'unix', '-u', '-c'], sockets: [7001] });
  proc.addProcess({ pid: 400, parentProcessId: 1, startTime: 5100, comm: 'python3', uids: alice,
    exe: '/usr/bin/python3.11', argv: ['/usr/bin/python3', 'send.py'], sockets: [7002] });
  proc.addProcess({ pid: 500, parentProcessId: 1, startTime: 5200, comm: 'java', uids: alice,
    exe: '/usr/lib/jvm/java-17-openjdk-amd64/bin/java', argv: ['java', '-jar', 'mailer.jar'],
    sockets: [7003] });
  proc.addProcess({ pid: 600, parentProcessId: 1, startTime: 8000, comm: 'bash', uids: root,
    exe: '/usr/bin/bash', argv: ['bash', 'send.sh'], sockets: [7004] });
  proc.addProcess({ pid: 601, parentProcessId: 600, startTime: 8000, comm: 'swaks', uids: root,
    exe: '/usr/bin/perl', argv: ['/usr/bin/perl', '/usr/bin/swaks', '--to', 'b@example.net'],
    sockets: [7004] });
  proc.addProcess({ pid: 800, parentProcessId: 1, startTime: 8100, comm: 'my (weird) proc',
    uids: alice, exe: '/home/alice/weird', argv: ['./weird'], sockets: [7005] });
  return proc;
}

/** Counters that say whether a lookup read anything. */
function readsOf(stats: SocketOwnerStats) {
  const { socket_table_reads, processes_scanned, full_scans, incremental_scans,
    recent_owner_scans } = stats;
  return { socket_table_reads, processes_scanned, full_scans, incremental_scans,
    recent_owner_scans };
}

describe('SocketOwnerResolver on a fake proc root', () => {
  let proc: FakeProcRoot;
  let resolver: SocketOwnerResolver;
  let now: number;

  beforeEach(() => {
    proc = buildHost();
    resolver = new SocketOwnerResolver({ procRoot: proc.root });
    now = 1_700_000_000_000;
  });
  afterEach(() => proc.dispose());

  test('IPv4 connection: the postfix smtp process, with every field', () => {
    assert.deepEqual(resolver.resolve(CLIENT, 50000, SERVER, 25, now), {
      processId: '300', parentProcessId: '200', userId: '107', userName: 'postfix',
      imageFileName: '/usr/lib/postfix/sbin/smtp', commandLine: 'smtp -t unix -u -c' });
    assert.equal(resolver.stats.hits, 1);
    assert.equal(resolver.stats.full_scans, 1, 'the first lookup builds the index');
  });

  test('IPv6 connection', () => {
    const process = resolver.resolve('2001:db8::5', 50001, '2001:db8::25', 25, now);
    assert.equal(process.processId, '400');
    assert.equal(process.imageFileName, '/usr/bin/python3.11');
    assert.equal(process.commandLine, '/usr/bin/python3 send.py');
    assert.equal(process.userName, 'alice');
  });

  test('IPv4 connection held by an IPv6 socket is found as IPv4-mapped in tcp6', () => {
    assert.equal(resolver.resolve(CLIENT, 50004, SERVER, 587, now).processId, '500');
    const mappedText = resolver.resolve(`::ffff:${CLIENT}`, 50004, `::ffff:${SERVER}`, 587,
      now + 20_000);
    assert.equal(mappedText.processId, '500', 'the same connection in IPv4-mapped text');
  });

  test('comm with spaces and parentheses does not break the start time', () => {
    assert.equal(resolver.resolve(CLIENT, 50003, SERVER, 587, now).processId, '800');
  });

  test('a connection in no table, and one in TIME_WAIT, are misses with their reason', () => {
    assert.equal(resolver.resolve(CLIENT, 50099, SERVER, 25, now), UNKNOWN_PROCESS);
    assert.equal(resolver.resolve(CLIENT, 50010, SERVER, 25, now), UNKNOWN_PROCESS);
    assert.equal(resolver.resolve('mx.example.net', 1, SERVER, 25, now), UNKNOWN_PROCESS);
    const { lookups, misses, sockets_not_found, sockets_without_inode, unparsable_addresses }
      = resolver.stats;
    assert.deepEqual(
      { lookups, misses, sockets_not_found, sockets_without_inode, unparsable_addresses },
      { lookups: 3, misses: 3, sockets_not_found: 1, sockets_without_inode: 1,
        unparsable_addresses: 1 });
  });

  test('a socket listed but held by no visible process: owner not found, full scans limited',
    () => {
      const limited = new SocketOwnerResolver({ procRoot: proc.root,
        limits: { fullScanBurst: 1, fullScanIntervalMs: 2_000 } });
      assert.equal(limited.resolve(CLIENT, 50011, SERVER, 25, now), UNKNOWN_PROCESS);
      assert.equal(limited.resolve(CLIENT, 50011, SERVER, 25, now + 100), UNKNOWN_PROCESS);
      assert.equal(limited.stats.full_scans, 1);
      assert.equal(limited.stats.full_scans_rate_limited, 1);
      assert.equal(limited.resolve(CLIENT, 50011, SERVER, 25, now + 2_000), UNKNOWN_PROCESS);
      assert.equal(limited.stats.full_scans, 2, 'one more full scan earned after 2 s');
      assert.equal(limited.stats.owners_not_found, 3);
    });

  test('shared socket: the child swaks wins over the bash that forked it in the same tick',
    () => {
      const process = resolver.resolve(CLIENT, 50002, SERVER, 25, now);
      assert.equal(process.processId, '601');
      assert.equal(process.commandLine, '/usr/bin/perl /usr/bin/swaks --to b@example.net');
      assert.equal(resolver.stats.shared_sockets, 1);
    });

  test('a second lookup of the same connection reads nothing', () => {
    const first = resolver.resolve(CLIENT, 50000, SERVER, 25, now);
    const before = readsOf(resolver.stats);
    const second = resolver.resolve(CLIENT, 50000, SERVER, 25, now + 5_000);
    assert.equal(second, first);
    assert.deepEqual(readsOf(resolver.stats), before);
    assert.equal(resolver.stats.connection_cache_hits, 1);
  });

  test('the cached owner expires after connectionCacheTtlMs of capture time', () => {
    resolver.resolve(CLIENT, 50000, SERVER, 25, now);
    const reads = resolver.stats.socket_table_reads;
    resolver.resolve(CLIENT, 50000, SERVER, 25, now + 10_000);
    assert.equal(resolver.stats.connection_cache_hits, 0);
    assert.equal(resolver.stats.socket_table_reads, reads + 1);
    assert.equal(resolver.stats.index_hits, 1, 'the socket is still in the index');
  });

  test('a socket that existed at the last scan is found in the index without scanning', () => {
    resolver.resolve(CLIENT, 50000, SERVER, 25, now);
    const before = readsOf(resolver.stats);
    assert.equal(resolver.resolve('2001:db8::5', 50001, '2001:db8::25', 25, now).processId,
      '400');
    assert.equal(resolver.stats.index_hits, 1);
    assert.deepEqual(readsOf(resolver.stats),
      { ...before, socket_table_reads: before.socket_table_reads + 1 });
  });

  test('a new process is found by scanning only the new processes', () => {
    resolver.resolve(CLIENT, 50000, SERVER, 25, now);
    proc.setTables([...HOST_TCP, tcpLine(6, '0500000A:C364', V4_SERVER_25, '02', 0, 7100)],
      HOST_TCP6);
    proc.addProcess({ pid: 900, parentProcessId: 1, startTime: 9000, comm: 'curl',
      uids: [0, 0, 0, 0], exe: '/usr/bin/curl', argv: ['curl', 'smtp://198.51.100.25'],
      sockets: [7100] });
    const before = readsOf(resolver.stats);
    const process = resolver.resolve(CLIENT, 50020, SERVER, 25, now + 100);
    assert.equal(process.processId, '900');
    assert.deepEqual(readsOf(resolver.stats), {
      socket_table_reads: before.socket_table_reads + 1,
      // The recent owner (pid 300) is rescanned before the listing, then the new process.
      processes_scanned: before.processes_scanned + 2,
      full_scans: 1,
      incremental_scans: 1,
      recent_owner_scans: 1,
    });
  });

  test('a daemon that owned a connection is rescanned for its next one, before any listing',
    () => {
      resolver.resolve(CLIENT, 50000, SERVER, 25, now);
      proc.addSocket(300, 7101, 4);
      proc.setTables([...HOST_TCP, tcpLine(6, '0500000A:C365', V4_SERVER_25, '02', 107, 7101)],
        HOST_TCP6);
      assert.equal(resolver.resolve(CLIENT, 50021, SERVER, 25, now + 100).processId, '300');
      assert.equal(resolver.stats.incremental_scans, 0, 'found before any listing of /proc');
    });

  test('a reused pid: the new process is reported, never for the old process socket', () => {
    resolver.resolve(CLIENT, 50000, SERVER, 25, now);
    proc.removeProcess(300);
    proc.addProcess({ pid: 300, parentProcessId: 1, startTime: 9999, comm: 'curl',
      uids: [1000, 1000, 1000, 1000], exe: '/usr/bin/curl', argv: ['curl', 'smtp://mx'],
      sockets: [7100] });
    proc.setTables([...HOST_TCP, tcpLine(6, '0500000A:C364', V4_SERVER_25, '02', 1000, 7100)],
      HOST_TCP6);
    const curl = resolver.resolve(CLIENT, 50020, SERVER, 25, now + 100);
    assert.equal(curl.processId, '300');
    assert.equal(curl.imageFileName, '/usr/bin/curl');
    assert.equal(resolver.stats.reused_pids, 1);
    // 7001 is still listed but only the old pid 300 held it: no process may be reported.
    assert.equal(resolver.resolve(CLIENT, 50000, SERVER, 25, now + 20_000), UNKNOWN_PROCESS);
    assert.equal(resolver.stats.owners_not_found, 1);
  });

  test('resolveInode and resolveSocketInode: from a known inode', () => {
    assert.equal(resolver.resolveInode(7002, now).processId, '400');
    assert.equal(resolver.resolveInode(424242, now), UNKNOWN_PROCESS);
    const process = resolveSocketInode(7001, { procRoot: proc.root });
    assert.equal(process.userName, 'postfix', 'the passwd file beside the proc root');
    assert.equal(resolveSocketInode(7001, { procRoot: proc.root, passwdPath: '/nonexistent' })
      .userName, '');
  });

  test('counters: every lookup is a hit or a miss, times are counted', () => {
    let tick = 0;
    const timed = new SocketOwnerResolver({ procRoot: proc.root, elapsedClock: () => tick++ });
    timed.resolve(CLIENT, 50000, SERVER, 25, now);
    timed.resolve(CLIENT, 50099, SERVER, 25, now);
    const { lookups, hits, misses } = timed.stats;
    assert.deepEqual({ lookups, hits, misses }, { lookups: 2, hits: 1, misses: 1 });
    assert.ok(timed.stats.lookup_time_ms >= timed.stats.scan_time_ms);
    assert.ok(timed.stats.scan_time_ms >= timed.stats.full_scan_time_ms);
    assert.ok(timed.stats.full_scan_time_ms > 0);
  });

  test('configuration errors are ProcErrors with a code', () => {
    assert.throws(() => new SocketOwnerResolver({ procRoot: `${proc.root}/missing` }),
      (error: unknown) => error instanceof ProcError && error.code === 'proc_root_unreadable');
    assert.throws(() => new SocketOwnerResolver({ procRoot: proc.root,
      limits: { maxIndexedSockets: 0 } }),
    (error: unknown) => error instanceof ProcError && error.code === 'invalid_limit');
  });
});

describe('SocketOwnerResolver: where a new socket is looked for', () => {
  /** Client ports from 50020 (C364), each new client's socket 7100 + n. */
  const clientLine = (n: number) => tcpLine(6 + n, `0500000A:${(0xC364 + n).toString(16)
    .toUpperCase()}`, V4_SERVER_25, '02', 0, 7100 + n);
  const client = (pid: number, sockets: number[] = [], exitSignal?: number) => ({ pid,
    parentProcessId: 1, startTime: 9000 + pid, comm: 'python3', uids: [0, 0, 0, 0] as [0, 0, 0, 0],
    exe: '/usr/bin/python3.11', argv: ['python3', `client-${pid}.py`], sockets, exitSignal });
  let proc: FakeProcRoot;
  let resolver: SocketOwnerResolver;
  const now = 1_700_000_000_000;

  beforeEach(() => {
    proc = buildHost();
    proc.setLastPid(899);
    resolver = new SocketOwnerResolver({ procRoot: proc.root });
    resolver.indexAllProcesses(); // the 10 processes of the host
  });
  afterEach(() => proc.dispose());

  test('a new client is found among the pids allocated since, without listing /proc', () => {
    proc.addProcess(client(900, [7100]));
    proc.setTables([...HOST_TCP, clientLine(0)], HOST_TCP6);
    proc.setLastPid(905);
    assert.equal(resolver.resolve(CLIENT, 50020, SERVER, 25, now).processId, '900');
    const { new_pid_scans, incremental_scans, processes_scanned, full_scans } = resolver.stats;
    assert.deepEqual({ new_pid_scans, incremental_scans, processes_scanned, full_scans },
      { new_pid_scans: 1, incremental_scans: 0, processes_scanned: 10 + 1, full_scans: 1 });
  });

  test('a thread, whose /proc/TID shows its process fds, is never taken for a process', () => {
    proc.addProcess({ ...client(900, [7100], -1), comm: 'worker' });
    proc.addProcess(client(901, [7100]));
    proc.setTables([...HOST_TCP, clientLine(0)], HOST_TCP6);
    proc.setLastPid(901);
    assert.equal(resolver.resolve(CLIENT, 50020, SERVER, 25, now).processId, '901');
    assert.equal(resolver.stats.shared_sockets, 0);
  });

  test('a client scanned before it connected is found among the young processes', () => {
    proc.addProcess(client(900));
    proc.addProcess(client(901, [7100]));
    proc.setTables([...HOST_TCP, clientLine(0)], HOST_TCP6);
    proc.setLastPid(901);
    resolver.resolve(CLIENT, 50020, SERVER, 25, now); // reads 900, not connected yet, then 901
    proc.addSocket(900, 7101, 3);
    proc.setTables([...HOST_TCP, clientLine(0), clientLine(1)], HOST_TCP6);
    const before = { ...resolver.stats };
    assert.equal(resolver.resolve(CLIENT, 50021, SERVER, 25, now + 300).processId, '900');
    assert.equal(resolver.stats.young_process_scans, before.young_process_scans + 1);
    assert.equal(resolver.stats.processes_scanned, before.processes_scanned + 1);
    assert.equal(resolver.stats.incremental_scans, 0);
    assert.equal(resolver.stats.full_scans, 1);
  });

  test('a scan stops at the first holder; the pids after it are read by the next one', () => {
    for (const pid of [900, 901, 902]) proc.addProcess(client(pid, [7100 + pid - 900]));
    proc.setTables([...HOST_TCP, clientLine(0), clientLine(1), clientLine(2)], HOST_TCP6);
    proc.setLastPid(902);
    resolver.resolve(CLIENT, 50020, SERVER, 25, now);
    assert.equal(resolver.stats.processes_scanned, 10 + 1, 'only 900 was read');
    assert.equal(resolver.resolve(CLIENT, 50022, SERVER, 25, now).processId, '902');
    assert.equal(resolver.stats.processes_scanned, 10 + 3);
  });

  test('the proc root is listed when too many pids were allocated, or the counter wrapped',
    () => {
      proc.addProcess(client(900, [7100]));
      proc.setTables([...HOST_TCP, clientLine(0)], HOST_TCP6);
      proc.setLastPid(5_000);
      assert.equal(resolver.resolve(CLIENT, 50020, SERVER, 25, now).processId, '900');
      proc.addProcess(client(300 + 1, [7101]));
      proc.setTables([...HOST_TCP, clientLine(0), clientLine(1)], HOST_TCP6);
      proc.setLastPid(301);
      assert.equal(resolver.resolve(CLIENT, 50021, SERVER, 25, now).processId, '301');
      assert.equal(resolver.stats.incremental_scans, 2);
      assert.equal(resolver.stats.new_pid_scans, 0);
    });

  test('without sock_diag, a socket no process holds any more costs a full scan', () => {
    // sock_diag would tell that it was closed (real-process-attribution.test.ts); tables cannot.
    proc.setTables([...HOST_TCP, clientLine(0)], HOST_TCP6);
    assert.equal(resolver.resolve(CLIENT, 50020, SERVER, 25, now), UNKNOWN_PROCESS);
    assert.equal(resolver.stats.full_scans, 2);
    assert.equal(resolver.stats.sockets_closed_during_search, 0);
  });
});

describe('SocketTables: which tables a lookup reads', () => {
  let proc: FakeProcRoot;
  afterEach(() => proc.dispose());

  test('sock_diag wanted but unavailable: the own tables are read, and it is counted', () => {
    proc = buildHost();
    const stats = new SocketOwnerStats();
    const namespaces = new NetworkNamespaces(proc.root, HOST_NAMESPACE, 8, 0, stats);
    const tables = new SocketTables(proc.root, namespaces, DEFAULT_PROC_LIMITS, stats,
      'unavailable');
    const tuple = TcpTuple.parse(CLIENT, 50000, SERVER, 25)!;
    assert.equal(tables.find(tuple, 0), 7001);
    assert.equal(tables.foundBySockDiag, false);
    assert.equal(tables.isClosed(tuple, 7001), false, 'cannot tell without sock_diag');
    const { sock_diag_unavailable, sock_diag_lookups, socket_table_reads } = stats;
    assert.deepEqual({ sock_diag_unavailable, sock_diag_lookups, socket_table_reads },
      { sock_diag_unavailable: 1, sock_diag_lookups: 0, socket_table_reads: 1 });
  });

  test('a resolver on a folder laid out like /proc never asks sock_diag', () => {
    proc = buildHost();
    const resolver = new SocketOwnerResolver({ procRoot: proc.root });
    resolver.resolve(CLIENT, 50000, SERVER, 25, 0);
    assert.equal(resolver.stats.sock_diag_lookups + resolver.stats.sock_diag_unavailable, 0);
  });
});

describe('SocketOwnerResolver: connections in other network namespaces', () => {
  const CONTAINER_NET = 'net:[4026532500]';
  let proc: FakeProcRoot;
  let resolver: SocketOwnerResolver;
  const now = 1_700_000_000_000;
  const containerTables = (...lines: string[]) =>
    ({ tcp: lines, tcp6: [], addresses: ['172.17.0.2', '2001:db8:17::2'] });
  const FIRST = tcpLine(0, '020011AC:AFC8', V4_SERVER_25, '01', 0, 7200);

  beforeEach(() => {
    proc = buildHost();
    const member = { parentProcessId: 1, comm: 'x', uids: [0, 0, 0, 0] as [0, 0, 0, 0],
      namespace: CONTAINER_NET };
    proc.addProcess({ ...member, pid: 1000, startTime: 6000, exe: '/usr/bin/tini',
      argv: ['tini', '--', 'app'], tables: containerTables(FIRST) });
    proc.addProcess({ ...member, pid: 1001, parentProcessId: 1000, startTime: 6100,
      exe: '/usr/local/bin/python3.12', argv: ['python3', 'app.py'], sockets: [7200],
      tables: containerTables(FIRST) });
    resolver = new SocketOwnerResolver({ procRoot: proc.root });
  });
  afterEach(() => proc.dispose());

  test('a container connection is found through a member of its namespace', () => {
    const process = resolver.resolve('172.17.0.2', 45000, SERVER, 25, now);
    assert.equal(process.processId, '1001');
    assert.equal(process.imageFileName, '/usr/local/bin/python3.12');
    assert.equal(resolver.stats.other_namespace_hits, 1);
  });

  test('a container address is the host\'s even for a connection with no owner left', () => {
    assert.equal(resolver.resolve('172.17.0.2', 45001, SERVER, 25, now), UNKNOWN_PROCESS);
    assert.equal(resolver.isNamespaceAddress('172.17.0.2', now), true);
    assert.equal(resolver.isNamespaceAddress('2001:db8:17::2', now), true);
    assert.equal(resolver.isNamespaceAddress('203.0.113.7', now), false);
    assert.equal(resolver.isNamespaceAddress('not an address', now), false);
  });

  test('once the namespace is known, its connection costs one table read', () => {
    resolver.resolve(CLIENT, 50000, SERVER, 25, now);
    const reads = resolver.stats.socket_table_reads;
    assert.equal(resolver.resolve('172.17.0.2', 45000, SERVER, 25, now).processId, '1001');
    assert.equal(resolver.stats.socket_table_reads, reads + 1, 'its tcp, not the host tables');
  });

  test('a connection no namespace has an address for reads no namespace table', () => {
    assert.equal(resolver.resolve('203.0.113.7', 40000, SERVER, 25, now), UNKNOWN_PROCESS);
    assert.equal(resolver.stats.sockets_not_found, 1);
    assert.equal(resolver.stats.socket_table_reads, 2, 'the host tcp and tcp6 only');
  });

  test('with a burst of one, connections in no table look for new namespaces once a second',
    () => {
    resolver = new SocketOwnerResolver({ procRoot: proc.root,
      limits: { namespaceDiscoveryBurst: 1 } });
    for (const port of [40000, 40001, 40002]) {
      resolver.resolve('203.0.113.7', port, SERVER, 25, now + port - 40000);
    }
    resolver.resolve('203.0.113.7', 40003, SERVER, 25, now + 1_000);
    const { sockets_not_found, namespace_discoveries_rate_limited, full_scans,
      incremental_scans } = resolver.stats;
    assert.deepEqual(
      { sockets_not_found, namespace_discoveries_rate_limited, full_scans, incremental_scans },
      { sockets_not_found: 4, namespace_discoveries_rate_limited: 2, full_scans: 1,
        incremental_scans: 1 });
  });

  test('by default four discoveries may follow one another, then one a second', () => {
    for (let port = 40000; port < 40006; port++) {
      resolver.resolve('203.0.113.7', port, SERVER, 25, now + port - 40000);
    }
    assert.equal(resolver.stats.namespace_discoveries_rate_limited, 2, 'the fifth and sixth');
    resolver.resolve('203.0.113.7', 40006, SERVER, 25, now + 999);
    assert.equal(resolver.stats.namespace_discoveries_rate_limited, 3, 'none earned yet');
    resolver.resolve('203.0.113.7', 40007, SERVER, 25, now + 1_000);
    assert.equal(resolver.stats.namespace_discoveries_rate_limited, 3, 'one earned at 1 s');
    assert.equal(resolver.stats.sockets_not_found, 8);
  });

  test('when the member read first exits, another member of the namespace stands in', () => {
    resolver.resolve('172.17.0.2', 45000, SERVER, 25, now);
    proc.removeProcess(1000);
    proc.addSocket(1001, 7201, 4);
    proc.setProcessTables(1001,
      [FIRST, tcpLine(1, '020011AC:AFC9', V4_SERVER_25, '01', 0, 7201)], []);
    assert.equal(resolver.resolve('172.17.0.2', 45001, SERVER, 25, now + 100).processId,
      '1001');
  });

  test('a container started after the last scan is found by scanning new processes', () => {
    resolver.resolve(CLIENT, 50000, SERVER, 25, now);
    proc.addProcess({ pid: 1100, parentProcessId: 1, startTime: 9000, comm: 'msmtp',
      uids: [0, 0, 0, 0], namespace: 'net:[4026532600]', exe: '/usr/bin/msmtp',
      argv: ['msmtp', '-t'], sockets: [7300], tables: { addresses: ['172.18.0.3'], tcp6: [],
        tcp: [tcpLine(0, '030012AC:AFC8', V4_SERVER_25, '02', 0, 7300)] } });
    assert.equal(resolver.resolve('172.18.0.3', 45000, SERVER, 25, now + 100).processId,
      '1100');
    assert.equal(resolver.stats.full_scans, 1);
  });

  test('an address given to a namespace after it was read is seen after the refresh interval',
    () => {
      proc.addProcess({ pid: 1100, parentProcessId: 1, startTime: 9000, comm: 'pause',
        uids: [0, 0, 0, 0], namespace: 'net:[4026532600]', exe: '/pause', argv: ['/pause'],
        sockets: [7300], tables: { addresses: [], tcp6: [],
          tcp: [tcpLine(0, '030012AC:AFC8', V4_SERVER_25, '02', 0, 7300)] } });
      resolver.resolve(CLIENT, 50000, SERVER, 25, now); // finds the namespace
      resolver.resolve(CLIENT, 50002, SERVER, 25, now); // reads its addresses: none yet
      proc.setProcessAddresses(1100, ['172.18.0.3']);
      assert.equal(resolver.resolve('172.18.0.3', 45000, SERVER, 25, now + 100),
        UNKNOWN_PROCESS);
      assert.equal(resolver.resolve('172.18.0.3', 45000, SERVER, 25, now + 10_000).processId,
        '1100');
    });
});
