import { parseLocalAddresses } from './local-addresses.js';
import { ProcFileReader } from './proc-file-reader.js';
import type { SocketOwnerStats } from './socket-owner-stats.js';

/**
 * fib_trie prints each route twice (main and local tables), about 80 bytes a route: 1 MiB is
 * thousands of routes, far more than a container has.
 */
const MAX_ADDRESS_FILE_BYTES = 1 << 20;

interface Namespace {
  /** Processes in it, first scanned first; any of them shows its tables. */
  readonly members: Set<number>;
  /** Its local addresses as kernelAddressText; undefined until first read. */
  addresses: Set<string> | undefined;
}

/**
 * The network namespaces other than the sensor's that scanned processes are in, with their
 * member processes and their local addresses. /proc/PID/net shows the namespace of PID (proc(5)),
 * so one living member is enough to read a namespace's socket tables and addresses; the others
 * stand in when it exits. Namespaces are named by the target of /proc/PID/ns/net
 * ("net:[4026532291]").
 *
 * A connection is looked for only in the namespaces that own its local address, so one that is
 * in no namespace (seen after NAT, or forwarded) costs no table reads here. Addresses are read
 * when a namespace is first searched and again, all of them, at most once per refresh interval,
 * when a connection's local address is owned by none: a namespace can be given its address
 * after its first process started (a Kubernetes pod's sandbox gets it from the CNI plugin).
 */
export class NetworkNamespaces {
  private readonly namespaces = new Map<string, Namespace>();
  private readonly reader = new ProcFileReader(MAX_ADDRESS_FILE_BYTES);
  private addressesReadAt = Number.NaN;
  /** Grows each time a namespace is seen for the first time. */
  additions = 0;

  constructor(
    private readonly procRoot: string,
    /** The sensor's own namespace, whose tables are /proc/net/tcp{,6}; never listed here. */
    readonly ownNamespace: string,
    private readonly maxNamespaces: number,
    private readonly addressRefreshMs: number,
    private readonly stats: SocketOwnerStats,
  ) {}

  add(namespace: string, pid: number): void {
    if (namespace === this.ownNamespace) return;
    const known = this.namespaces.get(namespace);
    if (known !== undefined) {
      known.members.add(pid);
    } else if (this.namespaces.size >= this.maxNamespaces) {
      this.stats.network_namespaces_dropped++;
    } else {
      this.namespaces.set(namespace, { members: new Set([pid]), addresses: undefined });
      this.additions++;
    }
  }

  remove(namespace: string, pid: number): void {
    const known = this.namespaces.get(namespace);
    if (known === undefined) return;
    known.members.delete(pid);
    if (known.members.size === 0) this.namespaces.delete(namespace);
  }

  /** A member of `namespace`, undefined once all of them are gone. */
  representativeOf(namespace: string): number | undefined {
    return this.namespaces.get(namespace)?.members.values().next().value;
  }

  /** The namespaces that own `localAddress` (kernelAddressText), in the order first seen. */
  owning(localAddress: string, now: number): string[] {
    let owners = this.ownersOf(localAddress);
    if (owners.length === 0 && this.mayRefresh(now)) {
      for (const [name, namespace] of this.namespaces) namespace.addresses = this.read(name);
      owners = this.ownersOf(localAddress);
    }
    return owners;
  }

  clear(): void {
    this.namespaces.clear();
  }

  private ownersOf(localAddress: string): string[] {
    const owners: string[] = [];
    for (const [name, namespace] of [...this.namespaces]) {
      namespace.addresses ??= this.read(name);
      if (namespace.addresses.has(localAddress)) owners.push(name);
    }
    return owners;
  }

  private mayRefresh(now: number): boolean {
    const since = now - this.addressesReadAt; // NaN at first
    if (since >= 0 && since < this.addressRefreshMs) return false;
    this.addressesReadAt = now;
    return true;
  }

  /** Tries the members in turn until one's files can be read; forgets those that exited. */
  private read(namespace: string): Set<string> {
    for (let pid = this.representativeOf(namespace); pid !== undefined;
      pid = this.representativeOf(namespace)) {
      const folder = `${this.procRoot}/${pid}/net`;
      const fibTrie = this.reader.read(`${folder}/fib_trie`)?.toString('latin1');
      if (fibTrie !== undefined) {
        // if_inet6 is absent when IPv6 is disabled
        const ifInet6 = this.reader.read(`${folder}/if_inet6`)?.toString('latin1') ?? '';
        this.stats.namespace_address_reads++;
        return parseLocalAddresses(fibTrie, ifInet6);
      }
      this.remove(namespace, pid);
    }
    return new Set();
  }
}
