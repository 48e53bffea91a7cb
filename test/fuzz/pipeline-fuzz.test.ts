import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ReplayAttribution } from '../../agent/replay-attribution.js';
import { SensorPipeline } from '../../agent/sensor-pipeline.js';
import { CaptureStats } from '../../src/capture/capture-stats.js';
import { PacketDecoder } from '../../src/capture/packet-decoder.js';
import type { ReassemblyLimits } from '../../src/capture/reassembly-limits.js';
import type { StreamHandler } from '../../src/capture/stream-handler.js';
import { TcpReassembler } from '../../src/capture/tcp-reassembler.js';
import type { PcapFrame } from '../helpers/pcap-writer.js';
import {
  ENCAPSULATION, reorderAndDuplicate, seededRandom, sessionFrames, sessionPlan,
} from '../capture/smtp-session-plan.js';

/** Wall-clock budget of the run: `npm test` as a whole takes about a minute. */
const FUZZ_MILLISECONDS = 8_000;
const SEED = 20_240_601;
/** Small limits, so that a few seconds of packets reach every one of them. */
const LIMITS: ReassemblyLimits = {
  maxFlows: 64,
  maxBufferedBytesPerStream: 4096,
  maxBufferedBytesTotal: 16 * 1024,
  idleTimeoutMs: 30_000,
  recentBytesPerStream: 64,
};
/** Heap growth allowed over the run; the limits above bound the sensor's share far below it. */
const MAX_HEAP_GROWTH_BYTES = 96 * 1024 * 1024;
const LINK_TYPES = [1, 1, 1, 1, 0, 12, 113, 276, 228, 9999];
const SILENT: StreamHandler<null> = {
  onFlowOpen: () => null, onData() {}, onGap() {}, onAnomaly() {}, onFlowClose() {},
};

/** Sessions of many shapes, cut, reordered and duplicated: the packets to mutate. */
function corpus(): PcapFrame[][] {
  return fc.sample(fc.tuple(sessionPlan, fc.nat()), { numRuns: 40, seed: SEED })
    .map(([plan, seed]) => reorderAndDuplicate(sessionFrames(plan), seed, 4));
}

/**
 * One mutation of a frame, chosen at random: bytes flipped (headers mostly), a random port
 * or sequence number, a snap length that cuts the frame, or random bytes of any length.
 */
function mutate(frame: Buffer, random: () => number): { bytes: Buffer; captured: number } {
  const bytes = Buffer.from(frame);
  const choice = random();
  const at = (limit: number) => Math.floor(random() * limit);
  if (choice < 0.3) {
    for (let n = 1 + at(4); n > 0; n--) bytes[at(Math.min(bytes.length, 80))] = at(256);
  } else if (choice < 0.45) {
    bytes.writeUInt16BE(40000 + at(400), 34 + 2 * at(2));
  } else if (choice < 0.6) {
    bytes.writeUInt32BE(at(0x100000000), 38 + 4 * at(2));
  } else if (choice < 0.8) {
    return { bytes, captured: at(bytes.length + 1) };
  } else {
    const noise = Buffer.alloc(at(200));
    for (let i = 0; i < noise.length; i++) noise[i] = at(256);
    return { bytes: noise, captured: noise.length };
  }
  return { bytes, captured: bytes.length };
}

test('random and mutated packets through the whole pipeline: no exception, bounded memory',
  () => {
    const random = seededRandom(SEED);
    const sessions = corpus();
    const events: unknown[] = [];
    const pipeline = new SensorPipeline({ ports: [25, 587], host: { aid: 'f', computerName: 'f' },
      limits: LIMITS, attribution: new ReplayAttribution(), emit: (e) => events.push(e) });
    const ports = new Uint8Array(65536);
    ports[25] = ports[587] = 1;
    const stats = new CaptureStats();
    const decoder = new PacketDecoder(ports, stats);
    const reassembler = new TcpReassembler(SILENT, ports, LIMITS, stats);
    const header = Buffer.alloc(16);
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Date.now();
    let seconds = 1_700_000_000;
    let packets = 0;
    let peakBuffered = 0;
    while (Date.now() - started < FUZZ_MILLISECONDS) {
      const session = sessions[Math.floor(random() * sessions.length)];
      const port = 40000 + Math.floor(random() * 1000);
      const mutationRate = random();
      // Half the sessions stop early, so that open flows pile up to the flow limit.
      const length = random() < 0.5 ? session.length : Math.floor(random() * session.length);
      for (const frame of session.slice(0, length)) {
        const { bytes, captured } = random() < mutationRate ? mutate(frame.bytes, random)
          : { bytes: Buffer.from(frame.bytes), captured: frame.bytes.length };
        if (bytes.length >= 38) bytes.writeUInt16BE(port, bytes[11] === 0x10 ? 34 : 36);
        seconds += random() < 0.001 ? Math.floor(random() * 120) - 20 : 0;
        header.writeUInt32LE(seconds, 0);
        header.writeUInt32LE(Math.floor(random() * 1_000_000), 4);
        header.writeUInt32LE(captured, 8);
        header.writeUInt32LE(bytes.length, 12);
        const linkType = random() < 0.05
          ? LINK_TYPES[Math.floor(random() * LINK_TYPES.length)] : ENCAPSULATION.linkType;
        pipeline.processPacket(bytes, header, linkType);
        if (decoder.decode(bytes, captured, linkType)) {
          reassembler.process(decoder.segment, seconds * 1000);
        }
        peakBuffered = Math.max(peakBuffered, reassembler.bufferedBytes);
        assert.ok(pipeline.flowCount <= LIMITS.maxFlows);
        packets++;
      }
      events.length = 0;
    }
    pipeline.finish();
    reassembler.finish(seconds * 1000);
    assert.ok(packets > 10_000, `only ${packets} packets in ${FUZZ_MILLISECONDS} ms`);
    assert.ok(peakBuffered <= LIMITS.maxBufferedBytesTotal, `peak ${peakBuffered} held`);
    assert.equal(reassembler.bufferedBytes, 0);
    assert.ok(stats.flows_evicted > 0, 'the flow limit was reached');
    assert.ok(stats.reassembly_buffer_overflows > 0, 'the stream limit was reached');
    assert.ok(stats.reassembly_total_buffer_overflows > 0, 'the total limit was reached');
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(heapGrowth < MAX_HEAP_GROWTH_BYTES, `heap grew by ${heapGrowth} bytes`);
  });
