/**
 * Stable names of SmtpAnomaly events (docs/anomalies.md says what each means). Processing
 * always continues after one.
 */
export type AnomalyName =
  | 'line_too_long'
  | 'tcp_gap'
  | 'unanchored_lines_dropped'
  | 'auth_exchange_uncertain'
  | 'auth_lines_after_rejection'
  | 'reply_wait_overflow'
  | 'data_rejected_body_as_commands'
  | 'ambiguous_end_of_data'
  | 'smuggled_commands_executed'
  | 'plaintext_after_starttls'
  | 'bdat_size_invalid'
  | 'bdat_size_mismatch'
  | 'bdat_rejected_chunk_as_commands'
  | 'not_smtp';
