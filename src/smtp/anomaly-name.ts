/**
 * Stable names of SmtpAnomaly events (docs/anomalies.md says what each means). Processing
 * always continues after one.
 */
export type AnomalyName =
  | 'line_too_long'
  | 'tcp_gap'
  | 'reply_wait_overflow';
