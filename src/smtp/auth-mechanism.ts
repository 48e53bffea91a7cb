/**
 * How many client lines follow `AUTH mechanism` when the server's replies are not in the
 * capture, so that no credential line is ever taken for a command. With the server's replies
 * the sensor follows them instead (334 asks for one more line, RFC 4954 section 4).
 *
 * Values: [without an initial response, with one].
 */
const CONTINUATION_LINES: ReadonlyMap<string, readonly [number, number]> = new Map([
  ['PLAIN', [1, 0]],
  ['LOGIN', [2, 1]],
  ['CRAM-MD5', [1, 1]],
  ['DIGEST-MD5', [2, 2]],
  ['XOAUTH2', [1, 0]],
  ['OAUTHBEARER', [1, 0]],
  ['EXTERNAL', [1, 0]],
  ['ANONYMOUS', [1, 0]],
  ['NTLM', [2, 2]],
  ['GSSAPI', [2, 2]],
]);

/** Limitation: a mechanism not in the table is assumed to take one line, which may be wrong. */
const UNKNOWN_MECHANISM_LINES = 1;

export function authContinuationLines(mechanism: string, hasInitialResponse: boolean): number {
  if (mechanism === '') return 0;
  const lines = CONTINUATION_LINES.get(mechanism.toUpperCase());
  if (lines === undefined) return UNKNOWN_MECHANISM_LINES;
  return hasInitialResponse ? lines[1] : lines[0];
}
