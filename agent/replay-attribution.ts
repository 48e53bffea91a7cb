import type { ConnectionEndpoints } from '../src/events/connection-context.js';
import { type ProcessInfo, UNKNOWN_PROCESS } from '../src/proc/process-info.js';
import type { AttributedConnection, ConnectionAttribution } from './connection-attribution.js';

const OUTBOUND_UNKNOWN: AttributedConnection = { direction: 0, process: UNKNOWN_PROCESS };

/** A capture file does not say which process sent its packets: every client is "local". */
export class ReplayAttribution implements ConnectionAttribution {
  atFirstPacket(): AttributedConnection {
    return OUTBOUND_UNKNOWN;
  }

  serverProcess(_endpoints: ConnectionEndpoints): ProcessInfo {
    return UNKNOWN_PROCESS;
  }
}
