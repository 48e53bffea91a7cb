import { existsSync } from 'node:fs';
import type { NetworkNamespaces } from './network-namespaces.js';
import type { ProcLimits } from './proc-limits.js';
import { ProcFileReader } from './proc-file-reader.js';
import { SockDiag } from './sock-diag.js';
import { findListenerInode, findSocketInode, SOCKET_NOT_LISTED }
  from './socket-table-search.js';
import type { SocketOwnerStats } from './socket-owner-stats.js';
import type { TcpTuple } from './tcp-tuple.js';

/** A table that could not be read: the namespace member whose tables they were has exited. */
const TABLE_UNREADABLE = -2;
/** Listener needles per table: bound to the address, then to the wildcard. */
const LISTENER_RANKS = 2;

/**
 * Finds a connection's socket inode. In the sensor's own network namespace it asks the kernel
 * for that one socket through netlink sock_diag (SockDiag): a few microseconds. Other
 * namespaces are read from the socket tables of one member process each (/proc/PID/net/tcp and
 * tcp6), and the sensor's own tables (/proc/net/tcp and tcp6) only when sock_diag is not
 * usable. A table read costs 1.5 to 3 ms however few sockets the namespace has, because the
 * kernel walks its whole established-connection hash table (262,144 buckets on a 24 GiB host)
 * to write the file; hence other namespaces are searched only when they own the connection's
 * local address.
 *
 * Results follow findSocketInode: an inode, 0 when listed without one, SOCKET_NOT_LISTED.
 */
export class SocketTables {
  /** Whether the last find() had its inode from sock_diag, which isClosed() can then ask. */
  foundBySockDiag = false;
  private readonly reader: ProcFileReader;

  constructor(
    private readonly procRoot: string,
    private readonly namespaces: NetworkNamespaces,
    limits: ProcLimits,
    private readonly stats: SocketOwnerStats,
    /**
     * How the own namespace is searched: through this SockDiag; 'unavailable' when sock_diag
     * was wanted but its addon could not be loaded; undefined to read /proc/net (a fake proc
     * root, whose tables are not the running kernel's).
     */
    private readonly sockDiag: SockDiag | 'unavailable' | undefined,
  ) {
    this.reader = new ProcFileReader(limits.maxSocketTableBytes);
  }

  /**
   * Searches every namespace. With sock_diag the own namespace goes first, since it costs
   * microseconds; without it, the namespaces that own the local address do, because they are
   * few and their tables small, so that a container's connection costs one table read, not two.
   */
  find(tuple: TcpTuple, now: number): number {
    const own = this.askSockDiag(tuple);
    this.foundBySockDiag = own !== undefined && own > 0;
    if (own !== undefined && own !== SOCKET_NOT_LISTED) return own;
    const inode = this.findInOtherNamespaces(tuple, now);
    if (inode !== SOCKET_NOT_LISTED || own !== undefined) return inode;
    return this.findInOwnTables(tuple);
  }

  /**
   * Whether sock_diag shows the connection closed since it found it with `inode`: gone, without
   * an inode, or with another one. False when it cannot tell.
   */
  isClosed(tuple: TcpTuple, inode: number): boolean {
    if (!(this.sockDiag instanceof SockDiag)) return false;
    const current = this.sockDiag.findInode(tuple);
    return current !== undefined && current !== inode;
  }

  /**
   * Whether sock_diag shows the four-tuple held by another socket than `inode` in the own
   * namespace: a new connection that took it after the first closed. False when it cannot tell
   * (no sock_diag), and when no socket or one without inode has it (the connection closed).
   */
  isHeldByAnother(tuple: TcpTuple, inode: number): boolean {
    if (!(this.sockDiag instanceof SockDiag)) return false;
    const current = this.sockDiag.findInode(tuple);
    return current !== undefined && current > 0 && current !== inode;
  }

  /**
   * The inode of the socket listening for the tuple's local address and port (bound to it, or
   * to the wildcard), for a connection gone before its own socket was found; SOCKET_NOT_LISTED
   * when there is none. Looked for in the namespaces that own the local address when any does,
   * else in the sensor's own (sock_diag, or /proc/net/tcp{,6}): a listener lookup does not
   * check that the address is local, so the own namespace asked about a container's address
   * would answer with a host listener on 0.0.0.0 of the same port.
   */
  findListener(tuple: TcpTuple, now: number): number {
    const owners = this.namespaces.owning(tuple.localAddressText, now);
    for (const namespace of owners) {
      const inode = this.searchNamespace(namespace,
        (folder) => this.findListenerIn(folder, tuple));
      if (inode > 0) return inode;
    }
    if (owners.length > 0) return SOCKET_NOT_LISTED;
    const own = this.askSockDiagForListener(tuple);
    if (own !== undefined) return own;
    const inode = this.findListenerIn(`${this.procRoot}/net`, tuple);
    return inode === TABLE_UNREADABLE ? SOCKET_NOT_LISTED : inode;
  }

  /** Closes the netlink socket of sock_diag; the next lookup opens another. */
  close(): void {
    if (this.sockDiag instanceof SockDiag) this.sockDiag.close();
  }

  /** Searches the other namespaces that own the local address; the first that lists it wins. */
  findInOtherNamespaces(tuple: TcpTuple, now: number): number {
    for (const namespace of this.namespaces.owning(tuple.localAddressText, now)) {
      const inode = this.findInNamespace(namespace, tuple);
      if (inode !== SOCKET_NOT_LISTED) return inode;
    }
    return SOCKET_NOT_LISTED;
  }

  /**
   * The own namespace through sock_diag; undefined when it cannot answer and the tables are to
   * be read instead: not wanted, not loaded (sock_diag_unavailable), or the lookup failed
   * (sock_diag_errors).
   */
  private askSockDiag(tuple: TcpTuple): number | undefined {
    if (this.sockDiag === undefined) return undefined;
    if (this.sockDiag === 'unavailable') {
      this.stats.sock_diag_unavailable++;
      return undefined;
    }
    this.stats.sock_diag_lookups++;
    const inode = this.sockDiag.findInode(tuple);
    if (inode === undefined) this.stats.sock_diag_errors++;
    else if (inode > 0) this.stats.sock_diag_hits++;
    return inode;
  }

  /** The own namespace's listener through sock_diag; undefined when the tables are to be read. */
  private askSockDiagForListener(tuple: TcpTuple): number | undefined {
    if (this.sockDiag === undefined) return undefined;
    if (this.sockDiag === 'unavailable') {
      this.stats.sock_diag_unavailable++;
      return undefined;
    }
    const inode = this.sockDiag.findListenerInode(tuple);
    if (inode === undefined) this.stats.sock_diag_errors++;
    return inode;
  }

  /** Searches the sensor's namespace in /proc/net/tcp and tcp6. */
  private findInOwnTables(tuple: TcpTuple): number {
    const inode = this.findIn(`${this.procRoot}/net`, tuple);
    return inode === TABLE_UNREADABLE ? SOCKET_NOT_LISTED : inode;
  }

  private findInNamespace(namespace: string, tuple: TcpTuple): number {
    const inode = this.searchNamespace(namespace, (folder) => this.findIn(folder, tuple));
    if (inode > 0) this.stats.other_namespace_hits++;
    return inode;
  }

  /** Tries the namespace's members in turn until one's tables can be read. */
  private searchNamespace(namespace: string, search: (folder: string) => number): number {
    for (;;) {
      const pid = this.namespaces.representativeOf(namespace);
      if (pid === undefined) return SOCKET_NOT_LISTED;
      const inode = search(`${this.procRoot}/${pid}/net`);
      if (inode !== TABLE_UNREADABLE) return inode;
      this.namespaces.remove(namespace, pid);
    }
  }

  /**
   * An IPv4 connection is looked for in tcp, then as IPv4-mapped in tcp6. A table that cannot be
   * read in a folder that exists is taken as empty: tcp6 is absent when IPv6 is disabled.
   */
  private findIn(folder: string, tuple: TcpTuple): number {
    if (tuple.ipv4Needle !== undefined) {
      const inode = this.search(`${folder}/tcp`, tuple.ipv4Needle);
      if (inode >= 0) return inode;
      if (inode === TABLE_UNREADABLE && !existsSync(folder)) return TABLE_UNREADABLE;
    }
    const inode = this.search(`${folder}/tcp6`, tuple.ipv6Needle);
    if (inode !== TABLE_UNREADABLE) return inode;
    return existsSync(folder) ? SOCKET_NOT_LISTED : TABLE_UNREADABLE;
  }

  /**
   * The listener in a folder's tcp and tcp6, preferred as the kernel prefers one for an
   * incoming SYN: bound to the address (in either table) over a wildcard, and 0.0.0.0 over ::
   * for IPv4. Each table is read once and searched for all its needles. A table does not say
   * whether a socket on :: is IPV6_V6ONLY, so an IPv4 connection with no IPv4 listener on its
   * port may be given one that accepts IPv6 only; sock_diag asks the kernel, which knows.
   */
  private findListenerIn(folder: string, tuple: TcpTuple): number {
    const { tcp, tcp6 } = tuple.listenerNeedles;
    const found = [this.searchListeners(`${folder}/tcp`, tcp),
      this.searchListeners(`${folder}/tcp6`, tcp6)];
    for (let rank = 0; rank < LISTENER_RANKS; rank++) {
      for (const inodes of found) {
        if (inodes[rank] > 0) return inodes[rank];
      }
    }
    return existsSync(folder) ? SOCKET_NOT_LISTED : TABLE_UNREADABLE;
  }

  /** The inode each needle finds in the table; none when it cannot be read. */
  private searchListeners(path: string, needles: readonly Buffer[]): number[] {
    if (needles.length === 0) return [];
    const table = this.reader.read(path);
    if (table === undefined) return [];
    this.stats.socket_table_reads++;
    if (this.reader.truncated) this.stats.socket_tables_truncated++;
    return needles.map((needle) => findListenerInode(table, needle));
  }

  private search(path: string, needle: Buffer): number {
    const table = this.reader.read(path);
    if (table === undefined) return TABLE_UNREADABLE;
    this.stats.socket_table_reads++;
    if (this.reader.truncated) this.stats.socket_tables_truncated++;
    return findSocketInode(table, needle);
  }
}
