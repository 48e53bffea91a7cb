/** Limits of the flow table and reassembly buffers; what each drops is counted in stats. */
export interface ReassemblyLimits {
  /** Flows tracked at once; a new flow beyond it evicts the oldest (flows_evicted). */
  maxFlows: number;
  /**
   * Out-of-order bytes held per direction; past it the sensor stops waiting for the missing
   * bytes, reports them as a gap and delivers what it holds (reassembly_buffer_overflows).
   */
  maxBufferedBytesPerStream: number;
  /** A flow with no packet for this long, in capture time, is closed (flows_expired). */
  idleTimeoutMs: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  maxFlows: 100_000,
  maxBufferedBytesPerStream: 1 << 20,
  idleTimeoutMs: 10 * 60_000,
};

/** A closed flow stays this long so that its late packets are not taken for a new flow. */
export const CLOSED_FLOW_LINGER_MS = 60_000;
/** Idle flows are looked for at most this often, in capture time. */
export const SWEEP_INTERVAL_MS = 10_000;
