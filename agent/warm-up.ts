import { once } from 'node:events';
import { createServer, connect, type AddressInfo } from 'node:net';
import { LinkType } from '../src/capture/link-type.js';
import type { SocketOwnerResolver } from '../src/proc/socket-owner-resolver.js';
import { ReplayAttribution } from './replay-attribution.js';
import { SensorPipeline, type SensorPipelineOptions } from './sensor-pipeline.js';

/**
 * A short-lived sender can finish a loopback SMTP session in 2 to 3 ms, and the first
 * connections the sensor saw were missed: their packets went through code not yet compiled
 * and a resolver that had not yet opened its netlink socket (measured: 2 ms more before the
 * first lookup, 1 ms more in it, and up to 30 ms for a first burst of five clients). So
 * before capturing, one connection of the sensor's own is resolved, and a synthetic SMTP
 * session goes through a throwaway pipeline a few times, for the compiler to see it hot.
 */
export async function warmUp(
  resolver: SocketOwnerResolver | undefined, pipelineOptions: SensorPipelineOptions,
): Promise<void> {
  const scratch = new SensorPipeline({ ...pipelineOptions, ports: [25],
    attribution: new ReplayAttribution(), emit: () => {} });
  for (let round = 0; round < WARM_UP_ROUNDS; round++) playWarmUpSession(scratch, round);
  scratch.finish();
  if (resolver !== undefined) await resolveOwnConnection(resolver);
}

/**
 * Plays the synthetic session into a pipeline that has port 25 among its ports, from client
 * port 40000 + `round`: another connection each round.
 */
export function playWarmUpSession(pipeline: SensorPipeline, round: number): void {
  for (const { packet, fromClient } of WARM_UP_SESSION) {
    packet.writeUInt16BE(WARM_UP_CLIENT_PORT + round, fromClient ? 20 : 22);
    WARM_UP_HEADER.writeUInt32LE(packet.length, HEADER_CAPTURED_LENGTH);
    pipeline.processPacket(packet, WARM_UP_HEADER, LinkType.RAW);
  }
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

const WARM_UP_ROUNDS = 20;
const CLIENT_TO_SERVER = 0;
const SERVER_TO_CLIENT = 1;
/** TCP flags (RFC 9293 section 3.1). */
const SYN = 0x02;
const ACK = 0x10;
const PSH_ACK = 0x18;
const FIN_ACK = 0x11;

const WARM_UP_CLIENT_PORT = 40000;
/** struct pcap_pkthdr: capture time 0, the captured length set per packet. */
const WARM_UP_HEADER = Buffer.alloc(16);
const HEADER_CAPTURED_LENGTH = 8;

/** A whole session between 127.0.0.1:40000 and 127.0.0.1:25 as raw IPv4 packets. */
const WARM_UP_SESSION = buildSession();

function buildSession(): { packet: Buffer; fromClient: boolean }[] {
  const packets: { packet: Buffer; fromClient: boolean }[] = [];
  const sequence = [1000, 5000];
  const send = (direction: number, flags: number, text = '') => {
    const payload = Buffer.from(text, 'latin1');
    packets.push({ packet: segment(direction, flags, sequence[direction],
      sequence[1 - direction], payload), fromClient: direction === CLIENT_TO_SERVER });
    sequence[direction] += payload.length + ((flags & (SYN | 0x01)) !== 0 ? 1 : 0);
  };
  send(CLIENT_TO_SERVER, SYN);
  send(SERVER_TO_CLIENT, SYN | ACK);
  send(SERVER_TO_CLIENT, PSH_ACK, '220 warm-up ESMTP\r\n');
  const exchanges = [['EHLO warm-up\r\n', '250-warm-up\r\n250 PIPELINING\r\n'],
    ['MAIL FROM:<a@warm-up>\r\n', '250 ok\r\n'], ['RCPT TO:<b@warm-up>\r\n', '250 ok\r\n'],
    ['DATA\r\n', '354 go\r\n'], ['Subject: x\r\n\r\nbody\r\n.\r\n', '250 queued\r\n'],
    ['QUIT\r\n', '221 bye\r\n']];
  for (const [command, reply] of exchanges) {
    send(CLIENT_TO_SERVER, PSH_ACK, command);
    send(SERVER_TO_CLIENT, PSH_ACK, reply);
  }
  send(CLIENT_TO_SERVER, FIN_ACK);
  send(SERVER_TO_CLIENT, FIN_ACK);
  return packets;
}

/** One raw IPv4 TCP segment (RFC 791, RFC 9293) on loopback. */
function segment(direction: number, flags: number, sequence: number, acknowledgement: number,
  payload: Buffer): Buffer {
  const packet = Buffer.alloc(40 + payload.length);
  packet[0] = 0x45;
  packet.writeUInt16BE(packet.length, 2);
  packet[8] = 64;
  packet[9] = 6;
  packet.writeUInt32BE(0x7f000001, 12);
  packet.writeUInt32BE(0x7f000001, 16);
  packet.writeUInt16BE(direction === CLIENT_TO_SERVER ? WARM_UP_CLIENT_PORT : 25, 20);
  packet.writeUInt16BE(direction === CLIENT_TO_SERVER ? 25 : WARM_UP_CLIENT_PORT, 22);
  packet.writeUInt32BE(sequence >>> 0, 24);
  packet.writeUInt32BE(acknowledgement >>> 0, 28);
  packet[32] = 5 << 4;
  packet[33] = flags;
  payload.copy(packet, 40);
  return packet;
}
