import { TcpFlag } from './pcap-file-writer.js';

/** Client segments carry at most this much (Ethernet MTU 1500 minus IPv4 and TCP headers). */
export const MAXIMUM_SEGMENT_SIZE = 1460;
/** The client commands of every scripted session: EHLO, MAIL, RCPT, RCPT, DATA, QUIT. */
export const COMMANDS_PER_SESSION = 6;
export const COMMAND_VERBS = ['EHLO', 'MAIL', 'RCPT', 'RCPT', 'DATA', 'QUIT'] as const;

/**
 * tshark 4.0 does not see the end of the message when the segment boundary falls after the
 * final "." of CRLF.CRLF (the next segment holds only CRLF or LF), and then misses the QUIT
 * that follows; a split anywhere else it handles. `contentLength` counts the message and its
 * ".\r\n" end line, cut into MAXIMUM_SEGMENT_SIZE segments as scriptSmtpSession does.
 */
export function endOfDataSplitsAfterDot(contentLength: number): boolean {
  const lastSegmentLength = contentLength % MAXIMUM_SEGMENT_SIZE;
  return lastSegmentLength === 1 || lastSegmentLength === 2;
}

/** One scripted segment: which side sends it, its TCP flags and its payload. */
export interface ScriptedSegment {
  fromClient: boolean;
  flags: number;
  payload: Buffer | null;
}

const ACK = TcpFlag.ACK;
const DATA_FLAGS = TcpFlag.PSH | TcpFlag.ACK;
const GREETING = Buffer.from('220 mx.example.net ESMTP Postfix\r\n');
const EHLO_REPLY = Buffer.from('250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n'
  + '250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 SMTPUTF8\r\n');
const MAIL_REPLY = Buffer.from('250 2.1.0 Ok\r\n');
const RCPT_REPLY = Buffer.from('250 2.1.5 Ok\r\n');
const DATA_REPLY = Buffer.from('354 End data with <CR><LF>.<CR><LF>\r\n');
const QUIT_REPLY = Buffer.from('221 2.0.0 Bye\r\n');
const DATA_COMMAND = Buffer.from('DATA\r\n');
const QUIT_COMMAND = Buffer.from('QUIT\r\n');
export const END_OF_DATA_LINE = Buffer.from('.\r\n');

/**
 * A plain SMTP session as a Postfix server and a well-behaved client would have it, one command
 * per segment without pipelining: greeting, EHLO, MAIL, two RCPT, DATA, the message in
 * MSS-sized segments (the server acknowledging every second one, RFC 9293 delayed ACKs), the
 * end-of-data reply, QUIT and the close (handshake and FIN are added by the capture writer).
 * `message` must be dot-stuffed and end with CRLF; the end-of-data line is added here.
 */
export function scriptSmtpSession(index: number, message: Buffer): ScriptedSegment[] {
  // Postfix and RFC 5321 section 4.1.1.4: the content ends with CRLF.CRLF.
  const client = (text: string | Buffer) => segment(true, text);
  const server = (text: string | Buffer) => segment(false, text);
  const script = [
    server(GREETING),
    client(`EHLO client-${index}.example.org\r\n`),
    server(EHLO_REPLY),
    client(`MAIL FROM:<sender${index}@example.org> SIZE=${message.length}\r\n`),
    server(MAIL_REPLY),
    client(`RCPT TO:<alice${index}@example.net>\r\n`),
    server(RCPT_REPLY),
    client(`RCPT TO:<bob${index}@example.net>\r\n`),
    server(RCPT_REPLY),
    client(DATA_COMMAND),
    server(DATA_REPLY),
  ];
  const content = Buffer.concat([message, END_OF_DATA_LINE]);
  for (let offset = 0, count = 1; offset < content.length; count++) {
    script.push(client(content.subarray(offset, offset + MAXIMUM_SEGMENT_SIZE)));
    offset += MAXIMUM_SEGMENT_SIZE;
    const last = offset >= content.length;
    if (count % 2 === 0 || last) script.push({ fromClient: false, flags: ACK, payload: null });
  }
  const queueId = (0x10000000 + index * 7919).toString(16).toUpperCase();
  script.push(server(`250 2.0.0 Ok: queued as ${queueId}\r\n`), client(QUIT_COMMAND),
    server(QUIT_REPLY));
  return script;
}

function segment(fromClient: boolean, payload: string | Buffer): ScriptedSegment {
  const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  return { fromClient, flags: DATA_FLAGS, payload: bytes };
}
