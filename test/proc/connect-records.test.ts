import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, unlinkSync }
  from 'node:fs';
import { createServer, type Server } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { commandLineText } from '../../src/proc/command-line-text.js';
import { type ConnectRecord, ConnectRecords } from '../../src/proc/connect-records.js';
import { TcpTuple } from '../../src/proc/tcp-tuple.js';
import { SynWatcher } from '../helpers/syn-watcher.js';

const PYTHON = '/usr/bin/python3';
/** USER_HZ: /proc/PID/stat counts times in these ticks (getconf CLK_TCK). */
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout);
/**
 * Waits for a line on stdin, connects to argv[1] port argv[2] (an IPv6 socket when the address
 * has a colon), prints its local port, then waits for stdin to close before exiting: the test
 * reads its /proc entries while it lives, and may end it before or after closing the socket.
 */
const CLIENT_SCRIPT = 'import socket,sys; sys.stdin.readline(); '
  + 'f=socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET; s=socket.socket(f); '
  + 's.connect((sys.argv[1], int(sys.argv[2]))); print(s.getsockname()[1], flush=True); '
  + 'sys.stdin.read(); s.close()';

/**
 * CLIENT_SCRIPT's client, its socket bound first to port argv[1] with SO_REUSEADDR, so that
 * two connections can have one four-tuple; the arguments after the port are CLIENT_SCRIPT's.
 */
const BOUND_CLIENT = 'import socket,sys; port=int(sys.argv.pop(1)); real=socket.socket\n'
  + 'def bound(*a, **k):\n s=real(*a, **k); s.setsockopt(socket.SOL_SOCKET, '
  + 'socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", port)); return s\n'
  + 'socket.socket=bound; sys.argv.pop(1); exec(sys.argv.pop(1))';

/** A local port no socket uses now, as the kernel picks one. */
async function freeLocalPort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const refusal = process.getuid?.() === 0 ? false : 'loading a BPF program needs root';

interface Client {
  child: ChildProcess;
  localPort: number;
}

/** What /proc says of a live process, as the records should say it. */
function procView(pid: number) {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const cmdline = readFileSync(`/proc/${pid}/cmdline`);
  return {
    processId: pid,
    parentProcessId: Number(/\nPPid:\s*(\d+)/.exec(status)![1]),
    userId: Number(/\nUid:\s*(\d+)/.exec(status)![1]),
    imageFileName: readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, ''),
    commandLine: commandLineText(cmdline, cmdline.length),
    startTicks: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]),
  };
}

function recordView(record: ConnectRecord) {
  const { processId, parentProcessId, userId, imageFileName, commandLine } = record;
  const startTicks = Number(record.startTimeNs / BigInt(1e9 / TICKS_PER_SECOND));
  return { processId, parentProcessId, userId, imageFileName, commandLine, startTicks };
}

describe('ConnectRecords: the kernel records who connected, on this machine\'s kernel',
  { skip: refusal, timeout: 60_000 }, () => {
    const children: ChildProcess[] = [];
    const servers: Server[] = [];
    const scratch = mkdtempSync(join(tmpdir(), 'connect-records-'));
    let records: ConnectRecords;
    const syns = new Map<number, SynWatcher>();
    let smtpPort: number;
    let otherPort: number;

    const listen = async (host: string, port = 0): Promise<number> => {
      // Closes its side when the client does, so that a four-tuple can be used again.
      const server = createServer((socket) => socket.on('error', () => {}).resume());
      servers.push(server);
      server.listen(port, host);
      await once(server, 'listening');
      return (server.address() as { port: number }).port;
    };

    /** Starts a client (argv before the script's), lets it connect, resolves with its port. */
    const connectClient = async (host: string, port: number, command = [PYTHON],
      extraArguments: string[] = []): Promise<Client> => {
      const child = spawn(command[0], [...command.slice(1), '-c', CLIENT_SCRIPT, host,
        String(port), ...extraArguments], { stdio: ['pipe', 'pipe', 'inherit'] });
      children.push(child);
      child.stdin!.write('go\n');
      const printed = once(child.stdout!, 'data') as Promise<[Buffer]>;
      const exited = once(child, 'exit').then(([code]) => {
        throw new Error(`the client exited (${String(code)}) before it connected`);
      });
      const [line] = await Promise.race([printed, exited]);
      return { child, localPort: Number(line.toString().trim()) };
    };

    const finish = async (client: Client) => {
      client.child.stdin!.end();
      if (client.child.exitCode === null) await once(client.child, 'exit');
    };

    /** The record of the connection whose SYN tcpdump saw from local:localPort. */
    const find = async (local: string, localPort: number, remote: string, remotePort: number) =>
      records.find(TcpTuple.parse(local, localPort, remote, remotePort)!,
        await syns.get(remotePort)!.sequenceOf(local, localPort));

    before(async () => {
      smtpPort = await listen('127.0.0.1');
      await listen('::1', smtpPort);
      otherPort = await listen('127.0.0.1');
      for (const port of [smtpPort, otherPort]) syns.set(port, await SynWatcher.start(port));
      records = ConnectRecords.open([smtpPort, 2525]);
    });

    after(async () => {
      records?.close();
      for (const watcher of syns.values()) await watcher.stop();
      for (const child of children) child.kill('SIGKILL');
      for (const server of servers) server.close();
      rmSync(scratch, { recursive: true, force: true });
    });

    test('IPv4: pid, parent, uid, executable, command line and start time as /proc has them',
      async () => {
        const client = await connectClient('127.0.0.1', smtpPort, [PYTHON],
          ['an argument', '', 'last']);
        const record = await find('127.0.0.1', client.localPort, '127.0.0.1', smtpPort);
        assert.ok(record !== undefined && record !== 'failed', 'recorded');
        assert.deepEqual(recordView(record), procView(client.child.pid!));
        assert.equal(record.imageFileName, '/usr/bin/python3.11', 'the link resolved, as exe');
        assert.match(record.commandLine, / an argument {2}last$/, 'an empty argument kept');
        assert.deepEqual([record.pathTruncated, record.commandLineTruncated,
          record.commandLineUnreadable], [false, false, false]);
        await finish(client);
      });

    test('the record outlives the socket and the process', async () => {
      const client = await connectClient('127.0.0.1', smtpPort);
      const expected = procView(client.child.pid!);
      await finish(client);
      assert.throws(() => readlinkSync(`/proc/${client.child.pid}/exe`), 'the process is gone');
      const record = await find('127.0.0.1', client.localPort, '127.0.0.1', smtpPort);
      assert.ok(record !== undefined && record !== 'failed');
      assert.deepEqual(recordView(record), expected);
    });

    test('IPv6, and IPv4 through an IPv6 socket (IPv4-mapped), which sends IPv4 packets',
      async () => {
        const v6 = await connectClient('::1', smtpPort);
        const v6Record = await find('::1', v6.localPort, '::1', smtpPort);
        assert.ok(v6Record !== undefined && v6Record !== 'failed');
        assert.equal(v6Record.processId, v6.child.pid);
        const mapped = await connectClient('::ffff:127.0.0.1', smtpPort);
        const mappedRecord = await find('127.0.0.1', mapped.localPort, '127.0.0.1', smtpPort);
        assert.ok(mappedRecord !== undefined && mappedRecord !== 'failed');
        assert.equal(mappedRecord.processId, mapped.child.pid);
        await Promise.all([finish(v6), finish(mapped)]);
      });

    test('a connection still connecting is found once its SYN is sent, before any answer',
      async () => {
        // 198.18.0.0/15 (RFC 2544, benchmarking) out of a veth whose peer has no address,
        // to a made-up neighbour: the SYN is sent and dropped, the socket stays in SYN_SENT.
        const device = 'crtest0';
        spawnSync('ip', ['link', 'del', device]);
        for (const args of [['link', 'add', device, 'type', 'veth', 'peer', 'name', 'crtest1'],
          ['addr', 'add', '198.18.0.1/24', 'dev', device], ['link', 'set', device, 'up'],
          ['link', 'set', 'crtest1', 'up'], ['neigh', 'add', '198.18.0.2', 'lladdr',
            '02:00:00:00:00:02', 'dev', device, 'nud', 'permanent']]) {
          assert.equal(spawnSync('ip', args).status, 0, `ip ${args.join(' ')}`);
        }
        try {
          const script = 'import socket,sys; s=socket.socket(); s.setblocking(False); '
            + 's.connect_ex(("198.18.0.2", int(sys.argv[1]))); '
            + 'print(s.getsockname()[1], flush=True); sys.stdin.read()';
          const child = spawn(PYTHON, ['-c', script, String(smtpPort)],
            { stdio: ['pipe', 'pipe', 'inherit'] });
          children.push(child);
          const [line] = await once(child.stdout!, 'data') as [Buffer];
          const localPort = Number(line.toString());
          const state = spawnSync('ss', ['-Htn', 'state', 'syn-sent', 'sport', `= ${localPort}`],
            { encoding: 'utf8' }).stdout;
          assert.match(state, /198\.18\.0\.2/, 'still in SYN_SENT');
          const record = await find('198.18.0.1', localPort, '198.18.0.2', smtpPort);
          assert.ok(record !== undefined && record !== 'failed', 'recorded by four-tuple');
          assert.equal(record.processId, child.pid);
          await finish({ child, localPort });
        } finally {
          spawnSync('ip', ['link', 'del', device]);
        }
      });

    test('a process in a PID namespace below the sensor\'s: its pids as this /proc has them',
      async () => {
        const client = await connectClient('127.0.0.1', smtpPort,
          ['unshare', '--pid', '--fork', '--kill-child', PYTHON]);
        // unshare forks python, pid 1 of the new namespace and unshare's only child.
        const unshare = client.child.pid!;
        const forked = readFileSync(`/proc/${unshare}/task/${unshare}/children`, 'utf8')
          .trim().split(' ').map(Number);
        assert.equal(forked.length, 1);
        const record = await find('127.0.0.1', client.localPort, '127.0.0.1', smtpPort);
        assert.ok(record !== undefined && record !== 'failed');
        assert.deepEqual(recordView(record), procView(forked[0]));
        assert.equal(record.parentProcessId, unshare);
        await finish(client);
      });

    test('a client started from a thread of its parent: the parent is its process, not the '
      + 'thread', async () => {
        // The parent runs the client from a second thread; the client inherits its stdio.
        const parentScript = 'import subprocess,sys,threading; t=threading.Thread('
          + 'target=lambda: subprocess.run(sys.argv[1:])); t.start(); t.join()';
        const parent = await connectClient('127.0.0.1', smtpPort, [PYTHON, '-c', parentScript,
          PYTHON]);
        const record = await find('127.0.0.1', parent.localPort, '127.0.0.1', smtpPort);
        assert.ok(record !== undefined && record !== 'failed');
        assert.equal(record.parentProcessId, parent.child.pid, 'the thread group, as PPid');
        assert.deepEqual(recordView(record), procView(record.processId));
        await finish(parent);
      });

    test('a connection to a port not asked for is not recorded', async () => {
      const client = await connectClient('127.0.0.1', otherPort);
      assert.equal(await find('127.0.0.1', client.localPort, '127.0.0.1', otherPort), undefined);
      await finish(client);
    });

    test('an executable on another mount, in a private mount namespace, and one deleted',
      async () => {
        const mountPoint = join(scratch, 'tmpfs');
        mkdirSync(mountPoint);
        assert.equal(spawnSync('mount', ['-t', 'tmpfs', 'none', mountPoint]).status, 0);
        try {
          const copy = join(mountPoint, 'bin', 'python-copy');
          mkdirSync(join(mountPoint, 'bin'));
          copyFileSync('/usr/bin/python3.11', copy);
          const onMount = await connectClient('127.0.0.1', smtpPort, [copy]);
          const namespaced = await connectClient('127.0.0.1', smtpPort,
            ['unshare', '--mount', '--propagation', 'private', copy]);
          for (const client of [onMount, namespaced]) {
            const record = await find('127.0.0.1', client.localPort, '127.0.0.1', smtpPort);
            assert.ok(record !== undefined && record !== 'failed');
            assert.equal(record.imageFileName, copy);
            assert.equal(record.imageFileName, procView(client.child.pid!).imageFileName);
          }
          const deleted = join(scratch, 'python-deleted');
          copyFileSync('/usr/bin/python3.11', deleted);
          const child = spawn(deleted, ['-c', CLIENT_SCRIPT, '127.0.0.1', String(smtpPort)],
            { stdio: ['pipe', 'pipe', 'inherit'] });
          children.push(child);
          await new Promise((resolve) => setTimeout(resolve, 200));
          unlinkSync(deleted);
          child.stdin!.write('go\n');
          const [line] = await once(child.stdout!, 'data') as [Buffer];
          const record = await find('127.0.0.1', Number(line.toString()), '127.0.0.1', smtpPort);
          assert.ok(record !== undefined && record !== 'failed');
          assert.equal(record.imageFileName, deleted, 'the path it ran from');
          await Promise.all([finish(onMount), finish(namespaced),
            finish({ child, localPort: 0 })]);
        } finally {
          spawnSync('umount', ['-l', mountPoint]);
        }
      });

    test('a path of 1,200 bytes is whole, a command line over 4,096 bytes cut and flagged',
      async () => {
        let folder = scratch;
        for (let depth = 0; depth < 6; depth++) folder = join(folder, 'd'.repeat(200));
        mkdirSync(folder, { recursive: true });
        const deep = join(folder, 'python');
        copyFileSync('/usr/bin/python3.11', deep);
        const client = await connectClient('127.0.0.1', smtpPort, [deep], ['x'.repeat(5000)]);
        const record = await find('127.0.0.1', client.localPort, '127.0.0.1', smtpPort);
        assert.ok(record !== undefined && record !== 'failed');
        assert.ok(deep.length > 1200);
        assert.equal(record.imageFileName, deep);
        assert.equal(record.pathTruncated, false);
        const full = procView(client.child.pid!).commandLine;
        assert.equal(record.commandLine, full.slice(0, 4096));
        assert.equal(record.commandLineTruncated, true);
        await finish(client);
      });

    test('a program run from a memfd (fileless): named as /proc names it, /memfd:NAME',
      async () => {
        const script = 'import os,sys; fd=os.memfd_create("mailer"); '
          + 'os.write(fd, open("/usr/bin/python3.11","rb").read()); '
          + 'os.execv(f"/proc/self/fd/{fd}", ["mailer"] + sys.argv[1:])';
        const client = await connectClient('127.0.0.1', smtpPort, [PYTHON, '-c', script]);
        const record = await find('127.0.0.1', client.localPort, '127.0.0.1', smtpPort);
        assert.ok(record !== undefined && record !== 'failed');
        assert.equal(record.imageFileName, '/memfd:mailer');
        assert.deepEqual(recordView(record), procView(client.child.pid!));
        await finish(client);
      });

    test('a title written over argv ($0 in perl): the command line is the title, as in /proc',
      async () => {
        const script = '$0 = "amavisd (ch5-avail)"; use IO::Socket::INET; $| = 1; <STDIN>; '
          + 'my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0]) '
          + 'or die; print $s->sockport, "\\n"; local $/; <STDIN>;';
        const child = spawn('perl', ['-e', script, String(smtpPort), 'padding'.repeat(30)],
          { stdio: ['pipe', 'pipe', 'inherit'] });
        children.push(child);
        child.stdin!.write('go\n');
        const [line] = await once(child.stdout!, 'data') as [Buffer];
        const record = await find('127.0.0.1', Number(line.toString()), '127.0.0.1', smtpPort);
        assert.ok(record !== undefined && record !== 'failed');
        assert.equal(procView(child.pid!).commandLine, 'amavisd (ch5-avail)');
        assert.equal(record.commandLine, 'amavisd (ch5-avail)');
        await finish({ child, localPort: 0 });
      });

    test('one four-tuple, two connections: each record names its own process, by its SYN',
      async () => {
        const localPort = await freeLocalPort();
        const first = await connectClient('127.0.0.1', smtpPort, [PYTHON, '-c', BOUND_CLIENT,
          String(localPort)]);
        await finish(first);
        const second = await connectClient('127.0.0.1', smtpPort, [PYTHON, '-c', BOUND_CLIENT,
          String(localPort)]);
        const [firstSyn, secondSyn] = await syns.get(smtpPort)!.sequencesOf('127.0.0.1',
          localPort, 2);
        const tuple = TcpTuple.parse('127.0.0.1', localPort, '127.0.0.1', smtpPort)!;
        const firstRecord = records.find(tuple, firstSyn);
        const secondRecord = records.find(tuple, secondSyn);
        assert.ok(firstRecord !== undefined && firstRecord !== 'failed');
        assert.ok(secondRecord !== undefined && secondRecord !== 'failed');
        assert.equal(firstRecord.processId, first.child.pid);
        assert.equal(secondRecord.processId, second.child.pid);
        await finish(second);
      });

    test('a forged SYN (TCP_REPAIR) with the same four-tuple and sequence number, from '
      + 'another network namespace, leaves the record alone and is counted', async () => {
        const localPort = await freeLocalPort();
        const client = await connectClient('127.0.0.1', smtpPort, [PYTHON, '-c', BOUND_CLIENT,
          String(localPort)]);
        const syn = await syns.get(smtpPort)!.sequenceOf('127.0.0.1', localPort);
        const duplicatesBefore = records.counters().duplicate_connections;
        // TCP_REPAIR (19), TCP_REPAIR_QUEUE (20) = TCP_SEND_QUEUE (2), TCP_QUEUE_SEQ (21), an
        // unsigned 32-bit number (packed: Python's int form is signed): connect() then sends
        // its SYN with that sequence number (tcp_v4_connect()).
        const forger = 'import socket,struct,sys; s=socket.socket(); '
          + 's.bind(("127.0.0.1", int(sys.argv[1]))); s.setsockopt(6, 19, 1); '
          + 's.setsockopt(6, 20, 2); s.setsockopt(6, 21, struct.pack("I", int(sys.argv[3]))); '
          + 's.setsockopt(6, 19, 0); print(s.connect_ex(("127.0.0.1", int(sys.argv[2]))))';
        const forged = spawnSync('unshare', ['--net', 'sh', '-c', 'ip link set lo up && exec '
          + `${PYTHON} -c '${forger}' ${localPort} ${smtpPort} ${syn}`], { encoding: 'utf8' });
        assert.equal(forged.status, 0, forged.stderr);
        assert.equal(forged.stdout.trim(), String(constants.errno.ECONNREFUSED),
          'its SYN was sent, and refused in its namespace');
        const record = await find('127.0.0.1', client.localPort, '127.0.0.1', smtpPort);
        assert.ok(record !== undefined && record !== 'failed');
        assert.equal(record.processId, client.child.pid, 'the real client, not the forger');
        assert.equal(records.counters().duplicate_connections, duplicatesBefore + 1);
        await finish(client);
      });

    test('a connect() that fails on a four-tuple in use leaves its record alone', async () => {
      const localPort = await freeLocalPort();
      const client = await connectClient('127.0.0.1', smtpPort, [PYTHON, '-c', BOUND_CLIENT,
        String(localPort)]);
      // Bound to the same port (SO_REUSEADDR), to the same server: EADDRNOTAVAIL, no SYN.
      const decoy = spawnSync(PYTHON, ['-c', 'import socket,sys; s=socket.socket(); '
        + 's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); '
        + 's.bind(("127.0.0.1", int(sys.argv[1]))); print(s.connect_ex(("127.0.0.1", '
        + 'int(sys.argv[2]))))', String(localPort), String(smtpPort)], { encoding: 'utf8' });
      assert.equal(decoy.stdout.trim(), String(constants.errno.EADDRNOTAVAIL));
      const record = await find('127.0.0.1', client.localPort, '127.0.0.1', smtpPort);
      assert.ok(record !== undefined && record !== 'failed');
      assert.equal(record.processId, client.child.pid);
      await finish(client);
    });

    test('the counters count what was recorded and cut', () => {
      const counters = records.counters();
      assert.equal(counters.recorded, 17, 'the connections above to the SMTP port');
      assert.equal(counters.updates_failed, 0);
      assert.equal(counters.paths_truncated, 0);
      assert.equal(counters.command_lines_unreadable, 0);
    });
  });

describe('ConnectRecords.open without CAP_BPF', { skip: refusal }, () => {
  test('refused with a ProcError connect_records_unavailable that says why', () => {
    const moduleUrl = new URL('../../src/proc/connect-records.js', import.meta.url).href;
    const script = `import(${JSON.stringify(moduleUrl)}).then(({ ConnectRecords }) => {
      try { ConnectRecords.open([25]); console.log('opened'); }
      catch (error) { console.log(error.name, error.code, error.message); } });`;
    // Root, but without the capabilities that loading a BPF program takes.
    const result = spawnSync('setpriv', ['--bounding-set=-bpf,-perfmon,-sys_admin',
      '--inh-caps=-bpf,-perfmon,-sys_admin', process.execPath, '-e', script],
    { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, new RegExp('^ProcError connect_records_unavailable kernel '
      + 'connect records are unavailable: load BPF program \\(it takes CAP_BPF and '
      + 'CAP_PERFMON\\): Operation not permitted'));
  });
});
