import { readdirSync, readlinkSync } from 'node:fs';
import type { NetworkNamespaces } from './network-namespaces.js';
import { PidAllocations } from './pid-allocations.js';
import { ProcFileReader } from './proc-file-reader.js';
import type { ProcLimits } from './proc-limits.js';
import { parseProcessStat, type ProcessStat } from './process-stat.js';
import type { SocketInodeIndex } from './socket-inode-index.js';
import type { SocketOwnerStats } from './socket-owner-stats.js';
import { YoungProcesses } from './young-processes.js';

/** /proc/PID/stat is under 400 bytes; comm is at most 15 of them. */
const MAX_STAT_BYTES = 1024;

/**
 * Newly allocated pids read one by one; when more were allocated since the last scan of new
 * pids, the proc root is listed instead. Reading a pid costs 6 to 10 µs whether a process has
 * it or not, so 256 of them cost about what listing 2,000 processes does.
 */
const MAX_NEW_PIDS_READ = 256;

/** What scans look for when they look for no socket in particular. */
export const ANY_SOCKET = 0;

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

/** What rescan found: the process is gone, or it holds the wanted socket, or it does not. */
export type RescanResult = 'gone' | 'holds' | 'lacks';

/**
 * Reads the fd folders of processes into the socket inode index, and the ns/net link of each
 * into the namespace list. Scopes, cheapest first: one process (rescan); the pids allocated
 * since the last such scan (scanNewPids); the young processes (rescanYoung); the processes new
 * since the last listing of the proc root (scanNew); every process (scanAll). Scans made for one
 * socket (`wanted`) stop at the first process that holds it; the new processes they did not
 * reach are read first by the next scanNewPids.
 *
 * A pid counts as new when the last listing did not show it, or, read one by one, when it was
 * allocated since the last scan of new pids. A pid that exits and is reused between two
 * listings looks like the process scanned before; the start time catches it when the pid is
 * about to be returned (statIfSame) or rescanned or read as a new pid, and every full scan
 * starts over. Comparing every pid's start time at every listing would cost one read per
 * process per lookup, the cost the index exists to avoid.
 */
export class ProcessScanner {
  private readonly scanned = new Map<number, ScannedProcess>();
  private readonly young: YoungProcesses;
  private readonly allocations: PidAllocations;
  private readonly statReader = new ProcFileReader(MAX_STAT_BYTES);
  /**
   * New pids a scan stopped before, having found its socket; read first by the next scan of
   * new pids. At most one listing's worth of pids.
   */
  private unscanned: number[] = [];
  private listing = 0;
  /** Pids read one by one since the last listing, which alone forgets exited processes. */
  private pidsReadSinceListing = 0;
  /** Processes the last listing showed: reading as many pids one by one makes a listing due. */
  private listedProcesses = 0;

  constructor(
    private readonly procRoot: string,
    private readonly index: SocketInodeIndex,
    private readonly namespaces: NetworkNamespaces,
    limits: Pick<ProcLimits, 'maxYoungProcesses' | 'youngProcessMs'>,
    private readonly stats: SocketOwnerStats,
  ) {
    this.allocations = new PidAllocations(procRoot);
    this.young = new YoungProcesses(limits.youngProcessMs, limits.maxYoungProcesses,
      () => stats.young_process_evictions++);
  }

  /** Whether a listing of the proc root has been scanned yet. */
  get hasScanned(): boolean {
    return this.listing > 0;
  }

  /**
   * Rebuilds the index and the namespace list from every process. Young processes stay young:
   * what a full scan finds is not new, but what was new before it still is.
   */
  scanAll(): void {
    this.scanned.clear();
    this.index.clear();
    this.namespaces.clear();
    this.scanListing(Number.NaN, ANY_SOCKET);
  }

  /**
   * Lists the proc root, forgets the processes gone, and scans the new ones, which become young
   * as of `now`, until one holds `wanted`. True when it was found.
   */
  scanNew(now: number, wanted = ANY_SOCKET): boolean {
    return this.scanListing(now, wanted);
  }

  /**
   * Reads the pids allocated since the last scan of new pids or listing (PidAllocations), after
   * those a scan stopped before, and scans the new processes among them until one holds
   * `wanted`: tens of microseconds where a listing costs a millisecond. False, and nothing read,
   * when a listing is needed to tell the new processes: too many pids allocated, the counter
   * wrapped at pid_max, or as many pids read since the last listing as it showed processes (so
   * that exited ones do not pile up). A pid not shown yet, because its process is still being
   * forked (alloc_pid() precedes attach_pid() in copy_process()), is found by the next listing.
   */
  scanNewPids(now: number, wanted: number): boolean {
    const range = this.pidsReadSinceListing < this.listedProcesses
      ? this.allocations.takeNew(MAX_NEW_PIDS_READ) : undefined;
    if (range === undefined) return false;
    this.stats.new_pid_scans++;
    const pending = this.unscanned;
    this.unscanned = [];
    for (let at = 0; at < pending.length; at++) {
      this.pidsReadSinceListing++;
      if (!this.scanIfNew(pending[at], now, wanted)) continue;
      this.unscanned = pending.slice(at + 1);
      this.allocations.readUpTo(range.first - 1);
      return true;
    }
    for (let pid = range.first; pid <= range.last; pid++) {
      this.pidsReadSinceListing++;
      if (!this.scanIfNew(pid, now, wanted)) continue;
      this.allocations.readUpTo(pid);
      return true;
    }
    return false;
  }

  /**
   * Rescans the young processes, the youngest first, until one holds `wanted`. Their stat is not
   * read again (a third of a rescan): a pid reused since is caught when its holder is checked
   * (statIfSame), and the listing that follows reads the new process.
   */
  rescanYoung(now: number, wanted: number): boolean {
    for (const pid of this.young.list(now)) {
      const known = this.scanned.get(pid);
      const result = known === undefined ? 'gone'
        : this.indexSockets(pid, known.startTime, wanted);
      if (result === 'gone') this.young.delete(pid);
      else this.stats.processes_scanned++;
      if (result === 'holds') return true;
    }
    return false;
  }

  /**
   * Reads the fd folder of `pid` again, as a new process (young as of `now`) if its start time
   * changed.
   */
  rescan(pid: number, now: number, wanted = ANY_SOCKET): RescanResult {
    const stat = this.readStat(pid);
    if (stat === undefined) return 'gone';
    const known = this.scanned.get(pid);
    if (known?.startTime !== stat.startTime) {
      if (known !== undefined) this.forgetReused(pid);
      return this.scan(pid, stat, now, wanted);
    }
    this.stats.processes_scanned++;
    return this.indexSockets(pid, stat.startTime, wanted);
  }

  /** A process found owning a socket is rescanned as a recent owner, no longer as young. */
  leaveYoung(pid: number): void {
    this.young.delete(pid);
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

  /**
   * Lists the proc root, forgets the processes gone, and scans the new ones until one holds
   * `wanted`; the rest are left to the next scan of new pids. `now` NaN: a full scan, whose
   * finds are not young.
   */
  private scanListing(now: number, wanted: number): boolean {
    const listing = ++this.listing;
    this.allocations.markAllSeen(); // before listing: pids allocated during it are new next time
    const pids = this.listPids();
    const fresh: number[] = [];
    this.pidsReadSinceListing = 0;
    this.listedProcesses = pids.length;
    for (const pid of pids) {
      const known = this.scanned.get(pid);
      if (known !== undefined) known.listing = listing;
      else fresh.push(pid);
    }
    for (const [pid, process] of this.scanned) {
      if (process.listing !== listing) this.forget(pid);
    }
    for (let at = 0; at < fresh.length; at++) {
      if (!this.scanIfNew(fresh[at], now, wanted)) continue;
      this.unscanned = fresh.slice(at + 1);
      return true;
    }
    this.unscanned = [];
    return false;
  }

  /**
   * Scans `pid` if it is a process not scanned yet (or a reused pid); threads, which share
   * their process's fds, and pids no process has are skipped. True when it holds `wanted`.
   */
  private scanIfNew(pid: number, now: number, wanted: number): boolean {
    const stat = this.readStat(pid);
    if (stat === undefined || stat.isThread) return false;
    const known = this.scanned.get(pid);
    if (known?.startTime === stat.startTime) return false;
    if (known !== undefined) this.forgetReused(pid);
    return this.scan(pid, stat, now, wanted) === 'holds';
  }

  private scan(pid: number, stat: ProcessStat, now: number, wanted: number): RescanResult {
    const namespace = readLink(`${this.procRoot}/${pid}/ns/net`);
    this.scanned.set(pid, { startTime: stat.startTime, namespace, listing: this.listing });
    if (namespace !== '') this.namespaces.add(namespace, pid);
    if (!Number.isNaN(now)) this.young.add(pid, now);
    this.stats.processes_scanned++;
    return this.indexSockets(pid, stat.startTime, wanted);
  }

  private forgetReused(pid: number): void {
    this.stats.reused_pids++;
    this.forget(pid);
  }

  private forget(pid: number): void {
    const known = this.scanned.get(pid);
    if (known === undefined) return;
    this.scanned.delete(pid);
    this.young.delete(pid);
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

  /**
   * Each fd is a link; a socket's reads "socket:[INODE]" (proc(5), /proc/pid/fd). 'gone' when
   * the fd folder cannot be read: the process exited (or it is a kernel thread's).
   */
  private indexSockets(pid: number, startTime: number, wanted: number): RescanResult {
    const folder = `${this.procRoot}/${pid}/fd`;
    let descriptors: string[];
    try {
      descriptors = readdirSync(folder);
    } catch {
      return 'gone';
    }
    let result: RescanResult = 'lacks';
    for (const descriptor of descriptors) {
      const target = readLink(`${folder}/${descriptor}`);
      if (!target.startsWith(SOCKET_LINK_PREFIX)) continue;
      const inode = Number.parseInt(target.slice(SOCKET_LINK_PREFIX.length), 10);
      if (inode > 0) this.index.add(inode, pid, startTime);
      if (inode === wanted) result = 'holds';
    }
    return result;
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
