import { existsSync } from 'node:fs';
import type { NetworkNamespaces } from './network-namespaces.js';
import type { ProcLimits } from './proc-limits.js';
import { ProcFileReader } from './proc-file-reader.js';
import { findSocketInode, SOCKET_NOT_LISTED } from './socket-table-search.js';
import type { SocketOwnerStats } from './socket-owner-stats.js';
import type { TcpTuple } from './tcp-tuple.js';

/** A table that could not be read: the namespace member whose tables they were has exited. */
const TABLE_UNREADABLE = -2;

/**
 * Finds a connection's socket inode in the kernel's socket tables: those of the sensor's own
 * network namespace (/proc/net/tcp and tcp6), and those of other namespaces, through one member
 * process each (/proc/PID/net/tcp and tcp6). Each read costs 1.5 to 3 ms however few sockets
 * the namespace has, because the kernel walks its whole established-connection hash table
 * (262,144 buckets on a 24 GiB host) to write the file; hence other namespaces are searched only
 * when they own the connection's local address.
 *
 * Results follow findSocketInode: an inode, 0 when listed without one, SOCKET_NOT_LISTED.
 */
export class SocketTables {
  private readonly reader: ProcFileReader;

  constructor(
    private readonly procRoot: string,
    private readonly namespaces: NetworkNamespaces,
    limits: ProcLimits,
    private readonly stats: SocketOwnerStats,
  ) {
    this.reader = new ProcFileReader(limits.maxSocketTableBytes);
  }

  /** Searches the sensor's namespace. */
  findInOwnNamespace(tuple: TcpTuple): number {
    const inode = this.findIn(`${this.procRoot}/net`, tuple);
    return inode === TABLE_UNREADABLE ? SOCKET_NOT_LISTED : inode;
  }

  /** Searches the other namespaces that own the local address; the first that lists it wins. */
  findInOtherNamespaces(tuple: TcpTuple, now: number): number {
    for (const namespace of this.namespaces.owning(tuple.localAddressText, now)) {
      const inode = this.findInNamespace(namespace, tuple);
      if (inode !== SOCKET_NOT_LISTED) return inode;
    }
    return SOCKET_NOT_LISTED;
  }

  /** Tries the namespace's members in turn until one's tables can be read. */
  private findInNamespace(namespace: string, tuple: TcpTuple): number {
    for (;;) {
      const pid = this.namespaces.representativeOf(namespace);
      if (pid === undefined) return SOCKET_NOT_LISTED;
      const inode = this.findIn(`${this.procRoot}/${pid}/net`, tuple);
      if (inode !== TABLE_UNREADABLE) {
        if (inode > 0) this.stats.other_namespace_hits++;
        return inode;
      }
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

  private search(path: string, needle: Buffer): number {
    const table = this.reader.read(path);
    if (table === undefined) return TABLE_UNREADABLE;
    this.stats.socket_table_reads++;
    if (this.reader.truncated) this.stats.socket_tables_truncated++;
    return findSocketInode(table, needle);
  }
}
