/**
 * Counters of process attribution, under stable snake_case names for the agent's stats lines.
 * Times are milliseconds measured by the resolver's elapsed clock.
 */
export class SocketOwnerStats {
  /** Calls to resolve(), resolveServer() and resolveInode(); each is a hit or a miss. */
  lookups = 0;
  hits = 0;
  /** Lookups that returned UNKNOWN_PROCESS; the counters below say why. */
  misses = 0;
  connection_cache_hits = 0;
  connection_cache_evictions = 0;
  /** Remembered four-tuples that sock_diag showed held by another socket: looked up again. */
  reused_four_tuples = 0;
  /** Addresses that are neither IPv4 nor IPv6 text, mixed families, or ports out of range. */
  unparsable_addresses = 0;
  /** Connections asked of the kernel through netlink sock_diag (the own network namespace). */
  sock_diag_lookups = 0;
  /** sock_diag lookups that found the socket with an inode. */
  sock_diag_hits = 0;
  /** sock_diag lookups that failed (not a "no such socket"): the tables were read instead. */
  sock_diag_errors = 0;
  /** Lookups that read /proc/net/tcp{,6} because the sock_diag addon could not be loaded. */
  sock_diag_unavailable = 0;
  /** Reads of a /proc/net/tcp or tcp6 table: other namespaces, or no sock_diag. */
  socket_table_reads = 0;
  socket_tables_truncated = 0;
  /** The connection is in no socket table searched. */
  sockets_not_found = 0;
  /** Listed with inode 0: TIME_WAIT, SYN_RECV, or closed by its process. */
  sockets_without_inode = 0;
  /** Found in the table of a network namespace other than the sensor's. */
  other_namespace_hits = 0;
  /** Reads of a namespace's local addresses (its fib_trie and if_inet6). */
  namespace_address_reads = 0;
  /** Connections in no table for which no scan for new namespaces was allowed. */
  namespace_discoveries_rate_limited = 0;
  /** Namespaces beyond maxNetworkNamespaces, never searched. */
  network_namespaces_dropped = 0;
  /** Owners found in the inode index without scanning any process. */
  index_hits = 0;
  index_evictions = 0;
  /** A socket inode no process visible in the proc root holds. */
  owners_not_found = 0;
  /** Resolved sockets held by more than one process (the shared-socket rule chose). */
  shared_sockets = 0;
  /** A pid found running a different process (start time changed) than when it was scanned. */
  reused_pids = 0;
  recent_owner_scans = 0;
  recent_owner_evictions = 0;
  /** Rescans of the young processes (found by scans of new processes not long ago). */
  young_process_scans = 0;
  young_process_evictions = 0;
  /**
   * Sockets closed (gone, or without inode) while their owner was looked for: sock_diag said
   * so before a full scan, which was not made. Also counted in owners_not_found.
   */
  sockets_closed_during_search = 0;
  /**
   * resolveServer() lookups whose connection had no socket a process could hold (counted as
   * sockets_not_found, sockets_without_inode or sockets_closed_during_search) and that looked
   * for the listener of the local address and port instead.
   */
  listener_lookups = 0;
  /** Of listener_lookups, answered with the listener's owner (counted in hits). */
  listener_fallbacks = 0;
  /**
   * Of listener_fallbacks, the listener was held by several processes (a master and workers):
   * the shared-socket rule chose, and may have named a sibling of the worker that accepted.
   */
  shared_listener_fallbacks = 0;
  /** Of listener_lookups, nothing listened there any more, or no visible process held it. */
  listeners_not_found = 0;
  /** Listings of the proc root for the processes new since the last one. */
  incremental_scans = 0;
  /** Reads, one by one, of the pids allocated since the last such read or listing. */
  new_pid_scans = 0;
  full_scans = 0;
  /** Full scans a miss wanted but the budget (fullScanBurst, fullScanIntervalMs) refused. */
  full_scans_rate_limited = 0;
  /**
   * Client lookups answered by a kernel connect record (counted in hits), and those that found
   * none (counted in misses; /proc is not asked): a process outside the sensor's PID
   * namespace, or a record the kernel dropped.
   */
  connect_record_hits = 0;
  connect_record_misses = 0;
  /** Of connect_record_misses, the lookup itself failed (an errno other than ENOENT). */
  connect_record_errors = 0;
  /** Records the kernel had cut (path or command line) completed from /proc, still running. */
  connect_records_completed = 0;
  /** Executable paths cut in a connect record and not completed from /proc. */
  image_file_names_truncated = 0;
  /** Processes whose fd folder was read, by any kind of scan. */
  processes_scanned = 0;
  command_lines_truncated = 0;
  passwd_reloads = 0;
  passwd_truncated = 0;
  lookup_time_ms = 0;
  /** Time in scans of any kind, full scans included. */
  scan_time_ms = 0;
  full_scan_time_ms = 0;
}
