import { once } from 'node:events';
import { createServer, connect, type AddressInfo } from 'node:net';
import { LinkType } from '../src/capture/link-type.js';
import type { SocketOwnerResolver } from '../src/proc/socket-owner-resolver.js';
import { ReplayAttribution } from './replay-attribution.js';
import { SensorPipeline, type SensorPipelineOptions } from './sensor-pipeline.js';

/**
 * A short-lived sender can finish a loopback SMTP session in 2 to 3 ms, and the first
 * connection the sensor sees was missed: its first packet went through code not yet compiled
 * and a resolver that had not yet opened its netlink socket (measured: 2 ms more before the
 * lookup, and 1 ms more in it). So before capturing, one connection of the sensor's own is
 * resolved, and one synthetic SYN goes through a throwaway pipeline.
 */
export async function warmUp(
  resolver: SocketOwnerResolver | undefined, pipelineOptions: SensorPipelineOptions,
): Promise<void> {
  const scratch = new SensorPipeline({ ...pipelineOptions, ports: [25],
    attribution: new ReplayAttribution(), emit: () => {} });
  const header = Buffer.alloc(16);
  scratch.processPacket(WARM_UP_SYN, header, LinkType.RAW);
  scratch.finish();
  if (resolver !== undefined) await resolveOwnConnection(resolver);
}

async function resolveOwnConnection(resolver: SocketOwnerResolver): Promise<void> {
  const server = createServer((socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const client = connect(port, '127.0.0.1');
  await once(client, 'connect');
  resolver.resolve('127.0.0.1', client.localPort!, '127.0.0.1', port, Date.now());
  client.destroy();
  server.close();
}

/** An IPv4 SYN from 127.0.0.1:40000 to 127.0.0.1:25, raw IP (RFC 791, RFC 9293). */
const WARM_UP_SYN = Buffer.from(
  '45000028000040004006000' + '07f0000017f000001' + '9c400019000000010000000050022000' + '00000000',
  'hex');
