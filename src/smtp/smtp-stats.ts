/** Counters of the SMTP stage, under stable names reported in the agent's stats lines. */
export class SmtpStats {
  commands = 0;
  /** AUTH exchange lines: never reported, never logged, only counted. */
  auth_continuation_lines = 0;
  body_bytes = 0;
  bdat_chunk_bytes = 0;
  lines_too_long = 0;
  /**
   * Bytes of unfinished command lines skipped because all connections' unfinished lines
   * together had reached MAX_UNFINISHED_LINE_BYTES (LineBudget); each such line was cut.
   */
  line_bytes_over_budget = 0;
  /** Server replies with no command waiting for them (capture joined late, or lost bytes). */
  unpaired_replies = 0;
  /** Commands forgotten because more than MAX_PENDING_COMMANDS awaited replies. */
  pending_commands_dropped = 0;
  /** Times client bytes held for a reply passed MAX_HELD_BYTES and were parsed without it. */
  reply_wait_overflows = 0;
  /** Partial command lines dropped because of a gap or the end of the connection. */
  partial_lines_dropped = 0;
  /** Lines after lost bytes that a later "." showed to be message content: never reported. */
  unanchored_content_lines = 0;
  /** Lines after lost bytes that nothing placed as commands or content (anomaly reported). */
  unanchored_lines_dropped = 0;
  /** Connections whose client spoke TLS from its first byte (implicit TLS). */
  implicit_tls_sessions = 0;
  starttls_sessions = 0;
  /** ClientHellos read into an SmtpTlsHandshake event with its server name and version. */
  tls_handshakes = 0;
  /** ClientHellos that could not be read (malformed, cut by a gap or the connection's end). */
  tls_client_hellos_unreadable = 0;
  /** ClientHellos longer than MAX_CLIENT_HELLO_BYTES, so unread. */
  tls_client_hello_overflows = 0;
  /** Plaintext lines sent after an accepted STARTTLS: never commands, only their verbs told. */
  plaintext_after_starttls_lines = 0;
  /** Verbs of such lines past MAX_INJECTED_VERBS, left out of the anomaly's detail. */
  plaintext_after_starttls_verbs_dropped = 0;
  /** Ambiguous ends of data found; those past the per-message report limit are only counted. */
  ambiguous_ends_of_data = 0;
  ambiguous_ends_of_data_unreported = 0;
  /** Smuggled commands reported because the server's replies showed it ran them. */
  smuggled_commands = 0;
  /** Smuggled command lines past MAX_SMUGGLED_COMMANDS in one message, never reported. */
  smuggled_commands_dropped = 0;
  /** UNKNOWN lines of sessions found not to be SMTP: counted instead of reported. */
  not_smtp_lines = 0;
}
