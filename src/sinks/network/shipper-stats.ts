/** Counters of one network sink, since the agent started. */
export interface ShipperStats {
  delivered: number;
  /** Events its `where` expression left out (acknowledged without being sent). */
  filtered: number;
  batches: number;
  send_errors: number;
  /** Events the spool's size cap deleted before this sink could send them. */
  dropped: number;
  /** Spool records that were not an event line (never expected: records carry a CRC). */
  unreadable: number;
  /** Records in the spool this sink has not had acknowledged yet. */
  lag: number;
}
