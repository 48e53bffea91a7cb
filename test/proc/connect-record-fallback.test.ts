import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { ConnectRecord, ConnectRecordSource } from '../../src/proc/connect-records.js';
import { UNKNOWN_PROCESS } from '../../src/proc/process-info.js';
import { SocketOwnerResolver } from '../../src/proc/socket-owner-resolver.js';
import type { TcpTuple } from '../../src/proc/tcp-tuple.js';
import { FakeProcRoot, SENSOR_PID, tcpLine } from './fake-proc-root.js';

/*
 * The host 10.0.0.5 sends to 198.51.100.25:25. In the kernel's little-endian hex (worked out by
 * hand): 10.0.0.5 = 0500000A, 198.51.100.25 = 196433C6, port 25 = 0019, 50000 = C350.
 */
const CLIENT = '10.0.0.5';
const SERVER = '198.51.100.25';
const NOW = 1_700_000_000_000;
/** The sequence number of each client's SYN here; a record is found by it and the tuple. */
const SYN_SEQUENCE = 3_000_000_007;

/** What the kernel would have recorded of a python3 run by alice (uid 1000). */
const PYTHON_RECORD: ConnectRecord = {
  processId: 4242, parentProcessId: 4200, userId: 1000, startTimeNs: 123_000_000_000n,
  imageFileName: '/usr/bin/python3.11', commandLine: '/usr/bin/python3 send.py',
  pathTruncated: false, commandLineTruncated: false, commandLineUnreadable: false,
};

/** Records by "client port": the four-tuples of these tests differ only there. */
class RecordTable implements ConnectRecordSource {
  readonly asked: string[] = [];
  constructor(private readonly records: Map<number, ConnectRecord | 'failed'>) {}

  find(tuple: TcpTuple, initialSequence: number): ConnectRecord | undefined | 'failed' {
    this.asked.push(tuple.key);
    return initialSequence === SYN_SEQUENCE ? this.records.get(tuple.localPort) : undefined;
  }
}

function buildHost(): FakeProcRoot {
  const proc = new FakeProcRoot();
  proc.writePasswd(['root:x:0:0:root:/root:/bin/bash',
    'alice:x:1000:1000:Alice:/home/alice:/bin/bash']);
  // 50000: held by swaks (pid 601). 50001 is in no table: closed before the lookup.
  proc.setTables([tcpLine(0, '0500000A:C350', '196433C6:0019', '01', 0, 7004)], []);
  const root = [0, 0, 0, 0] as [number, number, number, number];
  proc.addProcess({ pid: 1, parentProcessId: 0, startTime: 1, comm: 'systemd', uids: root,
    exe: '/usr/lib/systemd/systemd', argv: ['/sbin/init'] });
  proc.addProcess({ pid: SENSOR_PID, parentProcessId: 1, startTime: 400, comm: 'node',
    uids: root, exe: '/usr/bin/node', argv: ['node', 'agent/smtp-sensor', 'run'] });
  proc.addProcess({ pid: 601, parentProcessId: 1, startTime: 8000, comm: 'swaks', uids: root,
    exe: '/usr/bin/perl', argv: ['/usr/bin/perl', '/usr/bin/swaks'], sockets: [7004] });
  return proc;
}

describe('SocketOwnerResolver with kernel connect records', () => {
  let proc: FakeProcRoot;

  beforeEach(() => {
    proc = buildHost();
  });
  afterEach(() => proc.dispose());

  test('a client whose socket is gone is named by its record, user name from passwd', () => {
    const records = new RecordTable(new Map([[50001, PYTHON_RECORD]]));
    const resolver = new SocketOwnerResolver({ procRoot: proc.root, connectRecords: records });
    assert.deepEqual(resolver.resolve(CLIENT, 50001, SERVER, 25, NOW, SYN_SEQUENCE), {
      processId: '4242', parentProcessId: '4200', userId: '1000', userName: 'alice',
      imageFileName: '/usr/bin/python3.11', commandLine: '/usr/bin/python3 send.py' });
    const { hits, misses, connect_record_hits, connect_record_misses } = resolver.stats;
    assert.deepEqual({ hits, misses, connect_record_hits, connect_record_misses },
      { hits: 1, misses: 0, connect_record_hits: 1, connect_record_misses: 0 });
  });

  test('a record comes first, and /proc is not read: it names who connected, at connect()',
    () => {
      const records = new RecordTable(new Map([[50000, PYTHON_RECORD]]));
      const resolver = new SocketOwnerResolver({ procRoot: proc.root, connectRecords: records });
      assert.equal(resolver.resolve(CLIENT, 50000, SERVER, 25, NOW, SYN_SEQUENCE).processId,
        '4242',
        'the record, though /proc shows swaks holding the socket now');
      assert.equal(resolver.stats.full_scans + resolver.stats.socket_table_reads
        + resolver.stats.processes_scanned, 0);
    });

  test('seen from its SYN but without a record: no process, and /proc is not asked', () => {
    // Its record was pushed out, say: /proc would name whoever holds the four-tuple now.
    const records = new RecordTable(new Map());
    const resolver = new SocketOwnerResolver({ procRoot: proc.root, connectRecords: records });
    assert.equal(resolver.resolve(CLIENT, 50000, SERVER, 25, NOW, SYN_SEQUENCE),
      UNKNOWN_PROCESS, 'though /proc shows swaks holding the four-tuple');
    assert.equal(records.asked.length, 1);
    assert.equal(resolver.stats.connect_record_misses, 1);
    assert.equal(resolver.stats.processes_scanned + resolver.stats.sock_diag_lookups
      + resolver.stats.socket_table_reads, 0);
  });

  test('no record, or a failed lookup: unknown, and counted', () => {
    const records = new RecordTable(new Map([[50002, 'failed']]));
    const resolver = new SocketOwnerResolver({ procRoot: proc.root, connectRecords: records });
    assert.equal(resolver.resolve(CLIENT, 50001, SERVER, 25, NOW, SYN_SEQUENCE), UNKNOWN_PROCESS);
    assert.equal(resolver.resolve(CLIENT, 50002, SERVER, 25, NOW, SYN_SEQUENCE), UNKNOWN_PROCESS);
    const { misses, connect_record_misses, connect_record_errors } = resolver.stats;
    assert.deepEqual({ misses, connect_record_misses, connect_record_errors },
      { misses: 2, connect_record_misses: 2, connect_record_errors: 1 });
  });

  test('another SYN on the same four-tuple is another connection: its record is not taken',
    () => {
      const records = new RecordTable(new Map([[50000, PYTHON_RECORD]]));
      const resolver = new SocketOwnerResolver({ procRoot: proc.root, connectRecords: records });
      assert.equal(resolver.resolve(CLIENT, 50000, SERVER, 25, NOW, SYN_SEQUENCE + 1),
        UNKNOWN_PROCESS, 'not the record, nor /proc\'s owner of the four-tuple now');
      assert.equal(resolver.stats.connect_record_misses, 1);
    });

  test('a connection captured after its SYN: /proc only, no record asked', () => {
    const records = new RecordTable(new Map([[50000, PYTHON_RECORD]]));
    const resolver = new SocketOwnerResolver({ procRoot: proc.root, connectRecords: records });
    assert.equal(resolver.resolve(CLIENT, 50000, SERVER, 25, NOW).processId, '601');
    assert.deepEqual(records.asked, []);
  });

  test('a cut record is completed from /proc while its process runs, not after', () => {
    const fullCommandLine = ['/usr/bin/python3', 'send.py', 'x'.repeat(5000)];
    // Started at tick 12,300: the record's 123 s after boot, in USER_HZ (100) ticks.
    proc.addProcess({ pid: 4242, parentProcessId: 4200, startTime: 12_300, comm: 'python3',
      uids: [1000, 1000, 1000, 1000], exe: '/usr/bin/python3.11', argv: fullCommandLine });
    const cut = { ...PYTHON_RECORD, commandLine: fullCommandLine.join(' ').slice(0, 4096),
      commandLineTruncated: true };
    const reused = { ...cut, startTimeNs: 99_000_000_000n };
    const execedSince = { ...cut, imageFileName: '/usr/bin/perl' };
    const resolver = new SocketOwnerResolver({ procRoot: proc.root,
      connectRecords: new RecordTable(new Map([[50001, cut], [50002, reused],
        [50003, execedSince]])) });
    const completed = resolver.resolve(CLIENT, 50001, SERVER, 25, NOW, SYN_SEQUENCE);
    assert.equal(completed.commandLine, fullCommandLine.join(' '));
    const stillCut = resolver.resolve(CLIENT, 50002, SERVER, 25, NOW, SYN_SEQUENCE);
    assert.equal(stillCut.commandLine.length, 4096, 'pid 4242 is another process by now');
    const notMixed = resolver.resolve(CLIENT, 50003, SERVER, 25, NOW, SYN_SEQUENCE);
    assert.deepEqual([notMixed.imageFileName, notMixed.commandLine.length],
      ['/usr/bin/perl', 4096], 'another program runs in pid 4242 now: not mixed in');
    const { connect_records_completed, command_lines_truncated } = resolver.stats;
    assert.deepEqual({ connect_records_completed, command_lines_truncated },
      { connect_records_completed: 1, command_lines_truncated: 2 });
  });

  test('a path longer than PATH_MAX: its end, marked as a part, and counted', () => {
    const tail = `/${'d'.repeat(200)}/python`;
    const resolver = new SocketOwnerResolver({ procRoot: proc.root,
      connectRecords: new RecordTable(new Map([[50001,
        { ...PYTHON_RECORD, imageFileName: tail, pathTruncated: true }]])) });
    assert.equal(resolver.resolve(CLIENT, 50001, SERVER, 25, NOW, SYN_SEQUENCE).imageFileName,
      `...${tail}`);
    assert.equal(resolver.stats.image_file_names_truncated, 1);
  });
});
