/**
 * The SmtpCommandKind table, owned by src/smtp, which emits the numbers. The query folder reads
 * it only through this file, so its one dependency on the SMTP part stays in one place.
 */
export { KIND_NAMES } from '../../smtp/command-kind.js';

/** The one field whose numbers the query language also accepts and shows as kind names. */
export const KIND_FIELD = 'SmtpCommandKind';
