import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KIND_NAMES } from '../../src/smtp/command-kind.js';
import { SmtpSession } from '../../src/smtp/smtp-session.js';
import { SmtpStats } from '../../src/smtp/smtp-stats.js';
import { clientHelloBytes } from './client-hello-bytes.js';
import { play, type Step } from './session-script.js';

const BANNER: Step = ['s', '220 mx.example.org ESMTP\r\n'];
const EHLO_REPLY: Step = ['s', '250-mx.example.org\r\n250-PIPELINING\r\n250 CHUNKING\r\n'];

interface Scenario {
  name: string;
  steps: Step[];
  expected: string[];
  sawHandshake?: boolean;
  /** Anomalies recorded with their detail text. */
  details?: boolean;
}

/** SNI mail.example.org; supported_versions 1.3 and 1.2 (RFC 8446 4.2.1): TLS 1.3. */
const HELLO = clientHelloBytes({ serverName: 'mail.example.org', versions: [0x0304, 0x0303] });
const HELLO_EVENT = 'TLS starttls sni=mail.example.org version=TLS 1.3';
/** An application-data record (type 23) whose bytes read as commands. */
const TLS_DATA = Buffer.concat([Buffer.from([23, 3, 3, 0, 17]),
  Buffer.from('MAIL FROM:<h@x>\r\n')]);

/** A message whose content hides a transaction behind `variant`, a bare-CR/LF dot line. */
function smuggled(variant: string, verb = 'MAIL'): string {
  return `Subject: x\r\n\r\nhi${variant}${verb} FROM:<s@evil>\r\nRCPT TO:<v@victim>\r\n`
    + 'DATA\r\nspoofed\r\n.\r\n';
}

const ENVELOPE: Step[] = [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY, ['c', 'MAIL FROM:<a@x>\r\n'],
  ['s', '250 ok\r\n'], ['c', 'RCPT TO:<b@y>\r\n'], ['s', '250 ok\r\n'], ['c', 'DATA\r\n'],
  ['s', '354 go\r\n']];
const ENVELOPE_RECORDS = ['EHLO EHLO c', 'MAIL MAIL FROM:<a@x>', 'RCPT RCPT TO:<b@y>',
  'DATA DATA'];
const SMUGGLED_RECORDS = [
  "!smuggled_commands_executed the server's replies show it ran 3 commands hidden in a message",
  'MAIL MAIL FROM:<s@evil>', 'RCPT RCPT TO:<v@victim>', 'DATA DATA'];

/** Each expected list is worked out from the RFC section the scenario names. */
const scenarios: Scenario[] = [
  {
    name: 'plain session: body lines that look like commands are not commands (5321 4.1.1.4)',
    steps: [BANNER, ['c', 'EHLO client.example\r\n'], EHLO_REPLY,
      ['c', 'MAIL FROM:<a@example.org>\r\n'], ['s', '250 ok\r\n'],
      ['c', 'RCPT TO:<b@example.net>\r\n'], ['s', '250 ok\r\n'],
      ['c', 'DATA\r\n'], ['s', '354 go ahead\r\n'],
      ['c', 'Subject: x\r\n\r\nMAIL FROM:<evil@example.com>\r\nQUIT\r\n..\r\n.\r\n'],
      ['s', '250 queued\r\n'], ['c', 'QUIT\r\n'], ['s', '221 bye\r\n']],
    expected: ['EHLO EHLO client.example', 'MAIL MAIL FROM:<a@example.org>',
      'RCPT RCPT TO:<b@example.net>', 'DATA DATA', 'QUIT QUIT'],
  },
  {
    name: 'pipelined MAIL, RCPT, DATA in one segment wait for 354 (RFC 2920)',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY,
      ['c', 'MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n'],
      ['s', '250 ok\r\n250 ok\r\n354 go\r\n'], ['c', 'RSET\r\n.\r\n'], ['s', '250 ok\r\n'],
      ['c', 'QUIT\r\n']],
    expected: ['EHLO EHLO c', 'MAIL MAIL FROM:<a@x>', 'RCPT RCPT TO:<b@y>', 'DATA DATA',
      'QUIT QUIT'],
  },
  {
    name: 'bytes sent after DATA before its 354 are the body once 354 comes',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY,
      ['c', 'MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nRCPT TO:<c@z>\r\n.\r\nQUIT\r\n'],
      ['s', '250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n221 bye\r\n']],
    expected: ['EHLO EHLO c', 'MAIL MAIL FROM:<a@x>', 'RCPT RCPT TO:<b@y>', 'DATA DATA',
      'QUIT QUIT'],
  },
  {
    name: 'DATA rejected: the pipelined bytes after it are commands to the server',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY,
      ['c', 'MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nSubject: hi\r\n\r\n.\r\nQUIT\r\n'],
      ['s', '250 ok\r\n550 no such user\r\n554 no valid recipients\r\n']],
    expected: ['EHLO EHLO c', 'MAIL MAIL FROM:<a@x>', 'RCPT RCPT TO:<b@y>', 'DATA DATA',
      '!data_rejected_body_as_commands', 'UNKNOWN Subject: hi', 'UNKNOWN .', 'QUIT QUIT'],
  },
  {
    name: 'client-only capture: DATA is taken as accepted and its body skipped',
    steps: [['c', 'HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n'],
      ['c', 'HELO inside\r\n.\r\nQUIT\r\n']],
    expected: ['HELO HELO c', 'MAIL MAIL FROM:<a@x>', 'RCPT RCPT TO:<b@y>', 'DATA DATA',
      'QUIT QUIT'],
  },
  {
    name: 'AUTH LOGIN: continuation lines that read as HELO and QUIT are credentials',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY, ['c', 'AUTH LOGIN\r\n'],
      ['s', '334 VXNlcm5hbWU6\r\n'], ['c', 'HELO\r\n'], ['s', '334 UGFzc3dvcmQ6\r\n'],
      ['c', 'QUIT\r\n'], ['s', '235 ok\r\n'], ['c', 'MAIL FROM:<a@x>\r\n']],
    expected: ['EHLO EHLO c', 'AUTH AUTH LOGIN', 'MAIL MAIL FROM:<a@x>'],
  },
  {
    name: 'AUTH PLAIN with an initial response: the mechanism only (RFC 4954 section 4)',
    steps: [BANNER, ['c', 'AUTH PLAIN AHVzZXIAc2VjcmV0\r\n'], ['s', '235 ok\r\n'],
      ['c', 'QUIT\r\n']],
    expected: ['AUTH AUTH PLAIN', 'QUIT QUIT'],
  },
  {
    name: 'AUTH rejected at once: the next line is a command again',
    steps: [BANNER, ['c', 'AUTH CRAM-MD5\r\n'], ['s', '504 unrecognized\r\n'],
      ['c', 'QUIT\r\n']],
    expected: ['AUTH AUTH CRAM-MD5', 'QUIT QUIT'],
  },
  {
    // A script that writes its dialogue without waiting; the server, which offers no AUTH,
    // answers each credential as an unknown command: they must still not be reported.
    name: 'AUTH LOGIN refused, its two credentials sent at once anyway: not commands',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY, ['c', 'AUTH LOGIN\r\nYm9i\r\nc2VjcmV0\r\n'],
      ['s', '502 not implemented\r\n500 unknown\r\n500 unknown\r\n'], ['c', 'QUIT\r\n']],
    expected: ['EHLO EHLO c', 'AUTH AUTH LOGIN', '!auth_lines_after_rejection',
      '!auth_lines_after_rejection', 'QUIT QUIT'],
  },
  {
    name: 'AUTH LOGIN refused, then its credentials after the refusal: not commands either',
    steps: [BANNER, ['c', 'AUTH LOGIN\r\n'], ['s', '502 not implemented\r\n'],
      ['c', 'Ym9i\r\n'], ['s', '500 unknown\r\n'], ['c', 'c2VjcmV0\r\n'],
      ['s', '500 unknown\r\n'], ['c', 'NOOP\r\n']],
    expected: ['AUTH AUTH LOGIN', '!auth_lines_after_rejection', '!auth_lines_after_rejection',
      'NOOP NOOP'],
  },
  {
    // The server read what followed the refused AUTH as commands: a command stays reported.
    name: 'AUTH PLAIN refused, a MAIL pipelined after it: MAIL is a command',
    steps: [BANNER, ['c', 'AUTH PLAIN\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n'],
      ['s', '504 unrecognized\r\n250 ok\r\n250 ok\r\n']],
    expected: ['AUTH AUTH PLAIN', 'MAIL MAIL FROM:<a@x>', 'RCPT RCPT TO:<b@y>'],
  },
  {
    name: 'AUTH cancelled with * (RFC 4954 section 4)',
    steps: [BANNER, ['c', 'AUTH LOGIN\r\n'], ['s', '334 VXNlcm5hbWU6\r\n'], ['c', '*\r\n'],
      ['s', '501 cancelled\r\n'], ['c', 'NOOP\r\n']],
    expected: ['AUTH AUTH LOGIN', 'NOOP NOOP'],
  },
  {
    name: 'client-only AUTH LOGIN skips the two lines the mechanism takes',
    steps: [['c', 'EHLO c\r\nAUTH LOGIN\r\nSEVMTw==\r\nUVVJVA==\r\nMAIL FROM:<a@x>\r\n']],
    expected: ['EHLO EHLO c', 'AUTH AUTH LOGIN', 'MAIL MAIL FROM:<a@x>'],
  },
  {
    name: 'client-only AUTH PLAIN without initial response skips one line',
    steps: [['c', 'AUTH PLAIN\r\nAHVzZXIAc2VjcmV0\r\nQUIT\r\n']],
    expected: ['AUTH AUTH PLAIN', 'QUIT QUIT'],
  },
  {
    name: 'STARTTLS accepted: nothing after it is plaintext (RFC 3207)',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY, ['c', 'STARTTLS\r\n'],
      ['s', '220 ready\r\n'], ['c', Buffer.concat([HELLO, TLS_DATA])],
      ['s', '\x16\x03\x03\x00\x02ok250 ok\r\n']],
    expected: ['EHLO EHLO c', 'STARTTLS STARTTLS', HELLO_EVENT],
  },
  {
    name: 'STARTTLS refused with 454: the session stays plaintext',
    steps: [BANNER, ['c', 'STARTTLS\r\n'], ['s', '454 TLS not available\r\n'],
      ['c', 'MAIL FROM:<a@x>\r\n']],
    expected: ['STARTTLS STARTTLS', 'MAIL MAIL FROM:<a@x>'],
  },
  {
    name: 'BDAT chunks are skipped by their exact size (RFC 3030)',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY, ['c', 'MAIL FROM:<a@x>\r\n'],
      ['c', 'BDAT 23\r\nRCPT TO:<x@y>\r\nQUIT\r\n\r\nBDAT 0 LAST\r\nQUIT\r\n']],
    expected: ['EHLO EHLO c', 'MAIL MAIL FROM:<a@x>', 'BDAT BDAT 23', 'BDAT BDAT 0',
      'QUIT QUIT'],
  },
  {
    // Postfix 3.7 answered 250 to each of these lines and took the chunk (checked here).
    name: 'BDAT with a tab, two spaces or trailing blanks: the chunk is skipped, as servers do',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY,
      ['c', 'BDAT\t10\r\nRCPT TO:\r\n'], ['s', '250 ok\r\n'],
      ['c', 'BDAT  6 \r\nQUIT\r\n'], ['s', '250 ok\r\n'],
      ['c', 'BDAT 6\tlast \r\nRSET\r\n'], ['s', '250 queued\r\n'], ['c', 'QUIT\r\n']],
    expected: ['EHLO EHLO c', 'BDAT BDAT 10', 'BDAT BDAT 6', 'BDAT BDAT 6', 'QUIT QUIT'],
  },
  {
    name: 'a BDAT a stricter server cannot read (501) before its chunk: the chunk is commands',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY, ['c', 'BDAT\t6\r\n'],
      ['s', '501 syntax\r\n'], ['c', 'RSET\r\nQUIT\r\n']],
    expected: ['EHLO EHLO c', 'BDAT BDAT 6', '!bdat_rejected_chunk_as_commands', 'RSET RSET',
      'QUIT QUIT'],
  },
  {
    name: 'BDAT that is not BDAT SP size [SP LAST] skips nothing',
    steps: [['c', 'BDAT 5 X\r\nBDAT 3 last\r\nabcNOOP\r\nbdat abc\r\nQUIT\r\n']],
    expected: ['BDAT BDAT 5', '!bdat_size_invalid', 'BDAT BDAT 3', 'NOOP NOOP', 'BDAT bdat abc',
      '!bdat_size_invalid', 'QUIT QUIT'],
  },
  {
    name: 'bare LF ends a command line',
    steps: [['c', 'HELO c\nMAIL FROM:<a@x>\nQUIT\n']],
    expected: ['HELO HELO c', 'MAIL MAIL FROM:<a@x>', 'QUIT QUIT'],
  },
  {
    name: 'verbs are matched case-insensitively and kept as sent; FROM: and path join',
    steps: [['c', 'mail from: <a@x>\r\nRcPt To:\t<b@y> NOTIFY=NEVER\r\nQuIt\r\n']],
    expected: ['MAIL mail from:<a@x>', 'RCPT RcPt To:<b@y>', 'QUIT QuIt'],
  },
  {
    name: 'a verb glued to more letters is UNKNOWN and changes nothing',
    steps: [['c', 'DATAX\r\nMAIL FROM:<a@x>\r\nSTARTTLSX\r\nQUIT\r\n']],
    expected: ['UNKNOWN DATAX', 'MAIL MAIL FROM:<a@x>', 'UNKNOWN STARTTLSX', 'QUIT QUIT'],
  },
  {
    name: 'empty lines are not commands',
    steps: [['c', '\r\n\r\nNOOP\r\n\n']],
    expected: ['NOOP NOOP'],
  },
  {
    name: 'a client that opens with a ClientHello is implicit TLS, whatever the port',
    steps: [['c', Buffer.concat([HELLO, TLS_DATA])], ['s', '\x16\x03\x03\x00\x02ok']],
    expected: ['TLS implicit sni=mail.example.org version=TLS 1.3'],
  },
  {
    name: 'a first byte 0x16 whose record is cut short is not SMTP and not a ClientHello',
    steps: [['c', '\x16\x03\x01\x02\x00\x01EHLO x\r\nQUIT\r\n']],
    expected: ['!not_smtp'],
  },
  {
    name: 'a first byte 0x16 with a record that is not a ClientHello is not SMTP',
    steps: [['c', '\x16\x03\x01\x00\x05hello\r\nQUIT\r\n']],
    expected: ['!not_smtp'],
  },
  {
    name: 'ClientHello over three records, no SNI, no supported_versions: legacy TLS 1.2',
    steps: [BANNER, ['c', 'STARTTLS\r\n'], ['s', '220 go\r\n'],
      ['c', clientHelloBytes({ recordSize: 20 })]],
    expected: ['STARTTLS STARTTLS', 'TLS starttls sni= version=TLS 1.2'],
  },
  {
    name: 'ClientHello offering GREASE (RFC 8701), 1.3 and 1.2 over legacy 1.0: TLS 1.3',
    steps: [['c', clientHelloBytes({ serverName: 'a.example', legacyVersion: 0x0301,
      versions: [0x1a1a, 0x0303, 0x0304], recordSize: 7 })]],
    expected: ['TLS implicit sni=a.example version=TLS 1.3'],
  },
  {
    name: 'ClientHello of TLS 1.0 without extensions gives its legacy version',
    steps: [['c', clientHelloBytes({ legacyVersion: 0x0301 })]],
    expected: ['TLS implicit sni= version=TLS 1.0'],
  },
  {
    name: 'STARTTLS accepted but the next record is no ClientHello: a handshake without fields',
    steps: [BANNER, ['c', 'STARTTLS\r\n'], ['s', '220 go\r\n'],
      ['c', '\x16\x03\x01\x00\x05hello']],
    expected: ['STARTTLS STARTTLS', 'TLS starttls sni= version='],
  },
  {
    name: 'CVE-2011-0411: commands pipelined after STARTTLS are injected plaintext, not commands',
    details: true,
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY,
      ['c', 'STARTTLS\r\nRSET\r\nMAIL FROM:<a@x>\r\n'], ['s', '220 ready\r\n'], ['c', HELLO]],
    expected: ['EHLO EHLO c', 'STARTTLS STARTTLS',
      '!plaintext_after_starttls plaintext after STARTTLS was accepted: RSET MAIL', HELLO_EVENT],
  },
  {
    name: 'CVE-2011-0411 in a client-only capture: STARTTLS assumed accepted',
    details: true,
    steps: [['c', 'EHLO c\r\nSTARTTLS\r\nrcpt TO:<a@x>\r\n'], ['c', HELLO]],
    expected: ['EHLO EHLO c', 'STARTTLS STARTTLS',
      '!plaintext_after_starttls plaintext after STARTTLS was accepted: rcpt', HELLO_EVENT],
  },
  {
    name: 'plaintext after STARTTLS: only SMTP verbs are named, nothing after an AUTH line',
    details: true,
    steps: [BANNER, ['c', 'STARTTLS\r\n'], ['s', '220 go\r\n'],
      ['c', 'Subject: secret plans\r\nNOOP\r\nAUTH LOGIN\r\nHELO\r\nQUIT\r\n'], ['c', HELLO]],
    expected: ['STARTTLS STARTTLS',
      '!plaintext_after_starttls plaintext after STARTTLS was accepted: NOOP AUTH; 3 other lines',
      HELLO_EVENT],
  },
  {
    name: 'DATA refused while the client waited: what follows is commands, no anomaly',
    steps: [BANNER, ['c', 'DATA\r\n'], ['s', '554 no valid recipients\r\n'],
      ['c', 'QUIT\r\n']],
    expected: ['DATA DATA', 'QUIT QUIT'],
  },
  ...(['<LF>.<CR><LF>', '<LF>.<LF>', '<CR>.<CR>', '<CR><LF>.<CR>'].map((variant) => ({
    name: `smuggling ${variant} + MAIL: one message to a server that does not split it`,
    details: true,
    steps: [...ENVELOPE,
      ['c', smuggled(variant.replaceAll('<CR>', '\r').replaceAll('<LF>', '\n'))],
      ['s', '250 queued\r\n'], ['c', 'QUIT\r\n'], ['s', '221 bye\r\n']] as Step[],
    expected: [...ENVELOPE_RECORDS, `!ambiguous_end_of_data ${variant} followed by MAIL`,
      'QUIT QUIT'],
  }))),
  {
    name: 'smuggling <LF>.<LF> + lower-case mail: the server split it, so its commands ran',
    details: true,
    steps: [...ENVELOPE, ['c', smuggled('\n.\n', 'mail')],
      ['s', '250 queued\r\n250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n'],
      ['c', 'QUIT\r\n'], ['s', '221 bye\r\n']],
    expected: [...ENVELOPE_RECORDS, '!ambiguous_end_of_data <LF>.<LF> followed by mail',
      "!smuggled_commands_executed the server's replies show it ran 3 commands hidden in a "
        + 'message', 'MAIL mail FROM:<s@evil>', 'RCPT RCPT TO:<v@victim>', 'DATA DATA',
      'QUIT QUIT'],
  },
  {
    name: 'smuggling <CR>.<CR>, QUIT pipelined after the end: the extra replies still prove it',
    details: true,
    steps: [...ENVELOPE, ['c', smuggled('\r.\r') + 'QUIT\r\n'],
      ['s', '250 queued\r\n250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n221 bye\r\n']],
    expected: [...ENVELOPE_RECORDS, '!ambiguous_end_of_data <CR>.<CR> followed by MAIL',
      'QUIT QUIT', ...SMUGGLED_RECORDS],
  },
  {
    name: 'dot lines with bare line ends not followed by MAIL, RCPT or DATA are plain content',
    steps: [...ENVELOPE, ['c', 'a\n.\nhello\r\n..MAIL x\r\n.\rQUIT\r\n\r.\nRSET\r\n.\r\n'],
      ['s', '250 queued\r\n'], ['c', 'QUIT\r\n']],
    expected: [...ENVELOPE_RECORDS, 'QUIT QUIT'],
  },
  {
    name: 'BDAT sizes that are not numbers or pass 2^53 are reported and skip nothing',
    steps: [['c', 'EHLO c\r\nBDAT abc\r\nBDAT 9007199254740993\r\nBDAT 12x\r\nNOOP\r\n'
      + 'BDAT 9007199254740991\r\nQUIT\r\n']],
    expected: ['EHLO EHLO c', 'BDAT BDAT abc', '!bdat_size_invalid',
      'BDAT BDAT 9007199254740993', '!bdat_size_invalid', 'BDAT BDAT 12x',
      '!bdat_size_invalid', 'NOOP NOOP', 'BDAT BDAT 9007199254740991'],
  },
  {
    name: 'BDAT chunk longer than declared: its tail is read as a line (bdat_size_mismatch)',
    steps: [['c', 'EHLO c\r\nMAIL FROM:<a@x>\r\nBDAT 5 LAST\r\nhello world\r\nQUIT\r\n']],
    expected: ['EHLO EHLO c', 'MAIL MAIL FROM:<a@x>', 'BDAT BDAT 5', '!bdat_size_mismatch',
      'UNKNOWN world', 'QUIT QUIT'],
  },
  {
    name: 'BDAT chunk followed by CRLF the size did not count (bdat_size_mismatch)',
    steps: [['c', 'EHLO c\r\nBDAT 5\r\nhello\r\nQUIT\r\n']],
    expected: ['EHLO EHLO c', 'BDAT BDAT 5', '!bdat_size_mismatch', 'QUIT QUIT'],
  },
  {
    name: 'BDAT chunk shorter than declared eats the next command (bdat_size_mismatch)',
    steps: [['c', 'EHLO c\r\nBDAT 10\r\nhello'], ['c', 'BDAT 0 LAST\r\nQUIT\r\n']],
    expected: ['EHLO EHLO c', 'BDAT BDAT 10', '!bdat_size_mismatch', 'UNKNOWN 0 LAST',
      'QUIT QUIT'],
  },
  {
    name: 'BDAT answered 502 before its chunk: the server reads the chunk as commands',
    steps: [BANNER, ['c', 'EHLO c\r\n'], ['s', '250 mx\r\n'], ['c', 'BDAT 30\r\n'],
      ['s', '502 5.5.1 command not implemented\r\n'], ['c', 'MAIL FROM:<a@x>\r\nQUIT\r\n']],
    expected: ['EHLO EHLO c', 'BDAT BDAT 30', '!bdat_rejected_chunk_as_commands',
      'MAIL MAIL FROM:<a@x>', 'QUIT QUIT'],
  },
  {
    name: 'bare CR is not a line end: it stays inside the verb, which is then UNKNOWN',
    steps: [['c', 'HELO c\r\nNOOP\rMAIL FROM:<a@x>\r\nQUIT\r\n']],
    expected: ['HELO HELO c', 'UNKNOWN NOOP\\x0dMAIL FROM:<a@x>', 'QUIT QUIT'],
  },
  {
    name: 'a NUL glued to a verb makes it UNKNOWN: DATA<NUL> starts no message',
    steps: [['c', 'HELO c\r\nMAIL\0FROM:<a@x>\r\nDATA\0\r\nQUIT\r\n']],
    expected: ['HELO HELO c', 'UNKNOWN MAIL\\x00FROM:<a@x>', 'UNKNOWN DATA\\x00',
      'QUIT QUIT'],
  },
  {
    name: 'the rest of an over-long line never becomes a command, even a DATA in it',
    steps: [['c', `NOOP ${'x'.repeat(5000)} DATA\r\nQUIT\r\n`]],
    expected: [`NOOP NOOP ${'x'.repeat(1024)}`, '!line_too_long', 'QUIT QUIT'],
  },
  {
    name: 'HTTP on an SMTP port: one not_smtp, no UNKNOWN events',
    details: true,
    steps: [['c', 'GET / HTTP/1.1\r\nHost: mx\r\nAccept: */*\r\n\r\n'],
      ['s', 'HTTP/1.1 400 Bad Request\r\n']],
    expected: ['!not_smtp HTTP request line'],
  },
  {
    name: 'HTTP POST carrying SMTP commands: not_smtp, and the SMTP verbs still reported',
    steps: [['c', 'POST / HTTP/1.1\r\nHost: mx\r\nContent-Length: 33\r\n\r\n'
      + 'MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n']],
    expected: ['!not_smtp', 'MAIL MAIL FROM:<a@x>', 'RCPT RCPT TO:<b@y>'],
  },
  {
    name: 'binary bytes on an SMTP port: one not_smtp for the session',
    details: true,
    steps: [['c', Buffer.from([0x00, 0x9f, 0x41, 0x0a, 0x05, 0x0a, 0x42, 0x43, 0x0a, 0xff,
      0x0a])]],
    expected: ['!not_smtp control bytes in the first line'],
  },
  {
    name: 'three lines without an SMTP verb: not_smtp, then only real verbs',
    details: true,
    steps: [['c', 'hello\r\nworld\r\nfoo\r\nbar\r\nQUIT\r\n']],
    expected: ['UNKNOWN hello', 'UNKNOWN world', '!not_smtp 3 lines without an SMTP verb',
      'QUIT QUIT'],
  },
  {
    name: 'joined midstream: a first line without a verb may be partial, dropped; no not_smtp',
    sawHandshake: false,
    steps: [['c', 'GET / HTTP/1.1\r\n']],
    expected: [],
  },
  {
    name: 'AUTH PLAIN: 334, credentials, 535 ends the exchange (RFC 4954 section 4)',
    steps: [BANNER, ['c', 'AUTH PLAIN\r\n'], ['s', '334 \r\n'], ['c', 'AHVzZXIAc2VjcmV0\r\n'],
      ['s', '535 5.7.8 failed\r\n'], ['c', 'MAIL FROM:<a@x>\r\n']],
    expected: ['AUTH AUTH PLAIN', 'MAIL MAIL FROM:<a@x>'],
  },
  {
    name: 'a gap inside a line drops that line only',
    steps: [['c', 'HELO c\r\nMAIL FR'], ['gap', 20], ['c', 'OM:<a@x>\r\nQUIT\r\n']],
    expected: ['HELO HELO c', '!tcp_gap', 'QUIT QUIT'],
  },
  {
    name: 'tcp_gap says how many client bytes were lost',
    details: true,
    steps: [['c', 'HELO c\r\n'], ['gap', 1448], ['c', 'QUIT\r\n']],
    expected: ['HELO HELO c', '!tcp_gap client bytes missing: 1448', 'QUIT QUIT'],
  },
  {
    name: 'a gap inside a body keeps looking for the end of data',
    steps: [['c', 'HELO c\r\nDATA\r\nline\r\n'], ['gap', 100], ['c', 'more\r\n.\r\nQUIT\r\n']],
    expected: ['HELO HELO c', 'DATA DATA', '!tcp_gap', 'QUIT QUIT'],
  },
  {
    name: 'a lost RCPT line ending where DATA starts: DATA still reported, its body never',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY, ['c', 'MAIL FROM:<a@x>\r\n'],
      ['s', '250 ok\r\n'], ['gap', 29], ['s', '250 ok\r\n'], ['c', 'DATA\r\n'],
      ['s', '354 go\r\n'], ['c', 'RCPT TO:<evil@z>\r\nQUIT\r\n.\r\n'],
      ['s', '250 queued\r\n'], ['c', 'QUIT\r\n'], ['s', '221 bye\r\n']],
    expected: ['EHLO EHLO c', 'MAIL MAIL FROM:<a@x>', '!tcp_gap', 'DATA DATA', 'QUIT QUIT'],
  },
  {
    name: 'lost MAIL, RCPT and DATA: the 354 that answers them starts the body',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY, ['gap', 50],
      ['s', '250 ok\r\n250 ok\r\n354 go\r\n'], ['c', 'RCPT TO:<evil@z>\r\nDATA\r\n.\r\n'],
      ['s', '250 queued\r\n'], ['c', 'QUIT\r\n'], ['s', '221 bye\r\n']],
    expected: ['EHLO EHLO c', '!tcp_gap', 'QUIT QUIT'],
  },
  {
    name: 'a gap took the end of data: the server\'s reply ends the body',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY, ['c', 'DATA\r\n'], ['s', '354 go\r\n'],
      ['c', 'line\r\n'], ['gap', 40], ['s', '250 queued\r\n'], ['s', '250 ok\r\n'],
      ['c', 'RCPT TO:<b@y>\r\n'], ['s', '250 ok\r\n'], ['c', 'QUIT\r\n'], ['s', '221 bye\r\n']],
    expected: ['EHLO EHLO c', 'DATA DATA', '!tcp_gap', 'RCPT RCPT TO:<b@y>', 'QUIT QUIT'],
  },
  {
    name: 'a gap took AUTH LOGIN: its 334 makes the next lines credentials, never commands',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY, ['gap', 12], ['s', '334 VXNlcm5hbWU6\r\n'],
      ['c', 'HELO\r\n'], ['s', '334 UGFzc3dvcmQ6\r\n'], ['c', 'QUIT\r\n'], ['s', '235 ok\r\n'],
      ['c', 'NOOP\r\n'], ['s', '250 ok\r\n']],
    expected: ['EHLO EHLO c', '!tcp_gap', 'NOOP NOOP'],
  },
  {
    // RFC 4954 section 4: each 334 asks for one line. With the first 334 lost, the second
    // would pair with AUTH and the password line would follow the 235 as a "command".
    name: 'a 334 lost with the server\'s bytes: the password is not a command',
    details: true,
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY, ['c', 'AUTH LOGIN\r\n'], ['sgap', 18],
      ['c', 'dXNlcg==\r\n'], ['s', '334 UGFzc3dvcmQ6\r\n'], ['c', 'SEVMTw==\r\n'],
      ['s', '235 ok\r\n'], ['c', 'QUIT\r\n'], ['s', '221 bye\r\n']],
    expected: ['EHLO EHLO c', 'AUTH AUTH LOGIN', '!auth_exchange_uncertain server bytes were '
      + 'lost inside an AUTH exchange: the client lines after it are placed by the replies that '
      + 'follow', 'QUIT QUIT'],
  },
  {
    name: 'both AUTH LOGIN lines lost: what follows the 235 is placed by replies, no body',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY, ['c', 'AUTH LOGIN\r\n'],
      ['s', '334 VXNlcm5hbWU6\r\n'], ['gap', 10], ['s', '334 UGFzc3dvcmQ6\r\n'], ['gap', 10],
      ['s', '235 ok\r\n'], ['c', 'MAIL FROM:<a@x>\r\n'], ['s', '250 ok\r\n'],
      ['c', 'DATA\r\n'], ['s', '354 go\r\n'], ['c', 'RSET x\r\nMAIL FROM:<evil@z>\r\n.\r\n'],
      ['s', '250 queued\r\n'], ['c', 'QUIT\r\n'], ['s', '221 bye\r\n']],
    expected: ['EHLO EHLO c', 'AUTH AUTH LOGIN', '!tcp_gap', '!auth_exchange_uncertain',
      '!tcp_gap', '!auth_exchange_uncertain', 'MAIL MAIL FROM:<a@x>', 'DATA DATA', 'QUIT QUIT'],
  },
  {
    // A bare HELO is no valid command (RFC 5321 4.1.1.1 requires a domain): a credential.
    name: 'client bytes lost in AUTH, no replies: nothing after the loss is reported',
    steps: [['c', 'EHLO c\r\nAUTH LOGIN\r\n'], ['gap', 10],
      ['c', 'UVVJVA==\r\nHELO\r\nMAIL FROM:<a@x>\r\nQUIT\r\n']],
    expected: ['EHLO EHLO c', 'AUTH AUTH LOGIN', '!tcp_gap', '!auth_exchange_uncertain',
      '!unanchored_lines_dropped'],
  },
  {
    // The same bytes come from a gap that took a DATA line: without replies, no telling.
    name: 'client-only, lines after a gap up to a "." are taken as content, then commands',
    steps: [['c', 'EHLO c\r\nMAIL FROM:<a@x>\r\n'], ['gap', 20],
      ['c', 'DATA\r\nRCPT TO:<evil@z>\r\n.\r\nQUIT\r\n']],
    expected: ['EHLO EHLO c', 'MAIL MAIL FROM:<a@x>', '!tcp_gap', 'QUIT QUIT'],
  },
  {
    name: 'client-only, a gap then commands up to QUIT at the end: reported',
    steps: [['c', 'EHLO c\r\n'], ['gap', 20], ['c', 'RCPT TO:<b@y>\r\nNOOP\r\nQUIT\r\n']],
    expected: ['EHLO EHLO c', '!tcp_gap', 'RCPT RCPT TO:<b@y>', 'NOOP NOOP', 'QUIT QUIT'],
  },
  {
    name: 'client-only, two gaps among the held lines: nothing places them, dropped',
    steps: [['c', 'EHLO c\r\n'], ['gap', 20], ['c', 'RCPT TO:<b@y>\r\n'], ['gap', 3],
      ['c', 'QUIT\r\n']],
    expected: ['EHLO EHLO c', '!tcp_gap', '!tcp_gap', '!unanchored_lines_dropped'],
  },
  {
    name: 'a gap, then lines, then another gap before the reply: dropped, then resumed',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY, ['gap', 20], ['c', 'MAIL FROM:<a@x>\r\n'],
      ['gap', 6], ['s', '250 ok\r\n'], ['c', 'NOOP\r\n'], ['s', '250 ok\r\n']],
    expected: ['EHLO EHLO c', '!tcp_gap', '!tcp_gap', '!unanchored_lines_dropped', 'NOOP NOOP'],
  },
  {
    name: 'joined midstream inside a body: nothing before the reply to its end is a command',
    sawHandshake: false,
    steps: [['c', 'TO:<x@y>\r\nRCPT TO:<evil@z>\r\n.\r\n'], ['s', '250 queued\r\n'],
      ['c', 'MAIL FROM:<a@x>\r\n'], ['s', '250 ok\r\n'], ['c', 'QUIT\r\n'],
      ['s', '221 bye\r\n']],
    expected: ['MAIL MAIL FROM:<a@x>', 'QUIT QUIT'],
  },
  {
    name: 'joined midstream: a 354 anchors the session in a body',
    sawHandshake: false,
    steps: [['s', '354 go\r\n'], ['c', 'RCPT TO:<evil@z>\r\n.\r\nQUIT\r\n']],
    expected: ['QUIT QUIT'],
  },
  {
    // Joined inside "Hello Bob.": the first "." is the end of a content line, not of data.
    name: 'joined midstream at a cut 354: the content ends at the first CRLF "." CRLF seen',
    sawHandshake: false,
    steps: [['s', '354 End data with <CR><LF'], ['sgap', 12], ['c', '.\r\n.\r\nQUIT\r\n'],
      ['s', '221 bye\r\n']],
    expected: ['QUIT QUIT'],
  },
  {
    name: 'joined midstream, client side only: the lines after a "." line are commands',
    sawHandshake: false,
    steps: [['c', 'MAIL FROM:<evil@z>\r\n.\r\nMAIL FROM:<a@x>\r\nQUIT\r\n']],
    expected: ['MAIL MAIL FROM:<a@x>', 'QUIT QUIT'],
  },
  {
    name: 'joined midstream, nothing places the lines: dropped and reported',
    sawHandshake: false,
    steps: [['c', 'MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n']],
    expected: ['!unanchored_lines_dropped'],
  },
  {
    // The credentials have no verb, but in their place after AUTH they are not content.
    name: 'joined midstream, client side only: AUTH lines up to QUIT at the end are commands',
    sawHandshake: false,
    steps: [['c', 'AUTH PLAIN\r\nAHVzZXIAc2VjcmV0\r\nRSET\r\nAUTH LOGIN dXNlcg==\r\n'
      + 'c2VjcmV0\r\nAUTH LOGIN\r\nHELO\r\nQUIT\r\nNOOP\r\nQUIT\r\n']],
    expected: ['AUTH AUTH PLAIN', 'RSET RSET', 'AUTH AUTH LOGIN', 'AUTH AUTH LOGIN', 'NOOP NOOP',
      'QUIT QUIT'],
  },
  {
    name: 'joined midstream, client side only: a line past what AUTH takes is content',
    sawHandshake: false,
    steps: [['c', 'AUTH PLAIN\r\nAHVzZXIAc2VjcmV0\r\nsome body text\r\nQUIT\r\n']],
    expected: ['!unanchored_lines_dropped'],
  },
  {
    name: 'joined midstream, client side only: an AUTH in the content owes no line after "."',
    sawHandshake: false,
    steps: [['c', 'AUTH LOGIN\r\n.\r\nsome body text\r\nQUIT\r\n']],
    expected: ['!unanchored_lines_dropped'],
  },
  {
    name: 'control bytes, DEL and invalid UTF-8 are escaped; valid UTF-8 is kept',
    steps: [['c', Buffer.concat([Buffer.from('MAIL FROM:<a\x00b\x7f\x01'), Buffer.from([0xff,
      0xc3, 0xa9]), Buffer.from('@x>\r\nHELO \xe9\r\n', 'latin1')])]],
    expected: ['MAIL MAIL FROM:<a\\x00b\\x7f\\x01\\xffé@x>', 'HELO HELO \\xe9'],
  },
  {
    name: 'a server that never ends its EHLO reply: 354 still starts the body',
    steps: [BANNER, ['c', 'EHLO c\r\n'], ['s', '250-mx.example.org\r\n'],
      ['c', 'MAIL FROM:<a@x>\r\n'], ['s', '250 ok\r\n'], ['c', 'RCPT TO:<b@y>\r\n'],
      ['s', '250 ok\r\n'], ['c', 'DATA\r\n'], ['s', '354 go\r\n'],
      ['c', 'Subject: x\r\nRCPT TO:<evil@z>\r\n.\r\n'], ['s', '250 queued\r\n'],
      ['c', 'QUIT\r\n']],
    expected: ['EHLO EHLO c', 'MAIL MAIL FROM:<a@x>', 'RCPT RCPT TO:<b@y>', 'DATA DATA',
      'QUIT QUIT'],
  },
  {
    name: 'replies counted one short: a stale 250 never ends an AUTH exchange',
    steps: [['s', '220-first\r\n220-second'], ['s', '220 last\r\n'],
      ['c', 'EHLO c\r\n'], ['s', '250-mx\r\n250 AUTH LOGIN\r\n'], ['c', 'AUTH LOGIN\r\n'],
      ['s', '250 stale\r\n334 VXNlcm5hbWU6\r\n'], ['c', 'dXNlcg==\r\n'],
      ['s', '334 UGFzc3dvcmQ6\r\n'], ['c', 'UVVJVA==\r\n'], ['s', '235 ok\r\n'],
      ['c', 'QUIT\r\n']],
    expected: ['EHLO EHLO c', 'AUTH AUTH LOGIN', 'QUIT QUIT'],
  },
  {
    name: 'replies to a midstream session without its greeting pair with nothing',
    sawHandshake: false,
    steps: [['s', '250 ok\r\n'], ['c', 'DATA\r\n'], ['s', '354 go\r\n'],
      ['c', 'QUIT\r\n.\r\nQUIT\r\n']],
    expected: ['DATA DATA', 'QUIT QUIT'],
  },
];

describe('SmtpSession scenarios', () => {
  for (const scenario of scenarios) {
    test(scenario.name, () => {
      const { records } = play(scenario.steps, { sawHandshake: scenario.sawHandshake,
        details: scenario.details });
      assert.deepEqual(records, scenario.expected);
    });
  }
});

describe('SmtpSession with every step split', () => {
  for (const scenario of scenarios) {
    test(`${scenario.name}: cut at every byte boundary`, () => {
      const longest = Math.max(...scenario.steps.map((s) => typeof s[1] === 'number' ? 0
        : s[1].length));
      for (let at = 1; at < longest; at++) {
        const { records } = play(scenario.steps, { sawHandshake: scenario.sawHandshake,
          details: scenario.details, cut: (length) => (at < length ? [at] : []) });
        assert.deepEqual(records, scenario.expected, `cut at ${at}`);
      }
      const { records } = play(scenario.steps, { sawHandshake: scenario.sawHandshake,
        details: scenario.details,
        cut: (length) => Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1) });
      assert.deepEqual(records, scenario.expected, 'one byte per piece');
    });
  }
});

describe('SmtpSession limits', () => {
  test('every verb of the kind table, in any case, gets its kind', () => {
    for (const [kind, name] of KIND_NAMES.entries()) {
      if (kind === 0) continue;
      for (const verb of [name, name.toLowerCase(), name[0] + name.slice(1).toLowerCase()]) {
        const { records } = play([['c', `${verb} x\r\n`]]);
        assert.equal(records[0], `${name} ${verb} x`);
      }
    }
  });

  test('a line over 4096 bytes gives its command, a capped argument and line_too_long', () => {
    const long = 'RCPT TO:<' + 'a'.repeat(6000) + '@x>\r\nQUIT\r\n';
    for (const cut of [undefined, (n: number) => [100, 4000, 4100, n - 3]]) {
      const { records, stats } = play([['c', long]], { cut });
      assert.equal(records.length, 3);
      assert.equal(records[0], 'RCPT RCPT TO:<' + 'a'.repeat(1024 - 4));
      assert.equal(records[1], '!line_too_long');
      assert.equal(records[2], 'QUIT QUIT');
      assert.equal(stats.lines_too_long, 1);
    }
  });

  test('held bytes past the limit are parsed with the usual reply assumed', () => {
    const body = 'x'.repeat(70_000) + '\r\n.\r\nQUIT\r\n';
    const { records, stats } = play([BANNER, ['c', 'DATA\r\n'], ['c', body]]);
    assert.deepEqual(records, ['DATA DATA', '!reply_wait_overflow', 'QUIT QUIT']);
    assert.equal(stats.reply_wait_overflows, 1);
  });

  test('credentials appear in no record or detail, whatever carries them', () => {
    const credential = 'AHVzZXIAc2VjcmV0';
    const { records } = play([...ENVELOPE,
      ['c', `a\n.\nMAIL FROM:<s@x>\r\nAUTH PLAIN ${credential}\r\n.\r\n`],
      ['s', '250 queued\r\n250 ok\r\n235 ok\r\n'],
      ['c', `AUTH PLAIN ${credential}${'A'.repeat(5000)}\r\n`], ['s', '535 no\r\n'],
      ['c', `STARTTLS\r\nAUTH PLAIN ${credential}\r\n`], ['s', '220 go\r\n'], ['c', HELLO]],
    { details: true });
    assert.deepEqual(records, [...ENVELOPE_RECORDS,
      '!ambiguous_end_of_data <LF>.<LF> followed by MAIL',
      "!smuggled_commands_executed the server's replies show it ran 2 commands hidden in a "
        + 'message', 'MAIL MAIL FROM:<s@x>', 'AUTH AUTH PLAIN', 'AUTH AUTH PLAIN',
      '!line_too_long command line longer than 4096 bytes', 'STARTTLS STARTTLS',
      '!plaintext_after_starttls plaintext after STARTTLS was accepted: AUTH', HELLO_EVENT]);
    assert.ok(records.every((record) => !record.includes(credential)));
  });

  test('not_smtp: the lines without a verb are counted, one anomaly for the session', () => {
    const { records, stats } = play([['c', 'GET / HTTP/1.1\r\nHost: mx\r\nAccept: */*\r\n'
      + '\r\n' + 'x'.repeat(5000) + '\r\n']]);
    assert.deepEqual(records, ['!not_smtp']);
    assert.equal(stats.not_smtp_lines, 4);
    assert.equal(stats.lines_too_long, 1);
  });

  test('a ClientHello past 16 KiB is not read: counted, and not_smtp on implicit TLS', () => {
    const huge = Buffer.concat([Buffer.from([0x16, 3, 1, 0x40, 0x00, 1, 0, 0x60, 0]),
      Buffer.alloc(20_000, 0x41)]);
    const { records, stats } = play([['c', huge]]);
    assert.deepEqual(records, ['!not_smtp']);
    assert.equal(stats.tls_client_hello_overflows, 1);
    assert.equal(stats.tls_client_hellos_unreadable, 1);
  });

  test('commands past the 512 awaiting a reply: the oldest forgotten, and counted', () => {
    const { records, stats } = play([BANNER, ['c', 'NOOP\r\n'.repeat(600)],
      ['s', '250 ok\r\n'.repeat(600)]]);
    assert.equal(records.length, 600);
    assert.equal(stats.pending_commands_dropped, 600 - 512);
    assert.equal(stats.unpaired_replies, 600 - 512);
  });

  test('AUTH exchange lines are counted, never reported', () => {
    const { records, stats } = play([BANNER, ['c', 'AUTH LOGIN\r\n'], ['s', '334 a\r\n'],
      ['c', 'dXNlcg==\r\n'], ['s', '334 b\r\n'], ['c', 'c2VjcmV0LXBhc3N3b3Jk\r\n'],
      ['s', '235 ok\r\n']]);
    assert.deepEqual(records, ['AUTH AUTH LOGIN']);
    assert.equal(stats.auth_continuation_lines, 2);
    assert.ok(!records.join('\n').includes('c2VjcmV0'));
  });

  test('lines held after lost bytes keep the capture time of their own packets', () => {
    const timed: string[] = [];
    const session = new SmtpSession({
      command: (_kind, verb, _argument, time) => timed.push(`${verb}@${time}`),
      anomaly: () => undefined,
      tlsHandshake: () => undefined,
    }, new SmtpStats(), { sawHandshake: true });
    const client = (text: string, time: number) => {
      const data = Buffer.from(text, 'latin1');
      session.receiveClient(data, 0, data.length, time);
    };
    client('EHLO c\r\n', 100);
    session.gap(true, 20, 200);
    client('RCPT TO:<b@y>\r\n', 300);
    client('NOOP\r\nQUIT\r\n', 400);
    session.end(500);
    // Held until the end placed them (client-only, no "."), yet reported at their own times.
    assert.deepEqual(timed, ['EHLO@100', 'RCPT@300', 'NOOP@400', 'QUIT@400']);
  });
});
