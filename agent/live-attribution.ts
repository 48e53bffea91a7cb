import type { ConnectionEndpoints } from '../src/events/connection-context.js';
import { type ProcessInfo, UNKNOWN_PROCESS } from '../src/proc/process-info.js';
import type { SocketOwnerResolver } from '../src/proc/socket-owner-resolver.js';
import type { AttributedConnection, ConnectionAttribution } from './connection-attribution.js';
import type { LocalAddresses } from './local-addresses.js';

/** How connections were classified; reported in the agent's stats lines. */
export class AttributionCounters {
  outbound_connections = 0;
  inbound_connections = 0;
  /** Inbound connections not reported because --inbound was not given. */
  inbound_connections_ignored = 0;
  /** Neither end is this host nor a process on it (a router or bridge forwarding traffic). */
  transit_connections_ignored = 0;
  /** Reported connections whose local process was not found: their process fields are "". */
  processes_not_found = 0;
}

/**
 * Live attribution. A connection is outbound when its client is a local process: the client
 * address is one of the host's or of a network namespace on it (containers), or a process (in
 * any network namespace) owns the client socket. Otherwise it is inbound when the server
 * address is the host's.
 * The client's process is looked up at the first packet (the SYN, while it is connecting, so
 * even a sender that exits right after QUIT is found); the server's at its first bytes, when it
 * has accepted the connection, or, when the connection is already gone then (a remote client
 * that sends at once is done in milliseconds), as the owner of the listening socket
 * (SocketOwnerResolver.resolveServer, docs/process-attribution.md). The kernel connect records
 * of a client are there before its SYN can be captured, so one lookup at the SYN is all.
 */
export class LiveAttribution implements ConnectionAttribution {
  readonly counters = new AttributionCounters();

  /** @param resolver undefined when attribution is disabled: processes are then unknown. */
  constructor(
    private readonly resolver: SocketOwnerResolver | undefined,
    private readonly localAddresses: LocalAddresses,
    private readonly reportInbound: boolean,
  ) {}

  atFirstPacket(e: ConnectionEndpoints, time: number): AttributedConnection | undefined {
    const clientIsLocal = this.localAddresses.has(e.clientAddress, time);
    const client = this.resolver?.resolve(e.clientAddress, e.clientPort, e.serverAddress,
      e.serverPort, time, e.clientInitialSequence) ?? UNKNOWN_PROCESS;
    // A container's client that exited before its lookup is still this host's: its address
    // belongs to one of the host's network namespaces.
    if (clientIsLocal || client !== UNKNOWN_PROCESS
      || this.resolver?.isNamespaceAddress(e.clientAddress, time) === true) {
      this.counters.outbound_connections++;
      if (client === UNKNOWN_PROCESS) this.counters.processes_not_found++;
      return { direction: 0, process: client };
    }
    if (!this.localAddresses.has(e.serverAddress, time)) {
      this.counters.transit_connections_ignored++;
      return undefined;
    }
    if (!this.reportInbound) {
      this.counters.inbound_connections_ignored++;
      return undefined;
    }
    this.counters.inbound_connections++;
    return { direction: 1, process: UNKNOWN_PROCESS };
  }

  serverProcess(e: ConnectionEndpoints, time: number): ProcessInfo {
    const server = this.resolver?.resolveServer(e.serverAddress, e.serverPort, e.clientAddress,
      e.clientPort, time) ?? UNKNOWN_PROCESS;
    if (server === UNKNOWN_PROCESS) this.counters.processes_not_found++;
    return server;
  }
}
