import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { SOCKET_NOT_LISTED } from './socket-table-search.js';
import type { TcpTuple } from './tcp-tuple.js';

/**
 * The addon built by `npm run build:native` from native/sock-diag; this file runs as
 * dist/src/proc/sock-diag.js, three folders below the package root.
 */
const ADDON_URL = new URL('../../../native/sock-diag/build/Release/sock_diag.node',
  import.meta.url);

/** native/sock-diag/sock_diag.c states the contract of these functions. */
interface SockDiagAddon {
  lookUp(family: 4 | 6, localAddress: Uint8Array, localPort: number, remoteAddress: Uint8Array,
    remotePort: number, result: Uint32Array): number;
  lookUpListener(family: 4 | 6, localAddress: Uint8Array, localPort: number,
    result: Uint32Array): number;
  close(): void;
}

/** Index in the addon's result array. */
const INODE = 0;
const UID = 1;
const STATE = 2;

/** Loaded at most once per process: undefined until tried, null when it could not be. */
let loadedAddon: SockDiagAddon | null | undefined;

function loadAddon(): SockDiagAddon | undefined {
  if (loadedAddon === undefined) {
    try {
      loadedAddon = createRequire(import.meta.url)(fileURLToPath(ADDON_URL)) as SockDiagAddon;
    } catch {
      loadedAddon = null; // not built, or not Linux; the caller counts the lookups it misses
    }
  }
  return loadedAddon ?? undefined;
}

/**
 * Exact lookup of one TCP socket of the sensor's own network namespace through netlink
 * sock_diag (sock_diag(7)): the kernel's hash lookup, a few microseconds, where reading
 * /proc/net/tcp costs milliseconds. A netlink socket sees only the namespace it was opened in,
 * so sockets of other namespaces are not found here.
 *
 * The addon keeps one netlink socket per Node thread, opened at the first lookup and shared by
 * every SockDiag of the thread; close() closes it and the next lookup opens another.
 *
 * Limitation: a socket bound to a device (SO_BINDTODEVICE, or a VRF) matches only a request that
 * names the device (inet_match() compares the index) and requests name none (idiag_if 0), so
 * its connection is reported not listed (sockets_not_found) though /proc/net/tcp shows it.
 */
export class SockDiag {
  private readonly result = new Uint32Array(3);
  /** The errno of the last lookup, for diagnostics: 0 found, ENOENT not found, else failed. */
  lastError = 0;

  private constructor(private readonly addon: SockDiagAddon) {}

  /** Undefined when the addon is not built or cannot be loaded here. */
  static load(): SockDiag | undefined {
    const addon = loadAddon();
    return addon === undefined ? undefined : new SockDiag(addon);
  }

  /**
   * The connection's socket inode; 0 when the kernel has it without one (TIME_WAIT, SYN_RECV,
   * closed by its process: sock_i_ino() of an orphan is 0); SOCKET_NOT_LISTED when no socket
   * has the four-tuple; undefined when the lookup itself failed (lastError says why). An IPv4
   * connection is also looked for as IPv4-mapped addresses, which an IPv6 socket holds.
   *
   * Never a listener: for a four-tuple no socket has, the kernel answers with the listener of
   * the local port (its lookup of an incoming segment), and the addon refuses that reply, so a
   * connection gone since is SOCKET_NOT_LISTED, not its server's listening socket.
   */
  findInode(tuple: TcpTuple): number | undefined {
    return this.inodeOf(this.addon.lookUp(tuple.family, tuple.localAddressBytes,
      tuple.localPort, tuple.remoteAddressBytes, tuple.remotePort, this.result));
  }

  /**
   * The inode of the socket listening for new connections to the tuple's local address and
   * port (the remote end is not used): bound to that address, or else to the wildcard (0.0.0.0
   * or ::, and for IPv4 an IPv6 socket on :: that is not IPV6_V6ONLY), as the kernel picks it
   * for an incoming SYN. SOCKET_NOT_LISTED when nothing listens there; undefined when the
   * lookup failed. The kernel does not check that the address is local: a wildcard listener
   * answers for any address, so ask only about addresses of this namespace.
   */
  findListenerInode(tuple: TcpTuple): number | undefined {
    return this.inodeOf(this.addon.lookUpListener(tuple.family, tuple.localAddressBytes,
      tuple.localPort, this.result));
  }

  /** The uid that owns the socket last found (sock_i_uid(): its creator's fsuid). */
  get uid(): number {
    return this.result[UID];
  }

  /** The TCP state of the socket last found, as include/net/tcp_states.h numbers it. */
  get state(): number {
    return this.result[STATE];
  }

  close(): void {
    this.addon.close();
  }

  private inodeOf(error: number): number | undefined {
    this.lastError = error;
    if (error === 0) return this.result[INODE];
    return error === constants.errno.ENOENT ? SOCKET_NOT_LISTED : undefined;
  }
}
