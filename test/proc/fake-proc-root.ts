import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';

/** The namespace the fake sensor (pid 50, `self`) and most processes are in. */
export const HOST_NAMESPACE = 'net:[4026531840]';
export const SENSOR_PID = 50;

export interface FakeProcess {
  pid: number;
  parentProcessId: number;
  startTime: number;
  comm: string;
  /** Real, effective, saved, filesystem: as the Uid line of /proc/PID/status. */
  uids: [number, number, number, number];
  /** Target of the exe link; none for a kernel thread. */
  exe?: string;
  /** argv, written NUL-terminated; raw bytes to test odd cmdline files. */
  argv: string[] | Buffer;
  /** Socket inodes held, as fds 3, 4, ...; fds 0-2 point at /dev/null. */
  sockets?: number[];
  namespace?: string;
  /** stat field 38; -1 makes it a thread other than its group's leader. Default 17, SIGCHLD. */
  exitSignal?: number;
  /**
   * This process's own /proc/PID/net (members of other namespaces only): socket table lines, and
   * the namespace's addresses (IPv4 and IPv6 text) for fib_trie and if_inet6.
   */
  tables?: { tcp: string[]; tcp6: string[]; addresses: string[] };
}

const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt'
  + '   uid  timeout inode';
const TCP6_HEADER = '  sl  local_address                         remote_address'
  + '                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';

/**
 * A line of /proc/net/tcp{,6} in the kernel's layout (get_tcp4_sock, get_tcp6_sock); endpoints
 * are given in the kernel's hex form, written out by hand in the tests.
 */
export function tcpLine(
  slot: number, local: string, remote: string, state: string, uid: number, inode: number,
): string {
  return `${String(slot).padStart(4)}: ${local} ${remote} ${state} 00000000:00000000 `
    + `00:00000000 00000000 ${String(uid).padStart(5)}        0 ${inode} 1 `
    + '0000000000000000 20 4 30 10 -1';
}

/** A TIME_WAIT line as get_timewait4_sock writes it: uid, timeout and inode all 0. */
export function timeWaitLine(slot: number, local: string, remote: string): string {
  return `${String(slot).padStart(4)}: ${local} ${remote} 06 00000000:00000000 03:000016F2 `
    + '00000000     0        0 0 3 0000000000000000';
}

/** A proc root and an etc/passwd beside it, in a temporary folder. */
export class FakeProcRoot {
  readonly base = mkdtempSync(join(tmpdir(), 'fake-proc-'));
  readonly root = join(this.base, 'proc');
  readonly passwdPath = join(this.base, 'etc', 'passwd');

  constructor() {
    mkdirSync(this.root);
    mkdirSync(join(this.base, 'etc'));
    mkdirSync(join(this.root, 'net'));
    symlinkSync(String(SENSOR_PID), join(this.root, 'self'));
    this.setTables([], []);
  }

  /** The sensor's own namespace tables (/proc/net/tcp, tcp6). */
  setTables(tcp: string[], tcp6: string[]): void {
    writeTables(join(this.root, 'net'), tcp, tcp6);
  }

  /** /proc/loadavg, whose last field is the pid the kernel allocated last. */
  setLastPid(pid: number): void {
    writeFileSync(join(this.root, 'loadavg'), `0.08 0.03 0.01 1/120 ${pid}\n`);
  }

  writePasswd(lines: string[]): void {
    writeFileSync(this.passwdPath, lines.map((line) => `${line}\n`).join(''));
  }

  addProcess(process: FakeProcess): void {
    const folder = join(this.root, String(process.pid));
    mkdirSync(join(folder, 'fd'), { recursive: true });
    mkdirSync(join(folder, 'ns'));
    writeFileSync(join(folder, 'stat'), statText(process));
    writeFileSync(join(folder, 'status'), statusText(process));
    writeFileSync(join(folder, 'cmdline'), Buffer.isBuffer(process.argv) ? process.argv
      : process.argv.map((arg) => `${arg}\0`).join(''));
    if (process.exe !== undefined) symlinkSync(process.exe, join(folder, 'exe'));
    symlinkSync(process.namespace ?? HOST_NAMESPACE, join(folder, 'ns', 'net'));
    for (let fd = 0; fd < 3; fd++) symlinkSync('/dev/null', join(folder, 'fd', String(fd)));
    (process.sockets ?? []).forEach((inode, index) => {
      symlinkSync(`socket:[${inode}]`, join(folder, 'fd', String(index + 3)));
    });
    if (process.tables !== undefined) {
      mkdirSync(join(folder, 'net'));
      writeTables(join(folder, 'net'), process.tables.tcp, process.tables.tcp6);
      this.setProcessAddresses(process.pid, process.tables.addresses);
    }
  }

  /** One more socket fd for a process already added. */
  addSocket(pid: number, inode: number, fd: number): void {
    symlinkSync(`socket:[${inode}]`, join(this.root, String(pid), 'fd', String(fd)));
  }

  setProcessTables(pid: number, tcp: string[], tcp6: string[]): void {
    writeTables(join(this.root, String(pid), 'net'), tcp, tcp6);
  }

  setProcessAddresses(pid: number, addresses: string[]): void {
    const folder = join(this.root, String(pid), 'net');
    writeFileSync(join(folder, 'fib_trie'), fibTrieText(addresses.filter(isIPv4)));
    writeFileSync(join(folder, 'if_inet6'), ifInet6Text(addresses.filter(isIPv6)));
  }

  removeProcess(pid: number): void {
    rmSync(join(this.root, String(pid)), { recursive: true });
  }

  dispose(): void {
    rmSync(this.base, { recursive: true, force: true });
  }
}

function writeTables(folder: string, tcp: string[], tcp6: string[]): void {
  writeFileSync(join(folder, 'tcp'), [TCP_HEADER, ...tcp].map((line) => `${line}\n`).join(''));
  writeFileSync(join(folder, 'tcp6'),
    [TCP6_HEADER, ...tcp6].map((line) => `${line}\n`).join(''));
}

/** Fields 1 to 24 of proc_pid_stat(5), zeros to 52 but exit_signal (38); starttime is 22. */
function statText(process: FakeProcess): string {
  const { pid } = process;
  const fields = [pid, `(${process.comm})`, 'S', process.parentProcessId, pid, pid, 0, -1,
    4194560, 120, 0, 0, 0, 3, 1, 0, 0, 20, 0, 1, 0, process.startTime, 12_582_912, 1024];
  return `${fields.join(' ')}${' 0'.repeat(13)} ${process.exitSignal ?? 17}${' 0'.repeat(14)}\n`;
}

function statusText(process: FakeProcess): string {
  return [`Name:\t${process.comm.slice(0, 15)}`, 'Umask:\t0022', 'State:\tS (sleeping)',
    `Tgid:\t${process.pid}`, 'Ngid:\t0', `Pid:\t${process.pid}`,
    `PPid:\t${process.parentProcessId}`, 'TracerPid:\t0', `Uid:\t${process.uids.join('\t')}`,
    'Gid:\t0\t0\t0\t0', 'FDSize:\t64', 'Groups:\t', 'Threads:\t1', ''].join('\n');
}

/** fib_trie as the kernel prints it (main, then local table), one /24 per address. */
function fibTrieText(addresses: string[]): string {
  const leaves = addresses.map((address) => {
    const network = address.replace(/\.\d+$/, '');
    return [`     +-- ${network}.0/24 2 0 2`, `        |-- ${network}.0`,
      '           /24 link UNICAST', `        |-- ${address}`, '           /32 host LOCAL',
      `        |-- ${network}.255`, '           /32 link BROADCAST'].join('\n');
  });
  const table = ['  +-- 0.0.0.0/0 3 0 5', '     +-- 127.0.0.0/8 2 0 2',
    '        +-- 127.0.0.0/31 1 0 0', '           |-- 127.0.0.0', '              /8 host LOCAL',
    '           |-- 127.0.0.1', '              /32 host LOCAL', '        |-- 127.255.255.255',
    '           /32 link BROADCAST', ...leaves].join('\n');
  return `Main:\n${table}\nLocal:\n${table}\n`;
}

/** if_inet6: address in network-order hex, ifindex, prefix length, scope, flags, name. */
function ifInet6Text(addresses: string[]): string {
  const lines = ['00000000000000000000000000000001 01 80 10 80       lo'];
  for (const address of addresses) {
    const hex = ipaddr.IPv6.parse(address).toByteArray()
      .map((byte) => byte.toString(16).padStart(2, '0')).join('');
    lines.push(`${hex} 02 40 00 80     eth0`);
  }
  return `${lines.join('\n')}\n`;
}
