/** Limits of the flow table and reassembly buffers; what each drops is counted in stats. */
export interface ReassemblyLimits {
  /** Flows tracked at once; a new flow beyond it evicts the oldest (flows_evicted). */
  maxFlows: number;
  /**
   * Out-of-order bytes held per direction, each segment counting HELD_SEGMENT_OVERHEAD_BYTES
   * more; past it the sensor stops waiting for the missing bytes, reports them as a gap and
   * delivers what it holds (reassembly_buffer_overflows).
   */
  maxBufferedBytesPerStream: number;
  /**
   * Out-of-order bytes held by all flows together, counted as above; past it the flow that
   * began holding bytes first gives up its first hole (reassembly_total_buffer_overflows).
   */
  maxBufferedBytesTotal: number;
  /**
   * Delivered bytes remembered per direction (a power of two, or 0 for none) to compare with
   * retransmissions; older bytes are not compared (tcp_overlap_conflict).
   */
  recentBytesPerStream: number;
  /** A flow with no packet for this long, in capture time, is closed (flows_expired). */
  idleTimeoutMs: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  maxFlows: 100_000,
  maxBufferedBytesPerStream: 1 << 20,
  maxBufferedBytesTotal: 64 << 20,
  recentBytesPerStream: 256,
  idleTimeoutMs: 10 * 60_000,
};

/**
 * What holding one out-of-order segment costs besides its bytes (its record, its buffer
 * object), counted against the buffer limits so that many tiny or empty segments (FIN only, or
 * cut to nothing by the snap length) cannot hold unbounded memory. Measured: a held 100-byte
 * segment costs about 410 bytes (bench/reassembly-bench.ts).
 */
export const HELD_SEGMENT_OVERHEAD_BYTES = 320;

/** A closed flow stays this long so that its late packets are not taken for a new flow. */
export const CLOSED_FLOW_LINGER_MS = 60_000;
/** Idle flows are looked for at most this often, in capture time. */
export const SWEEP_INTERVAL_MS = 10_000;
