import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CaptureStats } from '../../src/capture/capture-stats.js';
import { DecodedSegment, TcpFlag } from '../../src/capture/decoded-segment.js';
import {
  DEFAULT_REASSEMBLY_LIMITS, HELD_SEGMENT_OVERHEAD_BYTES, type ReassemblyLimits,
} from '../../src/capture/reassembly-limits.js';
import type { StreamHandler } from '../../src/capture/stream-handler.js';
import type { TcpFlow } from '../../src/capture/tcp-flow.js';
import { TcpReassembler } from '../../src/capture/tcp-reassembler.js';

const CLIENT_IP = 0x0a000001;
const SERVER_IP = 0x0a000002;
const { SYN, ACK, FIN, RST } = TcpFlag;

interface SegmentSpec {
  from: 'c' | 's';
  seq: number;
  ack?: number;
  flags?: number;
  data?: string;
  /** Bytes the IP header announced beyond `data` that the capture did not keep. */
  missing?: number;
  clientPort?: number;
  time?: number;
}

/**
 * Flow events as text: `open N`, `c:bytes`, `s:bytes`, `gap c N`, `anomaly c NAME`,
 * `close reason`.
 */
class Transcript implements StreamHandler<number> {
  readonly lines: string[] = [];
  private flows = 0;

  onFlowOpen(flow: TcpFlow<number>): number {
    this.lines.push(`open ${flow.clientAddress}:${flow.clientPort}`);
    return ++this.flows;
  }

  onData(_f: TcpFlow<number>, fromClient: boolean, buf: Buffer, start: number, end: number) {
    this.lines.push(`${fromClient ? 'c' : 's'}:${buf.toString('latin1', start, end)}`);
  }

  onGap(_f: TcpFlow<number>, fromClient: boolean, length: number): void {
    this.lines.push(`gap ${fromClient ? 'c' : 's'} ${length}`);
  }

  onAnomaly(_f: TcpFlow<number>, fromClient: boolean, name: string): void {
    this.lines.push(`anomaly ${fromClient ? 'c' : 's'} ${name}`);
  }

  onFlowClose(_f: TcpFlow<number>, reason: string): void {
    this.lines.push(`close ${reason}`);
  }
}

function run(specs: SegmentSpec[], limits: Partial<ReassemblyLimits> = {}) {
  const ports = new Uint8Array(65536);
  ports[25] = 1;
  const stats = new CaptureStats();
  const transcript = new Transcript();
  const reassembler = new TcpReassembler(transcript, ports,
    { ...DEFAULT_REASSEMBLY_LIMITS, ...limits }, stats);
  let time = 1_000_000;
  let peakBufferedBytes = 0;
  const segment = new DecodedSegment();
  for (const spec of specs) {
    time = spec.time ?? time + 1;
    fill(segment, spec);
    reassembler.process(segment, time);
    // The capture library reuses its buffer: anything kept must have been copied.
    segment.buf.fill(0x58);
    peakBufferedBytes = Math.max(peakBufferedBytes, reassembler.bufferedBytes);
  }
  reassembler.finish(time);
  return { lines: transcript.lines, stats, peakBufferedBytes, reassembler };
}

function fill(segment: DecodedSegment, spec: SegmentSpec): void {
  const payload = Buffer.from(spec.data ?? '', 'latin1');
  const fromClient = spec.from === 'c';
  const clientPort = spec.clientPort ?? 40000;
  segment.buf = Buffer.concat([Buffer.alloc(54), payload, Buffer.alloc(16, 0x5a)]);
  segment.ipVersion = 4;
  segment.sourceIp4 = fromClient ? CLIENT_IP : SERVER_IP;
  segment.destinationIp4 = fromClient ? SERVER_IP : CLIENT_IP;
  segment.sourcePort = fromClient ? clientPort : 25;
  segment.destinationPort = fromClient ? 25 : clientPort;
  segment.sequence = spec.seq >>> 0;
  segment.acknowledgement = (spec.ack ?? 0) >>> 0;
  segment.flags = spec.flags ?? ACK;
  segment.payloadStart = 54;
  segment.payloadEnd = 54 + payload.length;
  segment.missingPayloadLength = spec.missing ?? 0;
}

/** Handshake with client ISN `c` and server ISN `s`: data starts at c+1 and s+1. */
function handshake(c: number, s: number): SegmentSpec[] {
  return [
    { from: 'c', seq: c, flags: SYN },
    { from: 's', seq: s, ack: c + 1, flags: SYN | ACK },
    { from: 'c', seq: c + 1, ack: s + 1 },
  ];
}

const OPEN = 'open 10.0.0.1:40000';
const CONFLICT = 'anomaly c tcp_overlap_conflict';
/** Room for two held 4-byte segments, each with its record. */
const TWO_SMALL_SEGMENTS = 2 * (4 + HELD_SEGMENT_OVERHEAD_BYTES);

interface Case {
  name: string;
  segments: SegmentSpec[];
  expected: string[];
  limits?: Partial<ReassemblyLimits>;
}

const cases: Case[] = [
  {
    name: 'in-order data both ways, then FIN from both sides',
    segments: [...handshake(100, 500), { from: 's', seq: 501, data: '220 hi\r\n' },
      { from: 'c', seq: 101, data: 'QUIT\r\n' }, { from: 'c', seq: 107, flags: FIN | ACK },
      { from: 's', seq: 509, flags: FIN | ACK }],
    expected: [OPEN, 's:220 hi\r\n', 'c:QUIT\r\n', 'close fin'],
  },
  {
    name: 'out-of-order segments wait for the hole and come out in order',
    segments: [...handshake(100, 500), { from: 'c', seq: 104, data: 'def' },
      { from: 'c', seq: 107, data: 'ghi' }, { from: 'c', seq: 101, data: 'abc' }],
    expected: [OPEN, 'c:abc', 'c:def', 'c:ghi', 'close end_of_capture'],
  },
  {
    name: 'a retransmission is not delivered twice',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'abc' },
      { from: 'c', seq: 101, data: 'abc' }, { from: 'c', seq: 104, data: 'def' }],
    expected: [OPEN, 'c:abc', 'c:def', 'close end_of_capture'],
  },
  {
    name: 'an overlapping retransmission delivers only its new bytes, the first copy wins',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'abc' },
      { from: 'c', seq: 102, data: 'XYde' }],
    expected: [OPEN, 'c:abc', CONFLICT, 'c:de', 'close end_of_capture'],
  },
  {
    name: 'a retransmission with other bytes keeps the first copy and reports the conflict',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'abc' },
      { from: 'c', seq: 101, data: 'aXc' }, { from: 'c', seq: 104, data: 'd' }],
    expected: [OPEN, 'c:abc', CONFLICT, 'c:d', 'close end_of_capture'],
  },
  {
    name: 'an overlapping retransmission with the same bytes is no conflict',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'abc' },
      { from: 'c', seq: 102, data: 'bcde' }],
    expected: [OPEN, 'c:abc', 'c:de', 'close end_of_capture'],
  },
  {
    name: 'a held copy with other bytes is dropped at once and reported',
    segments: [...handshake(100, 500), { from: 'c', seq: 104, data: 'def' },
      { from: 'c', seq: 104, data: 'dXf' }, { from: 'c', seq: 101, data: 'abc' }],
    expected: [OPEN, CONFLICT, 'c:abc', 'c:def', 'close end_of_capture'],
  },
  {
    name: 'of two overlapping held copies the one starting first is delivered, then reported',
    segments: [...handshake(100, 500), { from: 'c', seq: 105, data: 'efg' },
      { from: 'c', seq: 104, data: 'dXfg' }, { from: 'c', seq: 101, data: 'abc' }],
    expected: [OPEN, 'c:abc', 'c:dXfg', CONFLICT, 'close end_of_capture'],
  },
  {
    name: 'a keep-alive with a garbage byte is no conflict',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'abc' },
      { from: 'c', seq: 103, data: 'Z' }, { from: 's', seq: 501, data: 'ok' }],
    expected: [OPEN, 'c:abc', 's:ok', 'close end_of_capture'],
  },
  {
    name: 'a longer segment starting one byte back is compared, not taken for a keep-alive',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'abc' },
      { from: 'c', seq: 103, data: 'Zd' }],
    expected: [OPEN, 'c:abc', CONFLICT, 'c:d', 'close end_of_capture'],
  },
  {
    name: 'only the remembered last bytes are compared with a retransmission',
    limits: { recentBytesPerStream: 4 },
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'abcdefgh' },
      { from: 'c', seq: 101, data: 'Xbcdefgh' }, { from: 'c', seq: 101, data: 'abcdefXh' }],
    expected: [OPEN, 'c:abcdefgh', CONFLICT, 'close end_of_capture'],
  },
  {
    name: 'remembered bytes wrap around 2^32 with the sequence numbers',
    limits: { recentBytesPerStream: 4 },
    segments: [...handshake(0xfffffffc, 500), { from: 'c', seq: 0xfffffffd, data: 'ab' },
      { from: 'c', seq: 0xffffffff, data: 'cde' }, { from: 'c', seq: 0xffffffff, data: 'cdE' },
      { from: 'c', seq: 0xffffffff, data: 'cde' }],
    expected: [OPEN, 'c:ab', 'c:cde', CONFLICT, 'close end_of_capture'],
  },
  {
    name: 'bytes before a gap are forgotten: a copy spanning the gap is compared after it',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'abc' },
      { from: 'c', seq: 110, data: 'xyz' }, { from: 's', seq: 501, ack: 113 },
      { from: 'c', seq: 101, data: 'abcdefghixyz' }],
    expected: [OPEN, 'c:abc', 'gap c 6', 'c:xyz', 'close end_of_capture'],
  },
  {
    name: 'capture started after the SYN: the SYN-ACK fixes where the client data starts',
    segments: [{ from: 's', seq: 500, ack: 101, flags: SYN | ACK },
      { from: 'c', seq: 104, data: 'def' }, { from: 'c', seq: 101, data: 'abc' }],
    expected: [OPEN, 'c:abc', 'c:def', 'close end_of_capture'],
  },
  {
    name: 'server bytes that differ in a retransmission are reported for the server',
    segments: [...handshake(100, 500), { from: 's', seq: 501, data: '250 ok\r\n' },
      { from: 's', seq: 501, data: '550 no\r\n' }],
    expected: [OPEN, 's:250 ok\r\n', 'anomaly s tcp_overlap_conflict', 'close end_of_capture'],
  },
  {
    name: 'buffered duplicates of a future segment are kept once',
    segments: [...handshake(100, 500), { from: 'c', seq: 104, data: 'def' },
      { from: 'c', seq: 104, data: 'def' }, { from: 'c', seq: 101, data: 'abc' }],
    expected: [OPEN, 'c:abc', 'c:def', 'close end_of_capture'],
  },
  {
    name: 'sequence numbers wrap around 2^32',
    segments: [...handshake(0xfffffffb, 500), { from: 'c', seq: 0xfffffffc, data: 'abcd' },
      { from: 'c', seq: 4, data: 'ijk' }, { from: 'c', seq: 0, data: 'efgh' }],
    expected: [OPEN, 'c:abcd', 'c:efgh', 'c:ijk', 'close end_of_capture'],
  },
  {
    name: 'a SYN carrying data delivers it after the SYN',
    segments: [{ from: 'c', seq: 100, flags: SYN, data: 'EHLO' },
      { from: 'c', seq: 105, data: ' x\r\n' }],
    expected: [OPEN, 'c:EHLO', 'c: x\r\n', 'close end_of_capture'],
  },
  {
    name: 'RST without FIN closes the flow; its late packets are ignored',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'abc' },
      { from: 's', seq: 501, flags: RST }, { from: 'c', seq: 104, data: 'late' }],
    expected: [OPEN, 'c:abc', 'close rst'],
  },
  {
    name: 'FIN then RST from the other side closes the flow once, as reset',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'abc' },
      { from: 'c', seq: 104, flags: FIN | ACK }, { from: 's', seq: 501, flags: RST | ACK }],
    expected: [OPEN, 'c:abc', 'close rst'],
  },
  {
    name: 'RST then a late FIN: the FIN is ignored',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'abc' },
      { from: 's', seq: 501, flags: RST }, { from: 'c', seq: 104, flags: FIN | ACK }],
    expected: [OPEN, 'c:abc', 'close rst'],
  },
  {
    name: 'a FIN from the server first, then the data and FIN of the client',
    segments: [...handshake(100, 500), { from: 's', seq: 501, data: '221 bye\r\n' },
      { from: 's', seq: 510, flags: FIN | ACK }, { from: 'c', seq: 101, data: 'QUIT\r\n' },
      { from: 'c', seq: 107, flags: FIN | ACK }],
    expected: [OPEN, 's:221 bye\r\n', 'c:QUIT\r\n', 'close fin'],
  },
  {
    name: 'a FIN that arrives before the last data waits for it',
    segments: [...handshake(100, 500), { from: 'c', seq: 104, flags: FIN | ACK },
      { from: 'c', seq: 101, data: 'abc' }, { from: 's', seq: 501, flags: FIN | ACK }],
    expected: [OPEN, 'c:abc', 'close fin'],
  },
  {
    name: 'one-sided capture: the client alone is delivered; a hole waits for the end',
    segments: [{ from: 'c', seq: 100, flags: SYN }, { from: 'c', seq: 101, ack: 501 },
      { from: 'c', seq: 101, ack: 530, data: 'EHLO a\r\n' },
      { from: 'c', seq: 115, ack: 560, data: 'QUIT\r\n' }],
    expected: [OPEN, 'c:EHLO a\r\n', 'gap c 6', 'c:QUIT\r\n', 'close end_of_capture'],
  },
  {
    name: 'the total buffer limit gives up the hole of the flow that has waited longest',
    limits: { maxBufferedBytesTotal: TWO_SMALL_SEGMENTS },
    segments: [{ from: 'c', seq: 1, data: 'a', clientPort: 40001 },
      { from: 'c', seq: 5, data: 'efgh', clientPort: 40001 },
      { from: 'c', seq: 1, data: 'A', clientPort: 40002 },
      { from: 'c', seq: 5, data: 'EFGH', clientPort: 40002 },
      { from: 'c', seq: 9, data: 'IJKL', clientPort: 40002 }],
    expected: ['open 10.0.0.1:40001', 'c:a', 'open 10.0.0.1:40002', 'c:A', 'gap c 3',
      'c:efgh', 'close end_of_capture', 'gap c 3', 'c:EFGH', 'c:IJKL', 'close end_of_capture'],
  },
  {
    name: 'the total buffer limit can give up the hole of the flow being filled',
    limits: { maxBufferedBytesTotal: TWO_SMALL_SEGMENTS },
    segments: [...handshake(100, 500), { from: 'c', seq: 103, data: 'cdef' },
      { from: 'c', seq: 107, data: 'ghij' }, { from: 'c', seq: 111, data: 'k' }],
    expected: [OPEN, 'gap c 2', 'c:cdef', 'c:ghij', 'c:k', 'close end_of_capture'],
  },
  {
    name: 'a new SYN with a new ISN on a closed 4-tuple is a new connection',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'one' },
      { from: 'c', seq: 104, flags: FIN | ACK }, { from: 's', seq: 501, flags: FIN | ACK },
      ...handshake(9000, 7000), { from: 'c', seq: 9001, data: 'two' }],
    expected: [OPEN, 'c:one', 'close fin', OPEN, 'c:two', 'close end_of_capture'],
  },
  {
    name: 'a new SYN on an open 4-tuple with another ISN ends the old connection',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'one' },
      ...handshake(9000, 7000), { from: 'c', seq: 9001, data: 'two' }],
    expected: [OPEN, 'c:one', 'close reused', OPEN, 'c:two', 'close end_of_capture'],
  },
  {
    name: 'a retransmitted SYN is the same connection',
    segments: [{ from: 'c', seq: 100, flags: SYN }, ...handshake(100, 500),
      { from: 'c', seq: 101, data: 'one' }],
    expected: [OPEN, 'c:one', 'close end_of_capture'],
  },
  {
    name: 'midstream: no SYN, the client is the side not on an SMTP port',
    segments: [{ from: 's', seq: 7000, data: '250 ok\r\n' }, { from: 'c', seq: 300,
      data: 'QUIT\r\n' }],
    expected: [OPEN, 's:250 ok\r\n', 'c:QUIT\r\n', 'close end_of_capture'],
  },
  {
    name: 'a hole the peer acknowledged is a gap at once',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'abc' },
      { from: 'c', seq: 110, data: 'xyz' }, { from: 's', seq: 501, ack: 113 },
      { from: 'c', seq: 113, data: 'end' }],
    expected: [OPEN, 'c:abc', 'gap c 6', 'c:xyz', 'c:end', 'close end_of_capture'],
  },
  {
    name: 'bytes acknowledged but never seen, nothing held: a gap before the peer\'s bytes',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'DATA\r' },
      { from: 's', seq: 501, ack: 107, data: '354 go\r\n' },
      { from: 'c', seq: 107, ack: 509, data: 'body' }],
    expected: [OPEN, 'c:DATA\r', 'gap c 1', 's:354 go\r\n', 'c:body', 'close end_of_capture'],
  },
  {
    name: 'an acknowledgement past several holes reports each, in order, before its bytes',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'a' },
      { from: 'c', seq: 104, data: 'b' }, { from: 'c', seq: 108, data: 'c' },
      { from: 's', seq: 501, ack: 111, data: 'ok' }],
    expected: [OPEN, 'c:a', 'gap c 2', 'c:b', 'gap c 3', 'c:c', 'gap c 2', 's:ok',
      'close end_of_capture'],
  },
  {
    name: 'a hole not yet acknowledged waits, and is a gap at the end of capture',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'abc' },
      { from: 'c', seq: 110, data: 'xyz' }, { from: 's', seq: 501, ack: 104 }],
    expected: [OPEN, 'c:abc', 'gap c 6', 'c:xyz', 'close end_of_capture'],
  },
  {
    name: 'the out-of-order buffer limit stops the wait and reports the gap',
    limits: { maxBufferedBytesPerStream: TWO_SMALL_SEGMENTS },
    segments: [...handshake(100, 500), { from: 'c', seq: 105, data: 'efgh' },
      { from: 'c', seq: 109, data: 'ijkl' }, { from: 'c', seq: 113, data: 'mnop' }],
    expected: [OPEN, 'gap c 4', 'c:efgh', 'c:ijkl', 'c:mnop', 'close end_of_capture'],
  },
  {
    name: 'empty FIN segments ahead of a hole count against the buffer limit',
    limits: { maxBufferedBytesPerStream: 3 * HELD_SEGMENT_OVERHEAD_BYTES },
    segments: [...handshake(100, 500), { from: 'c', seq: 110, flags: FIN | ACK },
      { from: 'c', seq: 111, flags: FIN | ACK }, { from: 'c', seq: 112, flags: FIN | ACK },
      { from: 'c', seq: 113, flags: FIN | ACK }, { from: 'c', seq: 114, flags: FIN | ACK }],
    expected: [OPEN, 'gap c 9', 'close end_of_capture'],
  },
  {
    name: 'a segment cut by the snap length is its captured bytes and a gap',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'abc', missing: 5 },
      { from: 'c', seq: 109, data: 'next' }],
    expected: [OPEN, 'c:abc', 'gap c 5', 'c:next', 'close end_of_capture'],
  },
  {
    // RFC 9293 section 3.8.6.1: a keep-alive is sent one byte back (SEG.SEQ = SND.NXT - 1),
    // with no data or with that last byte again.
    name: 'keep-alives one byte back, with or without a byte, deliver nothing new',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'abc' },
      { from: 'c', seq: 103, data: 'c' }, { from: 'c', seq: 103 },
      { from: 'c', seq: 104, data: 'd' }],
    expected: [OPEN, 'c:abc', 'c:d', 'close end_of_capture'],
  },
  {
    // RFC 9293 section 3.8.6.1: against a zero window the sender probes with the next byte
    // until the window opens, then sends it again with what follows.
    name: 'a zero-window probe repeated, then the full segment: the probed byte once',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'abc' },
      { from: 'c', seq: 104, data: 'd' }, { from: 'c', seq: 104, data: 'd' },
      { from: 'c', seq: 104, data: 'd' }, { from: 'c', seq: 104, data: 'defg' }],
    expected: [OPEN, 'c:abc', 'c:d', 'c:efg', 'close end_of_capture'],
  },
  {
    name: 'an idle flow expires by capture time',
    segments: [...handshake(100, 500), { from: 'c', seq: 101, data: 'abc' },
      { from: 'c', seq: 1, data: 'x', clientPort: 41000, time: 5_000_000 }],
    expected: [OPEN, 'c:abc', 'close idle', 'open 10.0.0.1:41000', 'c:x',
      'close end_of_capture'],
  },
  {
    name: 'a full flow table evicts the oldest flow',
    limits: { maxFlows: 1 },
    segments: [{ from: 'c', seq: 1, data: 'a', clientPort: 40001 },
      { from: 'c', seq: 1, data: 'b', clientPort: 40002 }],
    expected: ['open 10.0.0.1:40001', 'c:a', 'close evicted', 'open 10.0.0.1:40002', 'c:b',
      'close end_of_capture'],
  },
  {
    // 40001 sends again after 40002 opened, so 40002 is the one idle longest when 40003
    // comes; 40001's next segment then continues its flow, with no new open.
    name: 'a full flow table evicts the flow idle longest, not the first opened',
    limits: { maxFlows: 2 },
    segments: [{ from: 'c', seq: 1, data: 'a', clientPort: 40001 },
      { from: 'c', seq: 1, data: 'b', clientPort: 40002 },
      { from: 'c', seq: 2, data: 'c', clientPort: 40001 },
      { from: 'c', seq: 1, data: 'd', clientPort: 40003 },
      { from: 'c', seq: 3, data: 'f', clientPort: 40001 }],
    expected: ['open 10.0.0.1:40001', 'c:a', 'open 10.0.0.1:40002', 'c:b', 'c:c',
      'close evicted', 'open 10.0.0.1:40003', 'c:d', 'c:f', 'close end_of_capture',
      'close end_of_capture'],
  },
];

describe('TcpReassembler', () => {
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(run(c.segments, c.limits).lines, c.expected);
    });
  }

  test('limits and losses are counted', () => {
    const { stats } = run(cases.find((c) => c.name.startsWith('the out-of-order'))!.segments,
      { maxBufferedBytesPerStream: TWO_SMALL_SEGMENTS });
    assert.equal(stats.reassembly_buffer_overflows, 1);
    assert.equal(stats.gaps, 1);
    assert.equal(stats.gap_bytes, 4);
    const evicted = run(cases.find((c) => c.name.startsWith('a full flow'))!.segments,
      { maxFlows: 1 });
    assert.equal(evicted.stats.flows_evicted, 1);
  });

  test('conflicts and total buffer overflows are counted, held bytes stay under the limit', () => {
    const conflict = run(cases.find((c) => c.name.startsWith('a held copy'))!.segments);
    assert.equal(conflict.stats.overlap_conflicts, 1);
    assert.equal(conflict.stats.retransmitted_bytes, 3);
    const total = run(cases.find((c) => c.name.startsWith('the total buffer limit gives'))!
      .segments, { maxBufferedBytesTotal: TWO_SMALL_SEGMENTS });
    assert.equal(total.stats.reassembly_total_buffer_overflows, 1);
    assert.equal(total.stats.gap_bytes, 6);
    assert.equal(total.peakBufferedBytes, TWO_SMALL_SEGMENTS);
    assert.equal(total.reassembler.bufferedBytes, 0);
  });

  test('a remembered-bytes size that is not a power of two is refused', () => {
    assert.throws(() => run([], { recentBytesPerStream: 100 }),
      /recentBytesPerStream must be 0 or a power of two, not 100/);
  });
});
