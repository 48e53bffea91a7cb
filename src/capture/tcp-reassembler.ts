import type { CaptureStats } from './capture-stats.js';
import type { CaptureAnomalyName } from './capture-anomaly-name.js';
import { TcpFlag, type DecodedSegment } from './decoded-segment.js';
import { FlowTable } from './flow-table.js';
import {
  CLOSED_FLOW_LINGER_MS, HELD_SEGMENT_OVERHEAD_BYTES, SWEEP_INTERVAL_MS, type ReassemblyLimits,
} from './reassembly-limits.js';
import { RecentBytesStore } from './recent-bytes-store.js';
import { sequenceAdd, sequenceDiff } from './sequence.js';
import type { FlowCloseReason, StreamHandler } from './stream-handler.js';
import type { TcpFlow } from './tcp-flow.js';
import type { TcpStream } from './tcp-stream.js';
import { WaitingFlows } from './waiting-flows.js';

const OVERLAP_CONFLICT: CaptureAnomalyName = 'tcp_overlap_conflict';
const OVERLAP_CONFLICT_DETAIL = 'retransmitted bytes differ from the first copy, which was kept';

/**
 * Turns TCP segments into ordered byte streams per direction (RFC 9293): each byte is
 * delivered once, in order; segments ahead of a hole wait, copied, until the hole fills, the
 * peer acknowledges past it (the capture missed bytes the peer received), the buffer limit is
 * hit, or the flow ends; then the hole is reported as a gap. Overlapping bytes keep the first
 * copy delivered, as a Linux receiver does, and a copy with other bytes is reported as
 * tcp_overlap_conflict (compared over the last bytes each direction delivered, see
 * RecentBytesStore).
 *
 * Limitation: of two overlapping copies both held out of order, the one that starts first is
 * delivered, whereas Linux lets a later segment that covers a held one entirely replace it;
 * the conflict is reported all the same.
 */
export class TcpReassembler<Session> {
  private readonly flows = new FlowTable<Session>();
  private readonly waiting = new WaitingFlows<Session>();
  private readonly recentBytes: RecentBytesStore | undefined;
  private bufferedTotal = 0;
  private nextSweepTime = -Infinity;

  /** @param smtpPorts 65536 entries, non-zero for ports a server listens on. */
  constructor(
    private readonly handler: StreamHandler<Session>,
    private readonly smtpPorts: Uint8Array,
    private readonly limits: ReassemblyLimits,
    private readonly stats: CaptureStats,
  ) {
    const recent = limits.recentBytesPerStream;
    if (recent !== 0 && (recent < 0 || (recent & (recent - 1)) !== 0)) {
      throw new RangeError(`recentBytesPerStream must be 0 or a power of two, not ${recent}`);
    }
    this.recentBytes = recent === 0 ? undefined : new RecentBytesStore(recent);
  }

  get flowCount(): number {
    return this.flows.size;
  }

  /** Out-of-order bytes held by all flows, HELD_SEGMENT_OVERHEAD_BYTES per segment included. */
  get bufferedBytes(): number {
    return this.bufferedTotal;
  }

  /** Bytes set aside to remember what each direction delivered last. */
  get recentBytesReserved(): number {
    return this.recentBytes?.bytes ?? 0;
  }

  /** Takes one decoded segment; `time` is its capture time in ms. */
  process(segment: DecodedSegment, time: number): void {
    if (time >= this.nextSweepTime) this.sweep(time);
    const flow = this.flowFor(segment, time);
    if (flow === undefined) return;
    const fromClient = this.flows.fromClient;
    flow.lastTime = time;
    const stream = fromClient ? flow.client : flow.server;
    const flags = segment.flags;
    if ((flags & TcpFlag.SYN) !== 0) this.startOnSyn(flow, stream, fromClient, segment);
    if ((flags & TcpFlag.ACK) !== 0) {
      this.skipHoleAcknowledged(flow, !fromClient, segment.acknowledgement, time);
    }
    if ((flags & TcpFlag.RST) !== 0) {
      this.close(flow, 'rst', time);
      return;
    }
    const dataSequence = (flags & TcpFlag.SYN) !== 0
      ? sequenceAdd(segment.sequence, 1) : segment.sequence;
    if (!stream.started) {
      stream.nextSequence = dataSequence;
      stream.started = true;
    }
    this.accept(flow, stream, fromClient, dataSequence, segment.buf, segment.payloadStart,
      segment.payloadEnd, segment.missingPayloadLength, (flags & TcpFlag.FIN) !== 0, time);
    if (flow.client.finished && flow.server.finished) this.close(flow, 'fin', time);
  }

  /** Closes every flow, delivering what they still hold: the capture has ended. */
  finish(time: number): void {
    this.flows.forEach((flow) => this.closeAndRemove(flow, 'end_of_capture', time));
  }

  private flowFor(segment: DecodedSegment, time: number): TcpFlow<Session> | undefined {
    const flags = segment.flags;
    const isClientSyn = (flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;
    const existing = this.flows.find(segment);
    if (existing !== undefined) {
      const reused = isClientSyn && this.flows.fromClient
        && (existing.closed || existing.clientInitialSequence !== segment.sequence);
      if (!reused) return existing.closed ? undefined : existing;
      this.closeAndRemove(existing, 'reused', time);
    }
    const hasPayload = segment.payloadEnd > segment.payloadStart
      || segment.missingPayloadLength > 0;
    if ((flags & TcpFlag.SYN) === 0 && !hasPayload) return undefined;
    if ((flags & TcpFlag.RST) !== 0) return undefined;
    if (this.flows.size >= this.limits.maxFlows) this.evictOldest(time);
    const senderIsClient = (flags & TcpFlag.SYN) !== 0 ? isClientSyn
      : this.smtpPorts[segment.destinationPort] !== 0;
    const flow = this.flows.create(segment, senderIsClient, (flags & TcpFlag.SYN) !== 0, time);
    this.flows.fromClient = senderIsClient;
    this.stats.flows_opened++;
    flow.session = this.handler.onFlowOpen(flow, time);
    return flow;
  }

  private startOnSyn(
    flow: TcpFlow<Session>, stream: TcpStream, fromClient: boolean, segment: DecodedSegment,
  ): void {
    if (!stream.started) {
      stream.nextSequence = sequenceAdd(segment.sequence, 1);
      stream.started = true;
    }
    // A SYN-ACK acknowledges the client's SYN: the client's data starts there even when the
    // capture missed that SYN.
    const client = flow.client;
    if (!fromClient && !client.started && (segment.flags & TcpFlag.ACK) !== 0) {
      client.nextSequence = segment.acknowledgement;
      client.started = true;
    }
  }

  /**
   * Delivers or buffers bytes buf[start, end) at `sequence`, followed by `missing` bytes the
   * capture did not keep, and a FIN when `fin`.
   */
  private accept(
    flow: TcpFlow<Session>, stream: TcpStream, fromClient: boolean, sequence: number,
    buf: Buffer, start: number, end: number, missing: number, fin: boolean, time: number,
  ): void {
    if (end - start + missing === 0 && !fin) return;
    if (stream.finished) return;
    if (sequenceDiff(sequence, stream.nextSequence) > 0) {
      this.buffer(flow, stream, fromClient, sequence, buf, start, end, missing, fin, time);
      return;
    }
    this.deliver(flow, stream, fromClient, sequence, buf, start, end, missing, fin, time);
    this.drain(flow, stream, fromClient, time);
  }

  /** Delivers a segment that starts at or before the next expected byte, minus the overlap. */
  private deliver(
    flow: TcpFlow<Session>, stream: TcpStream, fromClient: boolean, sequence: number,
    buf: Buffer, start: number, end: number, missing: number, fin: boolean, time: number,
  ): void {
    const captured = end - start;
    const overlap = -sequenceDiff(sequence, stream.nextSequence);
    if (overlap > 0 && captured > 0 && !isKeepAlive(captured + missing, overlap)) {
      this.checkOverlap(flow, stream, fromClient, sequence, buf, start,
        Math.min(end, start + overlap), time);
    }
    if (overlap >= captured + missing) {
      this.stats.retransmitted_bytes += captured + missing;
      if (fin && overlap === captured + missing) stream.finished = true;
      return;
    }
    this.stats.retransmitted_bytes += overlap;
    const dataStart = start + Math.min(overlap, captured);
    if (dataStart < end) {
      this.remember(stream, buf, dataStart, end);
      this.handler.onData(flow, fromClient, buf, dataStart, end, time);
    }
    const gap = missing - Math.max(0, overlap - captured);
    if (gap > 0) this.reportGap(flow, fromClient, gap, time);
    stream.nextSequence = sequenceAdd(stream.nextSequence, captured + missing - overlap);
    if (fin) stream.finished = true;
  }

  /** Delivers buffered segments that the stream has now reached. */
  private drain(flow: TcpFlow<Session>, stream: TcpStream, fromClient: boolean, time: number) {
    const buffered = stream.buffered;
    while (buffered.length > 0 && !stream.finished
      && sequenceDiff(buffered[0].sequence, stream.nextSequence) <= 0) {
      const next = buffered.shift()!;
      stream.bufferedBytes -= next.data.length + HELD_SEGMENT_OVERHEAD_BYTES;
      this.bufferedTotal -= next.data.length + HELD_SEGMENT_OVERHEAD_BYTES;
      this.deliver(flow, stream, fromClient, next.sequence, next.data, 0, next.data.length,
        next.missingLength, next.fin, time);
    }
    if (buffered.length === 0) this.leaveWaitingIfEmpty(flow);
  }

  /** Keeps the bytes about to be delivered at `stream.nextSequence`, to compare later copies. */
  private remember(stream: TcpStream, buf: Buffer, start: number, end: number): void {
    this.recentBytes?.record(stream, stream.nextSequence, buf, start, end);
  }

  /**
   * Compares bytes buf[start, end) at `sequence`, all before the next expected byte, with the
   * first copy delivered.
   */
  private checkOverlap(
    flow: TcpFlow<Session>, stream: TcpStream, fromClient: boolean, sequence: number,
    buf: Buffer, start: number, end: number, time: number,
  ): void {
    const recent = this.recentBytes;
    if (recent === undefined) return;
    if (recent.differs(stream, sequence, buf, start, end)) {
      this.reportConflict(flow, fromClient, time);
    }
  }

  private reportConflict(flow: TcpFlow<Session>, fromClient: boolean, time: number): void {
    this.stats.overlap_conflicts++;
    this.handler.onAnomaly(flow, fromClient, OVERLAP_CONFLICT, OVERLAP_CONFLICT_DETAIL, time);
  }

  /**
   * Holds a segment that starts past the next expected byte, first giving up the oldest holes
   * while a buffer limit would be exceeded; the segment itself may become deliverable then.
   */
  private buffer(
    flow: TcpFlow<Session>, stream: TcpStream, fromClient: boolean, sequence: number,
    buf: Buffer, start: number, end: number, missing: number, fin: boolean, time: number,
  ): void {
    this.stats.out_of_order_segments++;
    const cost = end - start + HELD_SEGMENT_OVERHEAD_BYTES;
    while (this.isOverLimit(stream, cost)) {
      this.giveUpOldestHole(flow, stream, fromClient, cost, time);
      if (stream.finished) return;
      if (sequenceDiff(sequence, stream.nextSequence) <= 0) {
        this.accept(flow, stream, fromClient, sequence, buf, start, end, missing, fin, time);
        return;
      }
    }
    const limit = Math.min(this.limits.maxBufferedBytesPerStream,
      this.limits.maxBufferedBytesTotal);
    if (cost > limit) {
      this.stats.reassembly_buffer_overflows++;
      this.reportGap(flow, fromClient, sequenceDiff(sequence, stream.nextSequence), time);
      stream.nextSequence = sequence;
      this.accept(flow, stream, fromClient, sequence, buf, start, end, missing, fin, time);
      return;
    }
    this.insert(flow, stream, fromClient, sequence, buf, start, end, missing, fin, time);
  }

  /** Whether holding `cost` more bytes (HELD_SEGMENT_OVERHEAD_BYTES included) is too many. */
  private isOverLimit(stream: TcpStream, cost: number): boolean {
    if (this.isOverStreamLimit(stream, cost)) return true;
    return this.waiting.oldest !== undefined
      && this.bufferedTotal + cost > this.limits.maxBufferedBytesTotal;
  }

  private isOverStreamLimit(stream: TcpStream, cost: number): boolean {
    return stream.buffered.length > 0
      && stream.bufferedBytes + cost > this.limits.maxBufferedBytesPerStream;
  }

  /** Frees room: this stream's first hole, or the one of the flow waiting the longest. */
  private giveUpOldestHole(
    flow: TcpFlow<Session>, stream: TcpStream, fromClient: boolean, cost: number,
    time: number,
  ): void {
    if (this.isOverStreamLimit(stream, cost)) {
      this.stats.reassembly_buffer_overflows++;
      this.skipToFirstBuffered(flow, stream, fromClient, time);
      return;
    }
    this.stats.reassembly_total_buffer_overflows++;
    const oldest = this.waiting.oldest!;
    this.giveUpFirstHole(oldest, oldest.client, true, time);
    this.giveUpFirstHole(oldest, oldest.server, false, time);
    this.leaveWaitingIfEmpty(oldest);
  }

  /** Skips one hole of the stream; what a FIN left held can never be delivered. */
  private giveUpFirstHole(
    flow: TcpFlow<Session>, stream: TcpStream, fromClient: boolean, time: number,
  ): void {
    if (stream.buffered.length > 0 && !stream.finished) {
      this.skipToFirstBuffered(flow, stream, fromClient, time);
    }
    if (stream.finished) this.discardBuffered(flow, stream);
  }

  private insert(
    flow: TcpFlow<Session>, stream: TcpStream, fromClient: boolean, sequence: number,
    buf: Buffer, start: number, end: number, missing: number, fin: boolean, time: number,
  ): void {
    const length = end - start;
    const buffered = stream.buffered;
    let index = buffered.length;
    while (index > 0 && sequenceDiff(buffered[index - 1].sequence, sequence) > 0) index--;
    const previous = buffered[index - 1];
    if (previous !== undefined && previous.sequence === sequence
      && previous.data.length + previous.missingLength >= length + missing) {
      this.stats.retransmitted_bytes += length + missing;
      const compared = Math.min(length, previous.data.length);
      if (buf.compare(previous.data, 0, compared, start, start + compared) !== 0) {
        this.reportConflict(flow, fromClient, time);
      }
      return;
    }
    // Copied: `buf` is the capture library's buffer and is overwritten by the next packet.
    const data = Buffer.from(buf.subarray(start, end));
    buffered.splice(index, 0, { sequence, data, missingLength: missing, fin });
    stream.bufferedBytes += length + HELD_SEGMENT_OVERHEAD_BYTES;
    this.bufferedTotal += length + HELD_SEGMENT_OVERHEAD_BYTES;
    this.waiting.add(flow);
  }

  private discardBuffered(flow: TcpFlow<Session>, stream: TcpStream): void {
    this.bufferedTotal -= stream.bufferedBytes;
    stream.buffered.length = 0;
    stream.bufferedBytes = 0;
    this.leaveWaitingIfEmpty(flow);
  }

  private leaveWaitingIfEmpty(flow: TcpFlow<Session>): void {
    if (flow.client.buffered.length === 0 && flow.server.buffered.length === 0) {
      this.waiting.remove(flow);
    }
  }

  /** Gives up on the hole before the first buffered segment: a gap, then what follows it. */
  private skipToFirstBuffered(
    flow: TcpFlow<Session>, stream: TcpStream, fromClient: boolean, time: number,
  ): void {
    const first = stream.buffered[0];
    const hole = sequenceDiff(first.sequence, stream.nextSequence);
    if (hole > 0) {
      this.reportGap(flow, fromClient, hole, time);
      stream.nextSequence = first.sequence;
    }
    this.drain(flow, stream, fromClient, time);
  }

  /**
   * The peer acknowledged bytes of this direction that were never delivered: the capture lost
   * them (a sender's bytes are captured before the peer's acknowledgement of them), so waiting
   * longer gains nothing. The gap is reported before the peer's own bytes are delivered, so
   * that a reply is never read ahead of the loss of the command it answers (a 354 before the
   * lost end of the DATA line would leave the body unrecognised).
   */
  private skipHoleAcknowledged(
    flow: TcpFlow<Session>, fromClient: boolean, acknowledgement: number, time: number,
  ): void {
    const stream = fromClient ? flow.client : flow.server;
    // Every hole up to the acknowledgement: the buffered bytes may lie between several.
    while (stream.started && !stream.finished
      && sequenceDiff(acknowledgement, stream.nextSequence) > 0) {
      const first = stream.buffered[0];
      if (first === undefined || sequenceDiff(acknowledgement, first.sequence) < 0) {
        this.reportGap(flow, fromClient, sequenceDiff(acknowledgement, stream.nextSequence),
          time);
        stream.nextSequence = acknowledgement;
        return;
      }
      this.skipToFirstBuffered(flow, stream, fromClient, time);
    }
  }

  private reportGap(flow: TcpFlow<Session>, fromClient: boolean, length: number, time: number) {
    this.stats.gaps++;
    this.stats.gap_bytes += length;
    this.handler.onGap(flow, fromClient, length, time);
  }

  private flushBuffered(flow: TcpFlow<Session>, time: number): void {
    for (const fromClient of [true, false]) {
      const stream = fromClient ? flow.client : flow.server;
      while (stream.buffered.length > 0 && !stream.finished) {
        this.skipToFirstBuffered(flow, stream, fromClient, time);
      }
      this.discardBuffered(flow, stream);
    }
  }

  /** Ends the flow but keeps it in the table for a while to absorb its late packets. */
  private close(flow: TcpFlow<Session>, reason: FlowCloseReason, time: number): void {
    if (flow.closed) return;
    this.flushBuffered(flow, time);
    flow.closed = true;
    flow.lastTime = time;
    this.stats.flows_closed++;
    this.handler.onFlowClose(flow, reason, time);
    // The consumer's state and the remembered bytes are let go at once; only the small flow
    // record lingers.
    flow.session = undefined;
    this.recentBytes?.release(flow.client);
    this.recentBytes?.release(flow.server);
  }

  private closeAndRemove(flow: TcpFlow<Session>, reason: FlowCloseReason, time: number) {
    this.close(flow, reason, time);
    this.flows.remove(flow);
  }

  private evictOldest(time: number): void {
    const oldest = this.flows.oldest();
    if (oldest === undefined) return;
    if (!oldest.closed) this.stats.flows_evicted++;
    this.closeAndRemove(oldest, 'evicted', time);
  }

  private sweep(time: number): void {
    this.nextSweepTime = time + SWEEP_INTERVAL_MS;
    this.flows.forEach((flow) => {
      if (flow.closed) {
        if (time - flow.lastTime > CLOSED_FLOW_LINGER_MS) this.flows.remove(flow);
      } else if (time - flow.lastTime > this.limits.idleTimeoutMs) {
        this.stats.flows_expired++;
        this.closeAndRemove(flow, 'idle', time);
      }
    });
  }
}

/**
 * A one-byte segment just before the next expected byte is a keep-alive, whose byte may be
 * garbage (RFC 9293 section 3.8.4): it is not compared with the first copy.
 */
function isKeepAlive(segmentLength: number, overlap: number): boolean {
  return segmentLength === 1 && overlap === 1;
}
