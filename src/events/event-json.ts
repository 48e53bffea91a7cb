import type { ProcessInfo } from '../proc/process-info.js';
import {
  jsonString, putBytes, putJsonString, putNumber, putText, putThreeDigits,
} from './json-bytes.js';
import type { EventName, SensorEvent } from './sensor-event.js';

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
 * The host and process fields of events as JSON text, and as UTF-8, from `,"aid":` to the
 * CommandLine value: the same for every connection of one process.
 */
export class ProcessFieldsJson {
  readonly bytes: Buffer;

  constructor(readonly text: string) {
    this.bytes = Buffer.from(text);
  }
}

/**
 * The JSON text of the fields an event takes from its connection (host, process and socket),
 * written once per connection and again when the connection's process changes, so that each
 * event serialises only its own fields: JSON.stringify of the whole event was a sixth of the
 * sensor's time in replay (bench/replay-bench.ts), four times what this takes. EventBuilder
 * writes the text in the order of the fields it puts in its events.
 */
export class ConnectionJson {
  private tailUtf8: Buffer | undefined;

  constructor(
    /** The process the text was made for. */
    readonly process: ProcessInfo,
    /** The fields after the leading ones, up to the event's own. */
    private readonly processFields: ProcessFieldsJson,
    /** The fields after the event's own, and the closing brace. */
    readonly tail: string,
  ) {}

  /** `,"aid":…` up to the event's own fields. */
  get head(): string {
    return this.processFields.text;
  }

  get headBytes(): Buffer {
    return this.processFields.bytes;
  }

  /** `tail` in UTF-8, encoded on first use. */
  get tailBytes(): Buffer {
    this.tailUtf8 ??= Buffer.from(this.tail);
    return this.tailUtf8;
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
  return leadingJson(event) + connection.head + ownJson(event) + connection.tail;
}

/** A UTF-16 code unit takes at most 3 bytes in UTF-8 (a surrogate pair, 4 for 2 units). */
const MAX_UTF8_BYTES_PER_UNIT = 3;
/** JSON escapes a code unit in at most 6 characters (`\u001f`), each one byte. */
const MAX_JSON_BYTES_PER_UNIT = 6;
/** String(n) of a number is at most 24 characters (`-1.2345678901234567e+300`). */
const MAX_NUMBER_BYTES = 24;
/** The names, quotes, colons and commas of the leading and own fields, over-counted. */
const MAX_FIELD_SYNTAX_BYTES = 160;

/**
 * Writes eventJson(event) in UTF-8 into `target` from `offset` and returns where it ends, or
 * -1, having written nothing, when it might not fit before `limit`. The connection's fields
 * are copied from bytes encoded once per connection, and the event's own text is written
 * straight into `target`: building the line as a string made V8 concatenate and then flatten
 * it before encoding, a tenth of a replay's time, and each Buffer.write call costs about as
 * much as encoding a short field by hand.
 */
export function encodeEventJson(event: SensorEvent, target: Buffer, offset: number,
  limit: number): number {
  const connection = (event as EventWithConnectionJson)[CONNECTION_JSON];
  if (connection === undefined) {
    const line = JSON.stringify(event);
    if (offset + line.length * MAX_UTF8_BYTES_PER_UNIT > limit) return -1;
    return offset + target.write(line, offset);
  }
  const own = OWN_FIELDS[event.event_simpleName as EventName];
  const head = connection.headBytes;
  const tail = connection.tailBytes;
  let units = event.event_simpleName.length + event.id.length + event.timestamp.length
    + event.ContextTimeStamp.length;
  for (const key of own) units += event[key].length;
  const most = units * MAX_JSON_BYTES_PER_UNIT + MAX_FIELD_SYNTAX_BYTES + head.length
    + tail.length;
  if (offset + most > limit) return -1;
  let at = putBytes(target, offset, NAME_AND_ID_KEY[event.event_simpleName as EventName]);
  at = putText(target, at, event.id);
  at = putBytes(target, at, TIMESTAMP_KEY);
  at = putText(target, at, event.timestamp);
  at = putBytes(target, at, CONTEXT_TIMESTAMP_KEY);
  at = putText(target, at, event.ContextTimeStamp);
  target[at++] = QUOTE;
  at = putBytes(target, at, head);
  const keys = OWN_KEYS[event.event_simpleName as EventName];
  for (let i = 0; i < own.length; i++) {
    at = putBytes(target, at, keys[i]);
    at = putJsonString(target, at, event[own[i]]);
  }
  return putBytes(target, at, tail);
}

/**
 * Writes the JSON line of the command event EventBuilder.command would build from these
 * values, without building it, and returns where it ends; -1, having written nothing, when it
 * might not fit before `limit`. Numbers are written as digits, never made into strings. Replay
 * without a filter writes every command this way: building the event and then reading it back
 * cost four fifths of the line's time (bench/replay-bench.ts).
 */
export function encodeCommandJson(
  connection: ConnectionJson, sessionId: string, eventNumber: number, kind: number,
  verb: string, argument: string, time: number, target: Buffer, offset: number, limit: number,
): number {
  const head = connection.headBytes;
  const tail = connection.tailBytes;
  const most = (sessionId.length + verb.length + argument.length) * MAX_JSON_BYTES_PER_UNIT
    + MAX_NUMBER_BYTES * 4 + MAX_FIELD_SYNTAX_BYTES + head.length + tail.length;
  if (offset + most > limit) return -1;
  let at = putBytes(target, offset, NAME_AND_ID_KEY.SmtpCommand);
  at = putText(target, at, sessionId);
  target[at++] = HYPHEN;
  at = putNumber(target, at, eventNumber);
  at = putTimes(target, at, time);
  at = putBytes(target, at, head);
  const keys = OWN_KEYS.SmtpCommand;
  at = putBytes(target, at, keys[0]);
  target[at++] = QUOTE;
  at = putNumber(target, at, kind);
  target[at++] = QUOTE;
  at = putBytes(target, at, keys[1]);
  at = putJsonString(target, at, verb);
  at = putBytes(target, at, keys[2]);
  at = putJsonString(target, at, argument);
  return putBytes(target, at, tail);
}

/**
 * `","timestamp":"…","ContextTimeStamp":"…"` for `time`. From a second on, String(time) is
 * the seconds' digits and then the three of the milliseconds, which secondsText writes with
 * a dot between them: the two are written from the numbers.
 */
function putTimes(target: Buffer, at: number, time: number): number {
  at = putBytes(target, at, TIMESTAMP_KEY);
  if (!Number.isSafeInteger(time) || time < 1000) {
    at = putText(target, at, String(time));
    at = putBytes(target, at, CONTEXT_TIMESTAMP_KEY);
    at = putText(target, at, secondsText(time));
  } else {
    const seconds = Math.floor(time / 1000);
    const milliseconds = time - seconds * 1000;
    at = putNumber(target, at, seconds);
    at = putThreeDigits(target, at, milliseconds);
    at = putBytes(target, at, CONTEXT_TIMESTAMP_KEY);
    at = putNumber(target, at, seconds);
    target[at++] = DOT;
    at = putThreeDigits(target, at, milliseconds);
  }
  target[at] = QUOTE;
  return at + 1;
}

/** Milliseconds since the epoch as seconds with three decimals, without float rounding. */
export function secondsText(time: number): string {
  const seconds = Math.floor(time / 1000);
  return `${seconds}.${String(time - seconds * 1000).padStart(3, '0')}`;
}

/*
 * The field names and punctuation as bytes: TypedArray.set copies a 20-byte name in a fifth of
 * the time a loop over its characters takes.
 */
const NAME_AND_ID_KEY = Object.fromEntries(Object.keys(OWN_FIELDS).map((name) =>
  [name, Buffer.from(`{"event_simpleName":"${name}","id":"`)])) as Record<EventName, Buffer>;
const TIMESTAMP_KEY = Buffer.from('","timestamp":"');
const CONTEXT_TIMESTAMP_KEY = Buffer.from('","ContextTimeStamp":"');
const OWN_KEYS = Object.fromEntries(Object.entries(OWN_FIELDS).map(([name, keys]) =>
  [name, keys.map((key) => Buffer.from(`,"${key}":`))])) as Record<EventName, Buffer[]>;

/** The fields before the connection's: `{"event_simpleName":…,"ContextTimeStamp":…`. */
function leadingJson(event: SensorEvent): string {
  return `{"event_simpleName":"${event.event_simpleName}","id":"${event.id}",`
    + `"timestamp":"${event.timestamp}","ContextTimeStamp":"${event.ContextTimeStamp}"`;
}

/** The event's own fields, between the connection's head and tail. */
function ownJson(event: SensorEvent): string {
  let text = '';
  for (const key of OWN_FIELDS[event.event_simpleName as EventName]) {
    text += `,"${key}":${jsonString(event[key])}`;
  }
  return text;
}

const QUOTE = 0x22;
const HYPHEN = 0x2d;
const DOT = 0x2e;
