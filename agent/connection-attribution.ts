import type { ConnectionEndpoints } from '../src/events/connection-context.js';
import type { ProcessInfo } from '../src/proc/process-info.js';

/** A connection to report: which side is local, and the process known at its first packet. */
export interface AttributedConnection {
  /** 0: the client is local (outbound); 1: the server is local (inbound). */
  direction: 0 | 1;
  process: ProcessInfo;
}

/**
 * Decides which connections are reported and which local process each belongs to. Called
 * synchronously while the connection's packets are processed, with their capture time.
 */
export interface ConnectionAttribution {
  /** At the connection's first packet: how to report it, or undefined to ignore it. */
  atFirstPacket(endpoints: ConnectionEndpoints, time: number): AttributedConnection | undefined;
  /**
   * Inbound connections, at the server's first bytes: a server process owns the connection's
   * socket only once it has accepted it, which it has by the time it sends its greeting. A
   * connection closed before that lookup is given the owner of its listening socket.
   */
  serverProcess(endpoints: ConnectionEndpoints, time: number): ProcessInfo;
}
