/**
 * Request methods of HTTP (RFC 9110 section 9, RFC 5789): a first line starting with one of
 * them is a web client or scanner talking to an SMTP port.
 */
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE',
  'PATCH'].map((method) => Buffer.from(`${method} `, 'latin1'));
const TAB = 0x09;
const CR = 0x0d;

/**
 * Why the first command line of a session, whose verb is not an SMTP verb, shows that the
 * client does not speak SMTP at all; "" when it may still be SMTP. An SMTP command line is
 * text (RFC 5321 section 2.4: US-ASCII, or UTF-8 with RFC 6531), so control bytes other than
 * tab mean binary data; an HTTP request line means a web client.
 */
export function notSmtpReason(
  line: Uint8Array, start: number, end: number, truncated: boolean,
): string {
  if (HTTP_METHODS.some((method) => startsWith(line, start, end, method))) {
    return 'HTTP request line';
  }
  for (let i = start; i < end; i++) {
    const b = line[i];
    if ((b < 0x20 && b !== TAB && b !== CR) || b === 0x7f) return 'control bytes in the first line';
  }
  return truncated ? 'first line longer than any command' : '';
}

function startsWith(line: Uint8Array, start: number, end: number, prefix: Buffer): boolean {
  if (end - start < prefix.length) return false;
  for (let k = 0; k < prefix.length; k++) if (line[start + k] !== prefix[k]) return false;
  return true;
}
