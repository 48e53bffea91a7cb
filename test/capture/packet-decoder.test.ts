import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CaptureStats } from '../../src/capture/capture-stats.js';
import { LinkType, linkTypeFromNodePcap } from '../../src/capture/link-type.js';
import { PacketDecoder } from '../../src/capture/packet-decoder.js';

const PAYLOAD = Buffer.from('EHLO x\r\n');

/** TCP header (20 bytes, no options) from port 40000 to 25, seq 1000, ACK|PSH. */
function tcp(): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(40000, 0);
  h.writeUInt16BE(25, 2);
  h.writeUInt32BE(1000, 4);
  h.writeUInt32BE(2000, 8);
  h[12] = 5 << 4;
  h[13] = 0x18;
  return Buffer.concat([h, PAYLOAD]);
}

function ip4(inner: Buffer, fragment = 0): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + inner.length, 2);
  h.writeUInt16BE(fragment, 6);
  h[8] = 64;
  h[9] = 6;
  Buffer.from([192, 0, 2, 1, 192, 0, 2, 25]).copy(h, 12);
  return Buffer.concat([h, inner]);
}

/** IPv6 with a hop-by-hop and a destination options header before TCP. */
function ip6(inner: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  const hopByHop = Buffer.from([60, 0, 1, 4, 0, 0, 0, 0]);
  const destination = Buffer.from([6, 1, ...Array(14).fill(0)]);
  h.writeUInt16BE(hopByHop.length + destination.length + inner.length, 4);
  h[6] = 0;
  h[7] = 64;
  h[8] = 0x20;
  h[9] = 0x01;
  h[23] = 1;
  h[24] = 0x20;
  h[25] = 0x01;
  h[39] = 0x25;
  return Buffer.concat([h, hopByHop, destination, inner]);
}

function ethernet(ip: Buffer, tags: number[] = []): Buffer {
  const type = ip[0] >> 4 === 4 ? 0x0800 : 0x86dd;
  const parts: Buffer[] = [Buffer.alloc(12)];
  for (const tpid of tags) parts.push(Buffer.from([tpid >> 8, tpid & 255, 0, 7]));
  parts.push(Buffer.from([type >> 8, type & 255]), ip, Buffer.alloc(6));
  return Buffer.concat(parts);
}

function sll(ip: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(ip[0] >> 4 === 4 ? 0x0800 : 0x86dd, 14);
  return Buffer.concat([h, ip]);
}

function sll2(ip: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(ip[0] >> 4 === 4 ? 0x0800 : 0x86dd, 0);
  return Buffer.concat([h, ip]);
}

function loopback(ip: Buffer, littleEndian: boolean): Buffer {
  const h = Buffer.alloc(4);
  const family = ip[0] >> 4 === 4 ? 2 : 30;
  if (littleEndian) h.writeUInt32LE(family);
  else h.writeUInt32BE(family);
  return Buffer.concat([h, ip]);
}

function decoder() {
  const ports = new Uint8Array(65536);
  ports[25] = 1;
  const stats = new CaptureStats();
  return { decoder: new PacketDecoder(ports, stats), stats };
}

/** The decoded payload as text, or undefined when the packet was refused. */
function decodePayload(frame: Buffer, linkType: number, capturedLength = frame.length) {
  const { decoder: d } = decoder();
  // Trailing bytes stand for the rest of the capture library's larger buffer.
  const buf = Buffer.concat([frame, Buffer.alloc(64, 0x41)]);
  if (!d.decode(buf, capturedLength, linkType)) return undefined;
  const s = d.segment;
  assert.equal(s.sourcePort, 40000);
  assert.equal(s.destinationPort, 25);
  assert.equal(s.sequence, 1000);
  assert.equal(s.acknowledgement, 2000);
  return buf.toString('latin1', s.payloadStart, s.payloadEnd);
}

describe('PacketDecoder link layers', () => {
  const frames: [string, Buffer, number][] = [];
  for (const [family, ip] of [['IPv4', ip4(tcp())], ['IPv6', ip6(tcp())]] as const) {
    frames.push(
      [`Ethernet ${family}`, ethernet(ip), LinkType.ETHERNET],
      [`802.1Q ${family}`, ethernet(ip, [0x8100]), LinkType.ETHERNET],
      [`QinQ ${family}`, ethernet(ip, [0x88a8, 0x8100]), LinkType.ETHERNET],
      [`Linux cooked v1 ${family}`, sll(ip), LinkType.LINUX_SLL],
      [`Linux cooked v2 ${family}`, sll2(ip), LinkType.LINUX_SLL2],
      [`raw ${family}`, ip, LinkType.RAW],
      [`raw (LINKTYPE 101) ${family}`, ip, LinkType.RAW_LINKTYPE],
      [`BSD loopback little-endian ${family}`, loopback(ip, true), LinkType.NULL],
      [`BSD loopback big-endian ${family}`, loopback(ip, false), LinkType.LOOP],
    );
  }
  for (const [name, frame, linkType] of frames) {
    test(`${name}: payload found, Ethernet padding ignored`, () => {
      assert.equal(decodePayload(frame, linkType), PAYLOAD.toString());
    });
  }

  test('IPv6 addresses are located past the fixed header', () => {
    const { decoder: d } = decoder();
    assert.ok(d.decode(ip6(tcp()), 1000, LinkType.RAW));
    assert.equal(d.segment.ipVersion, 6);
    assert.equal(d.segment.buf[d.segment.sourceAddressOffset], 0x20);
    assert.equal(d.segment.buf[d.segment.destinationAddressOffset + 15], 0x25);
  });
});

describe('PacketDecoder refusals', () => {
  test('another port is not decoded', () => {
    const frame = ethernet(ip4(tcp()));
    const ports = new Uint8Array(65536);
    ports[587] = 1;
    const stats = new CaptureStats();
    assert.equal(new PacketDecoder(ports, stats).decode(frame, frame.length, 1), false);
    assert.equal(stats.other_port_packets, 1);
  });

  test('IP fragments are counted and skipped', () => {
    const { decoder: d, stats } = decoder();
    const frame = ethernet(ip4(tcp(), 0x2000));
    assert.equal(d.decode(frame, frame.length, LinkType.ETHERNET), false);
    assert.equal(stats.ip_fragments, 1);
  });

  test('a header cut by the snap length is malformed, not read past the capture', () => {
    const { decoder: d, stats } = decoder();
    const frame = ethernet(ip4(tcp()));
    assert.equal(d.decode(frame, 30, LinkType.ETHERNET), false);
    assert.equal(stats.malformed_packets, 1);
  });

  test('a payload cut by the snap length reports the missing bytes', () => {
    const { decoder: d, stats } = decoder();
    const frame = ethernet(ip4(tcp()));
    assert.ok(d.decode(frame, 14 + 20 + 20 + 3, LinkType.ETHERNET));
    assert.equal(d.segment.payloadEnd - d.segment.payloadStart, 3);
    assert.equal(d.segment.missingPayloadLength, PAYLOAD.length - 3);
    assert.equal(stats.truncated_segments, 1);
  });

  test('ARP and UDP are not TCP', () => {
    const { decoder: d, stats } = decoder();
    const arp = Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x06]), Buffer.alloc(28)]);
    assert.equal(d.decode(arp, arp.length, LinkType.ETHERNET), false);
    const udp = ip4(tcp());
    udp[9] = 17;
    assert.equal(d.decode(udp, udp.length, LinkType.RAW), false);
    assert.equal(stats.non_tcp_packets, 2);
  });
});

describe('linkTypeFromNodePcap', () => {
  test('known names and "Unknown linktype N" map to DLT numbers', () => {
    assert.equal(linkTypeFromNodePcap('LINKTYPE_ETHERNET'), 1);
    assert.equal(linkTypeFromNodePcap('LINKTYPE_LINUX_SLL'), 113);
    assert.equal(linkTypeFromNodePcap('Unknown linktype 276'), 276);
    assert.equal(linkTypeFromNodePcap('something else'), -1);
  });
});
