/**
 * SmtpCommandKind numbers. MAIL = 4 and DATA = 7 are fixed by the event's users; the rest is
 * this project's table (docs/events.md). Index = kind number.
 */
export const KIND_NAMES: readonly string[] = [
  'UNKNOWN', 'HELO', 'EHLO', 'AUTH', 'MAIL', 'RCPT', 'BDAT', 'DATA', 'RSET', 'VRFY', 'EXPN',
  'HELP', 'NOOP', 'QUIT', 'STARTTLS', 'ETRN', 'TURN', 'ATRN', 'SEND', 'SOML', 'SAML',
  'XCLIENT', 'XFORWARD', 'LHLO',
];

export const Kind = {
  UNKNOWN: 0, HELO: 1, EHLO: 2, AUTH: 3, MAIL: 4, RCPT: 5, BDAT: 6, DATA: 7, RSET: 8,
  VRFY: 9, EXPN: 10, HELP: 11, NOOP: 12, QUIT: 13, STARTTLS: 14, ETRN: 15, TURN: 16,
  ATRN: 17, SEND: 18, SOML: 19, SAML: 20, XCLIENT: 21, XFORWARD: 22, LHLO: 23,
} as const;

const KIND_BY_UPPER_NAME = new Map(KIND_NAMES.map((name, kind) => [name, kind]));

/** The kind number for a verb or kind name, case-insensitive; -1 when it is not in the table. */
export function kindNumberFromName(name: string): number {
  return KIND_BY_UPPER_NAME.get(name.toUpperCase()) ?? -1;
}

/** Verbs are at most 8 bytes long (STARTTLS, XFORWARD); longer tokens are UNKNOWN. */
const MAX_VERB_LENGTH = 8;

/**
 * The kind of the verb at buf[start, end), matched case-insensitively without building a
 * string: verbs are ASCII, so clearing bit 0x20 upper-cases letters. Anything else is UNKNOWN.
 */
export function kindOfVerb(buf: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (length < 4 || length > MAX_VERB_LENGTH) return Kind.UNKNOWN;
  for (let kind = 1; kind < VERB_BYTES.length; kind++) {
    const verb = VERB_BYTES[kind];
    if (verb.length !== length) continue;
    let i = 0;
    while (i < length && (buf[start + i] & 0xdf) === verb[i]) i++;
    if (i === length) return kind;
  }
  return Kind.UNKNOWN;
}

/**
 * The verb's name from the kind table when buf[start, end) is that name as it is (upper
 * case), so that the usual command makes no string of its own; otherwise undefined.
 */
export function tableVerb(buf: Uint8Array, start: number, end: number, kind: number)
  : string | undefined {
  if (kind === Kind.UNKNOWN) return undefined;
  const verb = VERB_BYTES[kind];
  if (verb.length !== end - start) return undefined;
  for (let i = 0; i < verb.length; i++) if (buf[start + i] !== verb[i]) return undefined;
  return KIND_NAMES[kind];
}

const VERB_BYTES: readonly Uint8Array[] = KIND_NAMES.map((name) => Buffer.from(name, 'latin1'));

/**
 * Verbs that take an argument (RFC 5321 section 4.1.1, RFC 4954, RFC 3030, RFC 1985): a line
 * that is one of them alone is no valid command, but may be a base64 AUTH response (HELO and
 * EHLO are valid base64).
 */
const NEEDS_ARGUMENT = new Set<number>([Kind.HELO, Kind.EHLO, Kind.AUTH, Kind.MAIL, Kind.RCPT,
  Kind.BDAT, Kind.VRFY, Kind.EXPN, Kind.ETRN, Kind.SEND, Kind.SOML, Kind.SAML, Kind.XCLIENT,
  Kind.XFORWARD, Kind.LHLO]);

export function kindNeedsArgument(kind: number): boolean {
  return NEEDS_ARGUMENT.has(kind);
}
