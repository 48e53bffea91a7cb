import type { ProcessInfo } from '../proc/process-info.js';
import type { EventName, SensorEvent } from './sensor-event.js';

/** The fields every event starts with, each different from one event to the next. */
const LEADING_FIELDS = ['event_simpleName', 'id', 'timestamp', 'ContextTimeStamp'] as const;

/**
 * Per event name, its own fields: EventBuilder writes them between the host and process fields
 * and the socket fields, which are the same for every event of a connection.
 */
const OWN_FIELDS: Readonly<Record<EventName, readonly string[]>> = {
  SmtpCommand: ['SmtpCommandKind', 'SmtpVerb', 'CommandArg1'],
  SmtpAnomaly: ['AnomalyName', 'AnomalyDetail'],
  SmtpTlsHandshake: ['TlsServerName', 'TlsVersion', 'TlsStart'],
};

const CONNECTION_JSON = Symbol('ConnectionJson');

/** An event that EventBuilder made: it carries the JSON text of its connection's fields. */
interface EventWithConnectionJson {
  [CONNECTION_JSON]?: ConnectionJson;
}

/**
 * The JSON text of the fields an event takes from its connection (host, process and socket),
 * written once per connection and again when the connection's process changes, so that each
 * event serialises only its own fields: JSON.stringify of the whole event was a sixth of the
 * sensor's time in replay (bench/replay-bench.ts), four times what this takes.
 */
export class ConnectionJson {
  private constructor(
    /** The process the text was made for. */
    readonly process: ProcessInfo,
    /** The fields after the leading ones, up to the event's own: `,"aid":"…"…`. */
    readonly head: string,
    /** The fields after the event's own, and the closing brace. */
    readonly tail: string,
  ) {}

  /** Made from an event EventBuilder built for `process`, in its field order. */
  static fromEvent(event: SensorEvent, process: ProcessInfo): ConnectionJson {
    const keys = Object.keys(event);
    const own = OWN_FIELDS[event.event_simpleName as EventName];
    const ownStart = keys.indexOf(own[0]);
    let head = '';
    for (let i = LEADING_FIELDS.length; i < ownStart; i++) {
      head += `,${jsonString(keys[i])}:${jsonString(event[keys[i]])}`;
    }
    let tail = '';
    for (let i = ownStart + own.length; i < keys.length; i++) {
      tail += `,${jsonString(keys[i])}:${jsonString(event[keys[i]])}`;
    }
    return new ConnectionJson(process, head, `${tail}}`);
  }

  /** Marks `event` as serialisable with this text. The property is a symbol: not in its JSON. */
  attachTo(event: SensorEvent): void {
    (event as EventWithConnectionJson)[CONNECTION_JSON] = this;
  }
}

/**
 * JSON.stringify(event), the same text, made faster for events that EventBuilder built: their
 * connection's fields are copied as text. Events must not change once built.
 *
 * The leading fields are quoted without a look at their characters: EventBuilder makes them
 * from a constant name, hexadecimal digits and numbers.
 */
export function eventJson(event: SensorEvent): string {
  const connection = (event as EventWithConnectionJson)[CONNECTION_JSON];
  if (connection === undefined) return JSON.stringify(event);
  let text = `{"event_simpleName":"${event.event_simpleName}","id":"${event.id}",`
    + `"timestamp":"${event.timestamp}","ContextTimeStamp":"${event.ContextTimeStamp}"`
    + connection.head;
  for (const key of OWN_FIELDS[event.event_simpleName as EventName]) {
    text += `,"${key}":${jsonString(event[key])}`;
  }
  return text + connection.tail;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const FIRST_PRINTABLE = 0x20;
const FIRST_SURROGATE = 0xd800;
const LAST_SURROGATE = 0xdfff;

/**
 * JSON.stringify(text): the text in quotes as it is when it has nothing JSON escapes (quote,
 * backslash, control characters; surrogates, which JSON.stringify escapes when lone, are left
 * to it). Most field text has nothing to escape, and each JSON.stringify call costs more than
 * looking at the characters (bench/replay-bench.ts: the 1.7 million calls of a replay were a
 * twelfth of its time).
 */
export function jsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < FIRST_PRINTABLE || code === QUOTE || code === BACKSLASH
      || (code >= FIRST_SURROGATE && code <= LAST_SURROGATE)) {
      return JSON.stringify(text);
    }
  }
  return `"${text}"`;
}
