/**
 * Counters of the capture and reassembly stages. Every limit that drops something counts it
 * here, under a stable snake_case name, and the agent reports them in its stats lines.
 */
export class CaptureStats {
  packets = 0;
  bytes = 0;
  /** Packets that are not TCP over IPv4/IPv6 on a supported link layer. */
  non_tcp_packets = 0;
  /** TCP packets on no configured port. */
  other_port_packets = 0;
  /** Headers cut short by the snap length or malformed: nothing usable in them. */
  malformed_packets = 0;
  /** Limitation: IP fragments are not reassembled; they are counted here and skipped. */
  ip_fragments = 0;
  truncated_segments = 0;
  flows_opened = 0;
  flows_closed = 0;
  flows_expired = 0;
  /** Flows dropped, oldest first, because the flow table was full. */
  flows_evicted = 0;
  retransmitted_bytes = 0;
  out_of_order_segments = 0;
  /** Times a flow's out-of-order buffer was full and the sensor stopped waiting for a hole. */
  reassembly_buffer_overflows = 0;
  /** Times the out-of-order bytes of all flows together reached their limit. */
  reassembly_total_buffer_overflows = 0;
  /** Retransmissions whose bytes differ from the copy already delivered or held. */
  overlap_conflicts = 0;
  gaps = 0;
  gap_bytes = 0;
}
