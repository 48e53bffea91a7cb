/** Counters of the spool, all since the agent started. */
export interface SpoolStats {
  records_written: number;
  bytes_written: number;
  /** Appends that failed (disk full, I/O error): those events are lost, and counted here. */
  write_errors: number;
  segments: number;
  bytes: number;
  segments_deleted: number;
  /** Segments deleted by the size cap with records some sink had not read. */
  segments_dropped: number;
  /** Records of damaged or torn regions found at start, skipped. */
  damaged_records_skipped: number;
  damaged_bytes_skipped: number;
  syncs: number;
}
