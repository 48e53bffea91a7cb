/**
 * Why the sensor's commands for a connection may rightly differ from tshark's. Each reason was
 * checked against the connection's bytes (`tshark -r F -q -z follow,tcp,ascii,N`) and the RFC.
 */
export type DifferenceReason =
  /** tshark 4.0 reads `STARTTLS` as command `STAR`, parameter `TLS` (RFC 3207 section 4). */
  | 'tshark splits STARTTLS'
  /**
   * tshark marks the client's AUTH continuation lines (base64 responses to 334 challenges,
   * RFC 4954 section 4) as requests; they are not commands and DESIGN forbids emitting them.
   */
  | 'tshark shows AUTH lines as commands'
  /**
   * tshark takes what follows every DATA as message content, even after a DATA the server
   * refused (no 354, so no content follows: RFC 5321 section 4.1.1.4), and misses a command
   * sent in the same segment as the content's final CRLF.CRLF.
   */
  | 'tshark loses commands after DATA'
  /**
   * tshark does not follow BDAT (RFC 3030 section 2): it reads the chunk as commands or as
   * DATA content and loses the BDAT command or the commands after the chunk.
   */
  | 'tshark loses commands after BDAT'
  /**
   * tshark misses commands that share a segment with other commands and message content
   * (RFC 2920 pipelining).
   */
  | 'tshark loses pipelined commands'
  /** tshark decodes nothing when the client speaks before the server's greeting. */
  | 'tshark silent when the client speaks first'
  /**
   * DESIGN (SmtpTlsHandshake): after an accepted STARTTLS nothing is parsed as SMTP; a capture
   * that shows plain text there (decrypted and pasted back) is not read by the sensor.
   */
  | 'sensor stops at STARTTLS by design'
  /** The sensor reads only the ports given with --ports; tshark also follows other dissectors. */
  | 'not on an SMTP port';

/** One correction to tshark's commands for one connection. */
export interface ExpectedDifference {
  /** Connection name as in connection-commands.ts: `client:port > server:port`. */
  connection: string;
  /** Index in tshark's command list where `tshark` starts. */
  at: number;
  /** What tshark shows there (may be empty: the commands it misses go at `at`). */
  tshark: readonly string[];
  /** What the client really sent there, as the sensor must report it. */
  sensor: readonly string[];
  reason: DifferenceReason;
  /** What the connection's bytes show, with the RFC rule that decides. */
  evidence: string;
}

export interface CaptureExpectations {
  /** Path under the public captures folder. */
  file: string;
  /** Ports besides 25, 465 and 587 that carry SMTP in this capture (SOURCES.md says which). */
  extraSmtpPorts?: readonly number[];
  differences: readonly ExpectedDifference[];
}
