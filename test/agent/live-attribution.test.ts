import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LiveAttribution } from '../../agent/live-attribution.js';
import type { LocalAddresses } from '../../agent/local-addresses.js';
import type { ConnectionEndpoints } from '../../src/events/connection-context.js';
import { type ProcessInfo, UNKNOWN_PROCESS } from '../../src/proc/process-info.js';
import type { SocketOwnerResolver } from '../../src/proc/socket-owner-resolver.js';

/** Documentation addresses (RFC 5737): none is this machine's. */
const HOST = '192.0.2.5';
const CONTAINER = '198.51.100.2';
const REMOTE = '203.0.113.7';
const PYTHON: ProcessInfo = { ...UNKNOWN_PROCESS, processId: '4242',
  imageFileName: '/usr/bin/python3.11' };

/** A resolver that knows one container address and one owned connection (client port 40000). */
const resolver = {
  resolve: (_address: string, port: number) => (port === 40000 ? PYTHON : UNKNOWN_PROCESS),
  resolveServer: () => UNKNOWN_PROCESS,
  isNamespaceAddress: (address: string) => address === CONTAINER,
} as unknown as SocketOwnerResolver;
const hostAddresses = { has: (address: string) => address === HOST } as unknown as LocalAddresses;

function connection(clientAddress: string, clientPort: number, serverAddress: string)
  : ConnectionEndpoints {
  return { ipVersion: 4, clientAddress, clientPort, serverAddress, serverPort: 25,
    startTime: 1 };
}

describe('LiveAttribution: which connections are the host\'s own', () => {
  const cases: Array<[string, ConnectionEndpoints, number | undefined, string]> = [
    ['a client on a host address, its process found', connection(HOST, 40000, REMOTE), 0,
      '4242'],
    ['a client on a host address, its process gone', connection(HOST, 40001, REMOTE), 0, ''],
    ['a container client that exited before its lookup', connection(CONTAINER, 40001, REMOTE),
      0, ''],
    ['a socket a local process owns, on no known address', connection(REMOTE, 40000, HOST), 0,
      '4242'],
    ['a remote client of a local server, --inbound not given', connection(REMOTE, 40001, HOST),
      undefined, ''],
    ['neither end is this host (forwarded)', connection(REMOTE, 40001, '203.0.113.8'),
      undefined, ''],
  ];
  for (const [name, endpoints, direction, pid] of cases) {
    test(name, () => {
      const attribution = new LiveAttribution(resolver, hostAddresses, false);
      const attributed = attribution.atFirstPacket(endpoints, 1);
      assert.equal(attributed?.direction, direction);
      if (attributed !== undefined) assert.equal(attributed.process.processId, pid);
    });
  }

  test('unattributed outbound connections are counted', () => {
    const attribution = new LiveAttribution(resolver, hostAddresses, false);
    attribution.atFirstPacket(connection(CONTAINER, 40001, REMOTE), 1);
    attribution.atFirstPacket(connection(HOST, 40000, REMOTE), 1);
    assert.equal(attribution.counters.outbound_connections, 2);
    assert.equal(attribution.counters.processes_not_found, 1);
  });
});
