import type { CaptureAnomalyName } from './capture-anomaly-name.js';
import type { TcpFlow } from './tcp-flow.js';

export type FlowCloseReason = 'fin' | 'rst' | 'idle' | 'evicted' | 'reused' | 'end_of_capture';

/**
 * What the reassembler tells its consumer, per flow, in this order: one onFlowOpen, then
 * onData, onGap and onAnomaly in stream order for each direction (directions interleave in
 * capture order), then one onFlowClose. `time` is the capture time in milliseconds of the
 * packet that caused the call, which may belong to another flow when a shared limit (the
 * flow table, the total buffer) makes this one give up.
 */
export interface StreamHandler<Session> {
  /** Returns the consumer's state for the flow, kept in `flow.session`. */
  onFlowOpen(flow: TcpFlow<Session>, time: number): Session;
  /**
   * Bytes buf[start, end) of one direction, each byte delivered once and in order. `buf` may
   * be the capture library's buffer, overwritten after the call returns: copy what you keep.
   */
  onData(
    flow: TcpFlow<Session>, fromClient: boolean, buf: Buffer, start: number, end: number,
    time: number,
  ): void;
  /** `length` bytes of one direction are missing (lost or not captured). */
  onGap(flow: TcpFlow<Session>, fromClient: boolean, length: number, time: number): void;
  /**
   * Something suspicious in one direction's segments, reported where it happens in stream
   * order; reassembly goes on as documented for the anomaly.
   */
  onAnomaly(
    flow: TcpFlow<Session>, fromClient: boolean, name: CaptureAnomalyName, detail: string,
    time: number,
  ): void;
  onFlowClose(flow: TcpFlow<Session>, reason: FlowCloseReason, time: number): void;
}
