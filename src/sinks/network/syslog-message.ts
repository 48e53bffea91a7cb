import type { SensorEvent } from '../../events/sensor-event.js';

/** RFC 5424 section 6.2.1: facilities by name; severity is always informational (6). */
export const SYSLOG_FACILITIES = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, ftp: 11, local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21,
  local6: 22, local7: 23,
} as const;
export type SyslogFacility = keyof typeof SYSLOG_FACILITIES;

const SEVERITY_INFORMATIONAL = 6;
/** RFC 5424 section 6: header fields are PRINTUSASCII with these maximum lengths. */
const HOSTNAME_MAX = 255;
const MSGID_MAX = 32;

export interface SyslogHeader {
  facility: SyslogFacility;
  appName: string;
  hostname: string;
  processId: number;
}

/**
 * One RFC 5424 message carrying the event's JSON line as MSG, framed by octet counting
 * (RFC 6587 section 3.4.1, which RFC 5425 section 4.3 also uses over TLS):
 * `LENGTH SP <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG`. TIMESTAMP is the event's
 * capture time; MSGID is its event_simpleName; there is no structured data. MSG is sent
 * without a BOM so that collectors parse it as JSON as is.
 */
export function frameSyslogMessage(header: SyslogHeader, event: SensorEvent,
  line: Buffer): Buffer {
  const priority = SYSLOG_FACILITIES[header.facility] * 8 + SEVERITY_INFORMATIONAL;
  const hostname = headerField(event.ComputerName || header.hostname, HOSTNAME_MAX);
  const prefix = `<${priority}>1 ${timestamp(event.timestamp)} ${hostname} ${header.appName} `
    + `${header.processId} ${headerField(event.event_simpleName, MSGID_MAX)} - `;
  const length = Buffer.byteLength(prefix) + line.length;
  return Buffer.concat([Buffer.from(`${length} ${prefix}`), line]);
}

function timestamp(milliseconds: string | undefined): string {
  const time = Number(milliseconds);
  return Number.isFinite(time) && milliseconds !== '' ? new Date(time).toISOString() : '-';
}

/** A header field: printable ASCII without spaces, or the NILVALUE when nothing is left. */
function headerField(text: string | undefined, maximum: number): string {
  const clean = (text ?? '').replace(/[^\x21-\x7e]/g, '').slice(0, maximum);
  return clean === '' ? '-' : clean;
}
