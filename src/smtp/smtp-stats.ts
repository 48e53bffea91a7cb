/** Counters of the SMTP stage, under stable names reported in the agent's stats lines. */
export class SmtpStats {
  commands = 0;
  /** AUTH exchange lines: never reported, never logged, only counted. */
  auth_continuation_lines = 0;
  body_bytes = 0;
  bdat_chunk_bytes = 0;
  lines_too_long = 0;
  /** Server replies with no command waiting for them (capture joined late, or lost bytes). */
  unpaired_replies = 0;
  /** Commands forgotten because more than MAX_PENDING_COMMANDS awaited replies. */
  pending_commands_dropped = 0;
  /** Times client bytes held for a reply passed MAX_HELD_BYTES and were parsed without it. */
  reply_wait_overflows = 0;
  /** Partial command lines dropped because of a gap or the end of the connection. */
  partial_lines_dropped = 0;
  /** Connections whose client spoke TLS from its first byte (implicit TLS). */
  implicit_tls_sessions = 0;
  starttls_sessions = 0;
}
