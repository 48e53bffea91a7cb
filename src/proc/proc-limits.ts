/**
 * Limits of process attribution: its caches, and how much of a /proc file it reads. What a limit
 * drops is counted in SocketOwnerStats under the name given here.
 */
export interface ProcLimits {
  /**
   * Connections whose owner is remembered; the least recently used goes first
   * (connection_cache_evictions).
   */
  maxCachedConnections: number;
  /**
   * How long, in capture time, a remembered owner is returned without reading /proc again. Kept
   * short because a closed connection's four-tuple can be used again by another process.
   */
  connectionCacheTtlMs: number;
  /** Socket inodes in the inode -> process index (index_evictions). */
  maxIndexedSockets: number;
  /**
   * Processes that owned a resolved socket, whose fds are scanned first on a miss; the least
   * recently used goes first (recent_owner_evictions).
   */
  maxRecentOwners: number;
  /**
   * Processes found by scans of new processes that are rescanned on a miss, because they may
   * have connected since; the oldest first found goes first (young_process_evictions).
   */
  maxYoungProcesses: number;
  /** How long, in capture time, a process found by a scan of new processes stays young. */
  youngProcessMs: number;
  /** Network namespaces other than the sensor's that are searched (network_namespaces_dropped). */
  maxNetworkNamespaces: number;
  /**
   * The addresses of every other namespace are read again at most this often, in capture time,
   * when a connection's local address belongs to none of them (namespace_address_reads).
   */
  namespaceAddressRefreshMs: number;
  /**
   * A connection in no socket table makes the processes new since the last scan be scanned, for
   * a namespace not seen yet, at most once per this much capture time
   * (namespace_discoveries_rate_limited).
   */
  namespaceDiscoveryIntervalMs: number;
  /**
   * Namespace discoveries that may follow one another without waiting. A namespace whose only
   * members are short-lived clients (an `ip netns exec` script) has no process left to read its
   * tables through, so each new client there needs a discovery.
   */
  namespaceDiscoveryBurst: number;
  /** Full scans of every /proc/PID/fd that may follow one another without waiting. */
  fullScanBurst: number;
  /** After the burst, one full scan per this much capture time (full_scans_rate_limited). */
  fullScanIntervalMs: number;
  /** Bytes of /proc/PID/cmdline kept (command_lines_truncated). */
  maxCommandLineBytes: number;
  /** Bytes of one /proc/net/tcp or tcp6 read (socket_tables_truncated). */
  maxSocketTableBytes: number;
  /** Bytes of the passwd file read (passwd_truncated). */
  maxPasswdBytes: number;
}

/**
 * A full scan costs about 40 µs per process (measured: 11 µs for stat, the rest for ns/net and
 * the fd folder and its links), so after the burst one every 2 s on a 4,000-process host is
 * about 8% of a core, in the worst case, when every lookup misses.
 */
export const DEFAULT_PROC_LIMITS: Readonly<ProcLimits> = Object.freeze({
  maxCachedConnections: 16_384,
  connectionCacheTtlMs: 10_000,
  maxIndexedSockets: 262_144,
  maxRecentOwners: 16,
  // A rescan costs about 20 µs (stat, fd folder, links), so 256 is 5 ms when none holds it.
  maxYoungProcesses: 256,
  // A burst of python3 clients on two cores took up to 3 s from start to connect.
  youngProcessMs: 10_000,
  maxNetworkNamespaces: 1_024,
  namespaceAddressRefreshMs: 10_000,
  namespaceDiscoveryIntervalMs: 1_000,
  // A burst of one missed the second such client within a second (live test); a discovery
  // lists the new processes, 1 to 2 ms.
  namespaceDiscoveryBurst: 4,
  fullScanBurst: 3,
  fullScanIntervalMs: 2_000,
  // Room for any ordinary command line; a longer one is cut, not dropped.
  maxCommandLineBytes: 32_768,
  // 64 MiB holds about 400,000 lines of /proc/net/tcp6 (166 bytes each).
  maxSocketTableBytes: 64 << 20,
  maxPasswdBytes: 16 << 20,
});
