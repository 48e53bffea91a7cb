import type { CaptureStats } from './capture-stats.js';
import { TcpFlag, type DecodedSegment } from './decoded-segment.js';
import { FlowTable } from './flow-table.js';
import {
  CLOSED_FLOW_LINGER_MS, SWEEP_INTERVAL_MS, type ReassemblyLimits,
} from './reassembly-limits.js';
import { sequenceAdd, sequenceDiff } from './sequence.js';
import type { FlowCloseReason, StreamHandler } from './stream-handler.js';
import type { TcpFlow } from './tcp-flow.js';
import type { TcpStream } from './tcp-stream.js';

/**
 * Turns TCP segments into ordered byte streams per direction (RFC 9293): each byte is
 * delivered once, in order; segments ahead of a hole wait, copied, until the hole fills, the
 * peer acknowledges past it (the capture missed bytes the peer received), the buffer limit is
 * hit, or the flow ends; then the hole is reported as a gap. Overlapping bytes keep the first
 * copy delivered, as a Linux receiver does.
 */
export class TcpReassembler<Session> {
  private readonly flows = new FlowTable<Session>();
  private nextSweepTime = -Infinity;

  /** @param smtpPorts 65536 entries, non-zero for ports a server listens on. */
  constructor(
    private readonly handler: StreamHandler<Session>,
    private readonly smtpPorts: Uint8Array,
    private readonly limits: ReassemblyLimits,
    private readonly stats: CaptureStats,
  ) {}

  get flowCount(): number {
    return this.flows.size;
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
    if (overlap >= captured + missing) {
      this.stats.retransmitted_bytes += captured + missing;
      if (fin && overlap === captured + missing) stream.finished = true;
      return;
    }
    this.stats.retransmitted_bytes += overlap;
    const dataStart = start + Math.min(overlap, captured);
    if (dataStart < end) this.handler.onData(flow, fromClient, buf, dataStart, end, time);
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
      stream.bufferedBytes -= next.data.length;
      this.deliver(flow, stream, fromClient, next.sequence, next.data, 0, next.data.length,
        next.missingLength, next.fin, time);
    }
  }

  private buffer(
    flow: TcpFlow<Session>, stream: TcpStream, fromClient: boolean, sequence: number,
    buf: Buffer, start: number, end: number, missing: number, fin: boolean, time: number,
  ): void {
    this.stats.out_of_order_segments++;
    const length = end - start;
    while (stream.buffered.length > 0
      && stream.bufferedBytes + length > this.limits.maxBufferedBytesPerStream) {
      this.stats.reassembly_buffer_overflows++;
      this.skipToFirstBuffered(flow, stream, fromClient, time);
      if (sequenceDiff(sequence, stream.nextSequence) <= 0) {
        this.accept(flow, stream, fromClient, sequence, buf, start, end, missing, fin, time);
        return;
      }
    }
    if (length > this.limits.maxBufferedBytesPerStream) {
      this.stats.reassembly_buffer_overflows++;
      this.reportGap(flow, fromClient, sequenceDiff(sequence, stream.nextSequence), time);
      stream.nextSequence = sequence;
      this.accept(flow, stream, fromClient, sequence, buf, start, end, missing, fin, time);
      return;
    }
    const buffered = stream.buffered;
    let index = buffered.length;
    while (index > 0 && sequenceDiff(buffered[index - 1].sequence, sequence) > 0) index--;
    const previous = buffered[index - 1];
    if (previous !== undefined && previous.sequence === sequence
      && previous.data.length + previous.missingLength >= length + missing) {
      this.stats.retransmitted_bytes += length + missing;
      return;
    }
    // Copied: `buf` is the capture library's buffer and is overwritten by the next packet.
    const data = Buffer.from(buf.subarray(start, end));
    buffered.splice(index, 0, { sequence, data, missingLength: missing, fin });
    stream.bufferedBytes += length;
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
   * The peer acknowledged bytes of this direction that were never delivered while later ones
   * wait in the buffer: the capture lost them, so waiting longer gains nothing.
   */
  private skipHoleAcknowledged(
    flow: TcpFlow<Session>, fromClient: boolean, acknowledgement: number, time: number,
  ): void {
    const stream = fromClient ? flow.client : flow.server;
    if (stream.buffered.length === 0 || stream.finished) return;
    if (sequenceDiff(acknowledgement, stream.nextSequence) <= 0) return;
    const first = stream.buffered[0];
    if (sequenceDiff(acknowledgement, first.sequence) < 0) {
      this.reportGap(flow, fromClient, sequenceDiff(acknowledgement, stream.nextSequence), time);
      stream.nextSequence = acknowledgement;
      return;
    }
    this.skipToFirstBuffered(flow, stream, fromClient, time);
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
      stream.buffered.length = 0;
      stream.bufferedBytes = 0;
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
    // The consumer's state is let go at once; only the small flow record lingers.
    flow.session = undefined;
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
