import { readdirSync, readlinkSync } from 'node:fs';
import type { NetworkNamespaces } from './network-namespaces.js';
import { ProcFileReader } from './proc-file-reader.js';
import { parseProcessStat, type ProcessStat } from './process-stat.js';
import type { SocketInodeIndex } from './socket-inode-index.js';
import type { SocketOwnerStats } from './socket-owner-stats.js';

/** /proc/PID/stat is under 400 bytes; comm is at most 15 of them. */
const MAX_STAT_BYTES = 1024;

const SOCKET_LINK_PREFIX = 'socket:[';
const DIGIT_ZERO = 0x30;
const DIGIT_NINE = 0x39;

/** A process as the last scan of it found it. */
interface ScannedProcess {
  readonly startTime: number;
  readonly namespace: string;
  /** The listing of the proc root that last showed the pid. */
  listing: number;
}

/**
 * Reads the fd folders of processes into the socket inode index, and the ns/net link of each
 * into the namespace list. Three scopes, cheapest first: one process (rescan), the processes
 * new since the last listing of the proc root (scanNew), every process (scanAll).
 *
 * A pid counts as new when the last listing did not show it. A pid that exits and is reused
 * between two listings looks like the process scanned before; the start time catches it when
 * the pid is about to be returned (statIfSame) or rescanned, and every full scan starts over.
 * Comparing every pid's start time at every listing would cost one read per process per
 * lookup, the cost the index exists to avoid.
 */
export class ProcessScanner {
  private readonly scanned = new Map<number, ScannedProcess>();
  private readonly statReader = new ProcFileReader(MAX_STAT_BYTES);
  private listing = 0;

  constructor(
    private readonly procRoot: string,
    private readonly index: SocketInodeIndex,
    private readonly namespaces: NetworkNamespaces,
    private readonly stats: SocketOwnerStats,
  ) {}

  /** Whether a listing of the proc root has been scanned yet. */
  get hasScanned(): boolean {
    return this.listing > 0;
  }

  /** Rebuilds the index and the namespace list from every process. */
  scanAll(): void {
    this.scanned.clear();
    this.index.clear();
    this.namespaces.clear();
    this.scanNew();
  }

  /** Scans the processes the last listing did not show; forgets those that are gone. */
  scanNew(): void {
    const listing = ++this.listing;
    for (const pid of this.listPids()) {
      const known = this.scanned.get(pid);
      if (known !== undefined) known.listing = listing;
      else this.scanListed(pid, listing);
    }
    for (const [pid, process] of this.scanned) {
      if (process.listing !== listing) this.forget(pid);
    }
  }

  /**
   * Reads the fd folder of `pid` again, as a new process if its start time changed. False when
   * no process has the pid any more.
   */
  rescan(pid: number): boolean {
    const stat = this.readStat(pid);
    if (stat === undefined) return false;
    const known = this.scanned.get(pid);
    if (known?.startTime === stat.startTime) {
      this.indexSockets(pid, stat.startTime);
      this.stats.processes_scanned++;
    } else {
      if (known !== undefined) this.forgetReused(pid);
      this.scan(pid, stat, this.listing);
    }
    return true;
  }

  /**
   * The stat of `pid` if it still has `startTime`, the process that was indexed; otherwise
   * undefined, and a pid reused by another process is forgotten so that the next scan of new
   * processes reads it.
   */
  statIfSame(pid: number, startTime: number): ProcessStat | undefined {
    const stat = this.readStat(pid);
    if (stat === undefined || stat.startTime === startTime) return stat;
    if (this.scanned.get(pid)?.startTime === startTime) this.forgetReused(pid);
    return undefined;
  }

  private scanListed(pid: number, listing: number): void {
    const stat = this.readStat(pid);
    if (stat !== undefined) this.scan(pid, stat, listing); // else it exited since the listing
  }

  private scan(pid: number, stat: ProcessStat, listing: number): void {
    const namespace = readLink(`${this.procRoot}/${pid}/ns/net`);
    this.scanned.set(pid, { startTime: stat.startTime, namespace, listing });
    if (namespace !== '') this.namespaces.add(namespace, pid);
    this.indexSockets(pid, stat.startTime);
    this.stats.processes_scanned++;
  }

  private forgetReused(pid: number): void {
    this.stats.reused_pids++;
    this.forget(pid);
  }

  private forget(pid: number): void {
    const known = this.scanned.get(pid);
    if (known === undefined) return;
    this.scanned.delete(pid);
    this.namespaces.remove(known.namespace, pid);
  }

  private readStat(pid: number): ProcessStat | undefined {
    const text = this.statReader.read(`${this.procRoot}/${pid}/stat`);
    return text === undefined ? undefined : parseProcessStat(text);
  }

  /** Only the thread group leaders are listed in the proc root, and threads share their fds. */
  private listPids(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.procRoot);
    } catch {
      return [];
    }
    const pids: number[] = [];
    for (const name of names) {
      const first = name.charCodeAt(0);
      if (first >= DIGIT_ZERO && first <= DIGIT_NINE) pids.push(Number(name));
    }
    return pids;
  }

  /** Each fd is a link; a socket's reads "socket:[INODE]" (proc(5), /proc/pid/fd). */
  private indexSockets(pid: number, startTime: number): void {
    const folder = `${this.procRoot}/${pid}/fd`;
    let descriptors: string[];
    try {
      descriptors = readdirSync(folder);
    } catch {
      return; // exited, or a kernel thread's folder we may not read
    }
    for (const descriptor of descriptors) {
      const target = readLink(`${folder}/${descriptor}`);
      if (!target.startsWith(SOCKET_LINK_PREFIX)) continue;
      const inode = Number.parseInt(target.slice(SOCKET_LINK_PREFIX.length), 10);
      if (inode > 0) this.index.add(inode, pid, startTime);
    }
  }
}

/** The link's target, "" when it cannot be read (closed meanwhile, or not a link). */
function readLink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}
