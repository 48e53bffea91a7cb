import { readlinkSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ConnectRecord, ConnectRecordSource } from './connect-records.js';
import { LruMap } from './lru-map.js';
import { NetworkNamespaces } from './network-namespaces.js';
import { ProcError } from './proc-error.js';
import { DEFAULT_PROC_LIMITS, type ProcLimits } from './proc-limits.js';
import { ProcessDetailsReader } from './process-details-reader.js';
import { type ProcessInfo, UNKNOWN_PROCESS } from './process-info.js';
import { ANY_SOCKET, ProcessScanner } from './process-scanner.js';
import { ScanBudget } from './scan-budget.js';
import { SockDiag } from './sock-diag.js';
import { chooseSocketOwner, type SocketHolder } from './shared-socket-rule.js';
import { SocketInodeIndex } from './socket-inode-index.js';
import { SocketOwnerStats } from './socket-owner-stats.js';
import { SOCKET_NOT_LISTED } from './socket-table-search.js';
import { SocketTables } from './socket-tables.js';
import { TcpTuple } from './tcp-tuple.js';
import { UserNameTable } from './user-name-table.js';

export interface SocketOwnerResolverOptions {
  /** Default /proc; tests pass a folder laid out like it. */
  procRoot?: string;
  /** Default: etc/passwd beside the proc root, so /etc/passwd for /proc. */
  passwdPath?: string;
  limits?: Partial<ProcLimits>;
  /** Measures the time counters and nothing else; default performance.now. */
  elapsedClock?: () => number;
  /**
   * Find sockets of the sensor's own network namespace through netlink sock_diag (the addon in
   * native/sock-diag) rather than /proc/net/tcp{,6}. Default: when procRoot is /proc, because
   * a folder laid out like /proc has tables of its own that the kernel does not know.
   */
  useSockDiag?: boolean;
  /**
   * The kernel's records of which process connected each SMTP connection, asked instead of
   * /proc for a client seen from its SYN. Default: none. The resolver does not close them.
   */
  connectRecords?: ConnectRecordSource;
}

/**
 * /proc/PID/stat times count USER_HZ ticks, 100 a second on every architecture Linux runs
 * mail hosts on (x86, arm64, ppc64le, s390x); a record's start time is in ns.
 */
const NANOSECONDS_PER_TICK = 10_000_000;
/** Before the end of a path the kernel cut: it is not the whole path. */
const CUT_PATH_MARK = '...';

/**
 * What a connection lookup returns when the connection has no socket a process could hold: not
 * listed, listed without an inode (TIME_WAIT, SYN_RECV, closed by its process, or not accepted
 * yet), or closed while its owner was looked for. resolveServer() then asks for the listener.
 */
const SOCKET_GONE = Symbol('socket gone');
type ConnectionOwner = ProcessInfo | typeof SOCKET_GONE;

interface CachedOwner {
  readonly process: ProcessInfo;
  /** The socket it held, to tell when another socket has taken the four-tuple since. */
  readonly inode: number;
  /** Capture time of the lookup that found it. */
  readonly time: number;
}

/**
 * Finds the local process that owns a TCP connection's socket. A client connection is first
 * looked up in the kernel connect records when there are some (the process that connected it,
 * as recorded by the kernel at connect()). Otherwise, and for servers: connection -> socket
 * inode through netlink sock_diag (or the socket tables), inode -> pid through an index of
 * every process's fds, pid -> ProcessInfo through /proc/PID. Synchronous, so that a lookup made
 * while the connection's first packet is processed reads /proc then, while the sender is most
 * likely still connecting.
 *
 * Costs (docs/process-attribution.md has the figures): a remembered connection reads nothing; a
 * socket already in the index costs one sock_diag request and five small reads; a new socket is
 * looked for in the processes likely to hold it (likelyHolderScans), and only then by a full
 * scan, as the full-scan budget allows (fullScanBurst, then one per fullScanIntervalMs).
 *
 * `now` is the capture time of the packet being processed, in ms; the resolver reads no clock
 * for its decisions, only elapsedClock to count the time it spends.
 */
export class SocketOwnerResolver {
  readonly stats = new SocketOwnerStats();
  private readonly limits: ProcLimits;
  private readonly connections: LruMap<string, CachedOwner>;
  private readonly recentOwners: LruMap<number, true>;
  private readonly index: SocketInodeIndex;
  private readonly namespaces: NetworkNamespaces;
  private readonly scanner: ProcessScanner;
  private readonly tables: SocketTables;
  private readonly details: ProcessDetailsReader;
  private readonly users: UserNameTable;
  private readonly connectRecords: ConnectRecordSource | undefined;
  private readonly elapsedClock: () => number;
  /**
   * A full scan is the only way to find a new socket of a long-running process that owned no
   * connection lately; the burst lets a few such first connections at once all be found.
   */
  private readonly fullScanBudget: ScanBudget;
  /** Scans for a namespace not seen yet, made when a connection is in no table. */
  private readonly discoveryBudget: ScanBudget;
  /**
   * Where a socket missing from the index is looked for, in turn, each scan stopping at the
   * first process that holds it: the pids allocated since the last such scan, the young
   * processes (new at an earlier scan, before they connected), recent owners (daemons, pools),
   * and last the processes a listing of the proc root shows new, which costs a millisecond with
   * 2,000 processes. Short-lived clients come first because they race the lookup: their socket
   * may be closed within milliseconds, while a daemon's next connection stays open meanwhile.
   */
  private readonly likelyHolderScans: readonly ((inode: number, now: number) => void)[] = [
    (inode, now) => this.scanNewPids(now, inode),
    (inode, now) => this.scanYoung(now, inode),
    (inode, now) => this.scanRecentOwners(inode, now),
    (inode, now) => this.scanNew(now, inode),
  ];

  constructor(options: SocketOwnerResolverOptions = {}) {
    const procRoot = options.procRoot ?? '/proc';
    checkProcRoot(procRoot);
    const limits = { ...DEFAULT_PROC_LIMITS, ...options.limits };
    checkLimits(limits);
    const stats = this.stats;
    this.limits = limits;
    this.elapsedClock = options.elapsedClock ?? (() => performance.now());
    this.fullScanBudget = new ScanBudget(limits.fullScanBurst, limits.fullScanIntervalMs);
    this.discoveryBudget = new ScanBudget(limits.namespaceDiscoveryBurst,
      limits.namespaceDiscoveryIntervalMs);
    this.connections = new LruMap(limits.maxCachedConnections,
      () => stats.connection_cache_evictions++);
    this.recentOwners = new LruMap(limits.maxRecentOwners,
      () => stats.recent_owner_evictions++);
    this.index = new SocketInodeIndex(limits.maxIndexedSockets, () => stats.index_evictions++);
    this.namespaces = new NetworkNamespaces(procRoot, ownNamespace(procRoot),
      limits.maxNetworkNamespaces, limits.namespaceAddressRefreshMs, stats);
    this.scanner = new ProcessScanner(procRoot, this.index, this.namespaces, limits, stats);
    const useSockDiag = options.useSockDiag ?? procRoot === '/proc';
    const sockDiag = useSockDiag ? SockDiag.load() ?? 'unavailable' : undefined;
    this.tables = new SocketTables(procRoot, this.namespaces, limits, stats, sockDiag);
    const passwdPath = options.passwdPath ?? join(dirname(procRoot), 'etc', 'passwd');
    this.users = new UserNameTable(passwdPath, limits.maxPasswdBytes, stats);
    this.details = new ProcessDetailsReader(procRoot, this.users, limits.maxCommandLineBytes,
      stats);
    this.connectRecords = options.connectRecords;
  }

  /**
   * The process that owns the socket of the connection (the local side is the client), or
   * UNKNOWN_PROCESS. With connect records and `clientInitialSequence`, the sequence number of
   * the client's SYN (which tells the connection's record from those of other connections on
   * the same four-tuple), the record's process, or none; otherwise (no records, or a
   * connection captured after its SYN) /proc's owner. Addresses are IPv4 or IPv6 text
   * as the capture saw them; an IPv4 connection is also found when an IPv6 socket holds it as
   * IPv4-mapped addresses.
   */
  resolve(
    localAddress: string, localPort: number, remoteAddress: string, remotePort: number,
    now: number, clientInitialSequence?: number,
  ): ProcessInfo {
    const started = this.elapsedClock();
    const tuple = this.parse(localAddress, localPort, remoteAddress, remotePort);
    if (tuple === undefined) return this.count(UNKNOWN_PROCESS, started);
    if (clientInitialSequence === undefined || this.connectRecords === undefined) {
      return this.count(this.lookUpConnection(tuple, now), started);
    }
    // No record for a connection the records could have seen is no owner: its record was
    // dropped (a flood of connections can push it out) or its process is one the sensor
    // cannot see, and /proc would name whoever holds the four-tuple now, not who sent the SYN.
    return this.count(this.recordedConnector(tuple, clientInitialSequence), started);
  }

  /**
   * resolve() for a connection accepted by a local server (the local side is the server's),
   * with a fallback for a connection whose socket is gone, or not accepted yet, when it is
   * looked up: the owner of the socket listening on the local address and port (or on the
   * wildcard address of that port), chosen among the processes holding it by the shared-socket
   * rule. That is the process that accepted the connection when one process holds the
   * listener; when several do (a master and its workers, prefork servers) it is the youngest,
   * which runs the accepting program but may be a sibling of the worker that accepted.
   * Counted in listener_fallbacks; docs/process-attribution.md, "Inbound: the listener".
   */
  resolveServer(
    localAddress: string, localPort: number, remoteAddress: string, remotePort: number,
    now: number,
  ): ProcessInfo {
    const started = this.elapsedClock();
    const tuple = this.parse(localAddress, localPort, remoteAddress, remotePort);
    if (tuple === undefined) return this.count(UNKNOWN_PROCESS, started);
    const found = this.lookUpConnection(tuple, now);
    return this.count(found === SOCKET_GONE ? this.listenerOwner(tuple, now) : found, started);
  }

  /**
   * Whether `address` is assigned in another network namespace of this host that the resolver
   * knows through its processes (a container's): a connection from it was opened on this host,
   * by a local process, even when that process was not found.
   */
  isNamespaceAddress(address: string, now: number): boolean {
    const tuple = TcpTuple.parse(address, 1, address, 1);
    return tuple !== undefined && this.namespaces.owning(tuple.localAddressText, now).length > 0;
  }

  /** The process that holds socket `inode`, for a caller that already knows the inode. */
  resolveInode(inode: number, now: number): ProcessInfo {
    const started = this.elapsedClock();
    return this.count(this.lookUpInode(inode, now), started);
  }

  /**
   * Scans every process now, so that the first lookups find the index warm; worth calling once
   * at startup. It does not spend the full-scan budget of lookups.
   */
  indexAllProcesses(): void {
    this.scanAll();
  }

  /**
   * Closes the netlink socket of sock_diag, which stays open between lookups; a later lookup
   * opens it again. The socket is shared by the resolvers of one thread.
   */
  close(): void {
    this.tables.close();
  }

  private parse(
    localAddress: string, localPort: number, remoteAddress: string, remotePort: number,
  ): TcpTuple | undefined {
    const tuple = TcpTuple.parse(localAddress, localPort, remoteAddress, remotePort);
    if (tuple === undefined) this.stats.unparsable_addresses++;
    return tuple;
  }

  private lookUpConnection(tuple: TcpTuple, now: number): ConnectionOwner {
    const cached = this.cachedOwner(tuple, now);
    if (cached !== undefined) return cached;
    const inode = this.findInode(tuple, now);
    if (inode <= 0) return SOCKET_GONE;
    const process = this.lookUpInode(inode, now,
      this.tables.foundBySockDiag ? tuple : undefined);
    if (process !== UNKNOWN_PROCESS && process !== SOCKET_GONE) {
      this.connections.set(tuple.key, { process, inode, time: now });
    }
    return process;
  }

  /**
   * The process the kernel recorded connecting the tuple's socket, as it was at connect(), or
   * UNKNOWN_PROCESS (no records, or none for it). Asked before /proc: it costs one bpf() call
   * where /proc costs reads and maybe scans, it names the process even when the socket or the
   * process is gone by now, and it cannot race.
   */
  private recordedConnector(tuple: TcpTuple, initialSequence: number): ProcessInfo {
    if (this.connectRecords === undefined) return UNKNOWN_PROCESS;
    const record = this.connectRecords.find(tuple, initialSequence);
    if (record === undefined || record === 'failed') {
      this.stats.connect_record_misses++;
      if (record === 'failed') this.stats.connect_record_errors++;
      return UNKNOWN_PROCESS;
    }
    this.stats.connect_record_hits++;
    // Longer than PATH_MAX, which /proc cannot show either: its end, marked as a part.
    if (record.pathTruncated) this.stats.image_file_names_truncated++;
    const userId = String(record.userId);
    const process: ProcessInfo = {
      processId: String(record.processId),
      parentProcessId: String(record.parentProcessId),
      userId,
      userName: this.users.nameOf(userId),
      imageFileName: record.pathTruncated ? `${CUT_PATH_MARK}${record.imageFileName}`
        : record.imageFileName,
      commandLine: record.commandLine,
    };
    return record.commandLineTruncated ? this.completedFromProc(record, process) : process;
  }

  /**
   * A record whose command line the kernel cut, completed from /proc while its process still
   * runs the same program: the same pid and start time, the same executable, and a command
   * line that starts with the record's (an exec or a new title since would mix two programs in
   * one event). /proc has up to maxCommandLineBytes. Counted in connect_records_completed, or
   * with the other cut command lines.
   */
  private completedFromProc(record: ConnectRecord, process: ProcessInfo): ProcessInfo {
    const recordedTicks = Math.floor(Number(record.startTimeNs) / NANOSECONDS_PER_TICK);
    const now = this.scanner.statIfSame(record.processId, recordedTicks) !== undefined
      ? this.details.read(record.processId) : UNKNOWN_PROCESS;
    if (now.imageFileName === record.imageFileName
      && now.commandLine.length > record.commandLine.length
      && now.commandLine.startsWith(record.commandLine)) {
      this.stats.connect_records_completed++;
      return { ...process, commandLine: now.commandLine };
    }
    this.stats.command_lines_truncated++;
    return process;
  }

  /**
   * The owner of the socket listening for the connection's local address and port, for a
   * connection gone before it was looked up. Not cached: the connection's four-tuple names no
   * socket of that owner, and the agent asks once per connection. A listener is held for as
   * long as its server runs, so its owner is usually in the index (no scan).
   */
  private listenerOwner(tuple: TcpTuple, now: number): ProcessInfo {
    this.stats.listener_lookups++;
    const inode = this.tables.findListener(tuple, now);
    const owner = inode > 0 ? this.lookUpInode(inode, now) : UNKNOWN_PROCESS;
    if (owner === UNKNOWN_PROCESS || owner === SOCKET_GONE) {
      this.stats.listeners_not_found++;
      return UNKNOWN_PROCESS;
    }
    this.stats.listener_fallbacks++;
    if (this.liveHolders(inode).length > 1) this.stats.shared_listener_fallbacks++;
    return owner;
  }

  /**
   * The owner remembered for the four-tuple, unless older than connectionCacheTtlMs or, as
   * sock_diag shows (6 µs), held by another socket now: a closed connection's four-tuple can be
   * taken again at once, as loopback connections do (net.ipv4.tcp_tw_reuse 2, the default,
   * reuses a TIME_WAIT four-tuple for loopback): 3 of 100 python3 clients of one local server
   * got the four-tuple of an earlier one within seconds.
   */
  private cachedOwner(tuple: TcpTuple, now: number): ProcessInfo | undefined {
    const cached = this.connections.get(tuple.key);
    if (cached === undefined || now < cached.time
      || now - cached.time >= this.limits.connectionCacheTtlMs) {
      return undefined;
    }
    if (this.tables.isHeldByAnother(tuple, cached.inode)) {
      this.stats.reused_four_tuples++;
      return undefined;
    }
    this.stats.connection_cache_hits++;
    return cached.process;
  }

  /**
   * A connection in no table may be in a namespace no scanned process was in yet (a container
   * started since the last scan), so the processes new since then are scanned to find its
   * namespace, as the discovery budget allows: connections seen after NAT are in no table, and
   * may come by the hundred a second.
   */
  private findInode(tuple: TcpTuple, now: number): number {
    let inode = this.tables.find(tuple, now);
    if (inode === SOCKET_NOT_LISTED && this.mayDiscover(now)) {
      const known = this.namespaces.additions;
      this.scanNew(now);
      if (this.namespaces.additions !== known) {
        inode = this.tables.findInOtherNamespaces(tuple, now);
      }
    }
    if (inode === SOCKET_NOT_LISTED) this.stats.sockets_not_found++;
    else if (inode === 0) this.stats.sockets_without_inode++;
    return inode;
  }

  /**
   * The index first, then ever wider scans until one finds a holder. SOCKET_GONE when
   * sock_diag showed the socket closed during the search (only with `sockDiagTuple`).
   */
  private lookUpInode(inode: number, now: number, sockDiagTuple?: TcpTuple): ConnectionOwner {
    let owner: SocketHolder | typeof SOCKET_GONE | undefined = this.ownerFromIndex(inode);
    if (owner !== undefined) this.stats.index_hits++;
    else owner = this.searchHolders(inode, now, sockDiagTuple);
    if (owner === undefined || owner === SOCKET_GONE) {
      this.stats.owners_not_found++;
      return owner ?? UNKNOWN_PROCESS;
    }
    this.recentOwners.set(owner.pid, true);
    this.scanner.leaveYoung(owner.pid);
    return this.details.read(owner.pid);
  }

  /**
   * The likely holders (likelyHolderScans), then every process as the full-scan budget allows.
   * When the socket was found by sock_diag (`sockDiagTuple`), sock_diag is asked again after
   * each scan that did not find it, a few microseconds: a socket closed meanwhile (its process
   * exited or closed it) ends the search, since no scan can find its owner any more and each
   * costs more than the last (a full scan, tens of milliseconds): SOCKET_GONE.
   */
  private searchHolders(
    inode: number, now: number, sockDiagTuple: TcpTuple | undefined,
  ): SocketHolder | typeof SOCKET_GONE | undefined {
    if (this.scanner.hasScanned) {
      for (const scan of this.likelyHolderScans) {
        scan(inode, now);
        const owner = this.ownerFromIndex(inode);
        if (owner !== undefined) return owner;
        if (sockDiagTuple !== undefined && this.tables.isClosed(sockDiagTuple, inode)) {
          this.stats.sockets_closed_during_search++;
          return SOCKET_GONE;
        }
      }
    }
    if (!this.mayScanAll(now)) return undefined;
    this.scanAll();
    return this.ownerFromIndex(inode);
  }

  /** Of the indexed holders still running as scanned, the one the shared-socket rule picks. */
  private ownerFromIndex(inode: number): SocketHolder | undefined {
    const holders = this.liveHolders(inode);
    if (holders.length > 1) this.stats.shared_sockets++;
    return holders.length === 0 ? undefined : chooseSocketOwner(holders);
  }

  /** The indexed holders of `inode` still running as scanned (a reused pid is left out). */
  private liveHolders(inode: number): SocketHolder[] {
    const holders: SocketHolder[] = [];
    for (const { pid, startTime } of this.index.holdersOf(inode) ?? []) {
      const stat = this.scanner.statIfSame(pid, startTime);
      if (stat !== undefined) holders.push({ pid, ...stat });
    }
    return holders;
  }

  private mayScanAll(now: number): boolean {
    if (this.fullScanBudget.take(now)) return true;
    this.stats.full_scans_rate_limited++;
    return false;
  }

  private mayDiscover(now: number): boolean {
    if (this.discoveryBudget.take(now)) return true;
    this.stats.namespace_discoveries_rate_limited++;
    return false;
  }

  /** Processes that opened one SMTP connection often open the next: daemons, pools. */
  private scanRecentOwners(wanted: number, now: number): void {
    const started = this.elapsedClock();
    for (const pid of [...this.recentOwners.keys()]) {
      const result = this.scanner.rescan(pid, now, wanted);
      if (result === 'gone') this.recentOwners.delete(pid);
      if (result === 'holds') break;
    }
    this.stats.recent_owner_scans++;
    this.stats.scan_time_ms += this.elapsedClock() - started;
  }

  private scanNew(now: number, wanted = ANY_SOCKET): void {
    if (!this.scanner.hasScanned) {
      this.scanAll();
      return;
    }
    const started = this.elapsedClock();
    this.scanner.scanNew(now, wanted);
    this.stats.incremental_scans++;
    this.stats.scan_time_ms += this.elapsedClock() - started;
  }

  private scanNewPids(now: number, wanted: number): void {
    const started = this.elapsedClock();
    this.scanner.scanNewPids(now, wanted);
    this.stats.scan_time_ms += this.elapsedClock() - started;
  }

  private scanYoung(now: number, wanted: number): void {
    const started = this.elapsedClock();
    this.scanner.rescanYoung(now, wanted);
    this.stats.young_process_scans++;
    this.stats.scan_time_ms += this.elapsedClock() - started;
  }

  private scanAll(): void {
    const started = this.elapsedClock();
    this.scanner.scanAll();
    const elapsed = this.elapsedClock() - started;
    this.stats.full_scans++;
    this.stats.full_scan_time_ms += elapsed;
    this.stats.scan_time_ms += elapsed;
  }

  private count(found: ConnectionOwner, started: number): ProcessInfo {
    const process = found === SOCKET_GONE ? UNKNOWN_PROCESS : found;
    this.stats.lookups++;
    if (process === UNKNOWN_PROCESS) this.stats.misses++;
    else this.stats.hits++;
    this.stats.lookup_time_ms += this.elapsedClock() - started;
    return process;
  }
}

function checkProcRoot(procRoot: string): void {
  let isFolder = false;
  try {
    isFolder = statSync(procRoot).isDirectory();
  } catch (error) {
    throw new ProcError('proc_root_unreadable', `proc root ${procRoot} cannot be read`,
      { cause: error });
  }
  if (!isFolder) {
    throw new ProcError('proc_root_unreadable', `proc root ${procRoot} is not a folder`);
  }
}

/** Counts are whole numbers from 1; times (…Ms) may be 0: no cache, no rate limit. */
function checkLimits(limits: ProcLimits): void {
  for (const [name, value] of Object.entries(limits) as [string, number][]) {
    const isSize = !name.endsWith('Ms');
    const valid = isSize ? Number.isInteger(value) && value >= 1
      : Number.isFinite(value) && value >= 0;
    if (!valid) {
      const expected = isSize ? 'a whole number from 1' : 'a number of ms from 0';
      throw new ProcError('invalid_limit', `limit ${name} must be ${expected}, got ${value}`);
    }
  }
}

/** The sensor's network namespace, whose tables /proc/net shows (it links to self/net). */
function ownNamespace(procRoot: string): string {
  try {
    return readlinkSync(`${procRoot}/self/ns/net`);
  } catch {
    return '';
  }
}
