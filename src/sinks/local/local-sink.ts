/** Counters of a stdout or file sink. */
export interface LocalSinkStats {
  written: number;
  filtered: number;
  /** Events that could not be written (reader gone, disk full): lost, and counted here. */
  lost: number;
  write_errors: number;
  rotations: number;
}

/**
 * An output written synchronously in the capture loop. `write` takes the event's JSON line,
 * newline included; lines may wait in memory until `flush`, which the agent calls after each
 * batch of packets.
 */
export interface LocalSink {
  write(line: string): void;
  flush(): void;
  /** SIGHUP: let go of the output file and open it again (after an external rotation). */
  reopen(): void;
  close(): void;
  stats(): Omit<LocalSinkStats, 'filtered'>;
}
