/**
 * Both tools' commands are reduced to one comparable text, `VERB argument`, following DESIGN.md
 * (CommandArg1 rules) so that only real disagreements remain.
 */

/** DESIGN: CommandArg1 is capped at this many bytes. */
const MAX_ARGUMENT_BYTES = 1024;
/** DESIGN: for these verbs the `FROM:`/`TO:` keyword and the path are one argument. */
const PATH_VERBS = new Set(['MAIL', 'RCPT', 'SEND', 'SOML', 'SAML']);
/** An escape the sensor writes for a control byte or a byte that is not UTF-8. */
const ESCAPE = /(\\x[0-9a-f]{2})/;
const BLANKS = /[ \t]+/;

/**
 * Verbs compare without case (RFC 5321 section 2.4). Only ASCII letters are upper-cased, and
 * not inside the `\xNN` escapes of a garbage verb.
 */
export function canonicalVerb(verb: string): string {
  const upper = (part: string) => part.replace(/[a-z]+/g, (letters) => letters.toUpperCase());
  return verb.split(ESCAPE).map((part, i) => (i % 2 === 1 ? part : upper(part))).join('');
}

export function commandText(verb: string, argument: string): string {
  const upperVerb = canonicalVerb(verb);
  return argument === '' ? upperVerb : `${upperVerb} ${argument}`;
}

/**
 * CommandArg1 from tshark's `smtp.req.parameter` (everything after the verb): the first token
 * separated by spaces or tabs; for MAIL/RCPT/SEND/SOML/SAML a `FROM:`/`TO:` keyword joined to
 * the path after it (`FROM: <a@b>` gives `FROM:<a@b>`); for AUTH the first token is the
 * mechanism, so credentials after it drop out. Control characters become `\xNN`.
 */
export function argumentFromParameter(verb: string, parameter: string): string {
  const tokens = parameter.split(BLANKS).filter((token) => token !== '');
  const first = tokens[0] ?? '';
  const joinsPath = PATH_VERBS.has(verb.toUpperCase()) && first.endsWith(':');
  const argument = joinsPath ? first + (tokens[1] ?? '') : first;
  return capBytes(escapeControlCharacters(argument), MAX_ARGUMENT_BYTES);
}

function escapeControlCharacters(text: string): string {
  const hex = (c: string) => c.charCodeAt(0).toString(16).padStart(2, '0');
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${hex(c)}`);
}

/** Cut at `maxBytes` of UTF-8, never inside a character or an escape. */
function capBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  const pieces = text.split(ESCAPE).flatMap((part, i) => (i % 2 === 1 ? [part] : [...part]));
  for (const piece of pieces) {
    bytes += Buffer.byteLength(piece);
    if (bytes > maxBytes) break;
    out += piece;
  }
  return out;
}
