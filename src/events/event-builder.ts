import type { CaptureAnomalyName } from '../capture/capture-anomaly-name.js';
import type { AnomalyName } from '../smtp/anomaly-name.js';
import type { TlsStart } from '../smtp/smtp-record-sink.js';
import type { ConnectionContext } from './connection-context.js';
import { ConnectionJson, encodeCommandJson, ProcessFieldsJson, secondsText } from './event-json.js';
import { jsonString } from './json-bytes.js';
import type { HostIdentity } from './host-identity.js';
import type { EventName, SensorEvent } from './sensor-event.js';
import type { ProcessInfo } from '../proc/process-info.js';

/** Builds events in the schema's field order (docs/events.md). */
export class EventBuilder {
  /** `,"aid":…,"event_platform":"Lin"`: the host's fields as JSON text. */
  private readonly hostJson: string;
  /** The process fields' text made last, reused while connections share the process. */
  private lastProcess: ProcessInfo | undefined;
  private lastProcessFields: ProcessFieldsJson | undefined;

  constructor(private readonly host: HostIdentity) {
    this.hostJson = `,"aid":${jsonString(host.aid)},"ComputerName":`
      + `${jsonString(host.computerName)},"event_platform":"Lin"`;
  }

  command(
    connection: ConnectionContext, kind: number, verb: string, argument: string, time: number,
  ): SensorEvent {
    const event = this.common('SmtpCommand', connection, time);
    event.SmtpCommandKind = String(kind);
    event.SmtpVerb = verb;
    event.CommandArg1 = argument;
    return this.withSocket(event, connection);
  }

  /**
   * Writes the JSON line of the event `command` would return into `target` from `offset`,
   * without building the event, and returns where it ends; -1, with nothing written and no
   * event number used, when it might not fit before `limit` (event-json.ts).
   */
  encodeCommand(
    connection: ConnectionContext, kind: number, verb: string, argument: string, time: number,
    target: Buffer, offset: number, limit: number,
  ): number {
    const end = encodeCommandJson(this.connectionJson(connection), connection.sessionId,
      connection.eventsMade + 1, kind, verb, argument, time, target, offset, limit);
    if (end >= 0) connection.numberEvent();
    return end;
  }

  anomaly(
    connection: ConnectionContext, name: AnomalyName | CaptureAnomalyName, detail: string,
    time: number,
  ): SensorEvent {
    const event = this.common('SmtpAnomaly', connection, time);
    event.AnomalyName = name;
    event.AnomalyDetail = detail;
    return this.withSocket(event, connection);
  }

  tlsHandshake(
    connection: ConnectionContext, serverName: string, version: string, start: TlsStart,
    time: number,
  ): SensorEvent {
    const event = this.common('SmtpTlsHandshake', connection, time);
    event.TlsServerName = serverName;
    event.TlsVersion = version;
    event.TlsStart = start;
    return this.withSocket(event, connection);
  }

  private common(name: EventName, connection: ConnectionContext, time: number): SensorEvent {
    const process = connection.process;
    return {
      event_simpleName: name,
      id: connection.nextEventId(),
      timestamp: String(time),
      ContextTimeStamp: secondsText(time),
      aid: this.host.aid,
      ComputerName: this.host.computerName,
      event_platform: 'Lin',
      ContextProcessId: process.processId,
      ParentProcessId: process.parentProcessId,
      UserId: process.userId,
      UserName: process.userName,
      ImageFileName: process.imageFileName,
      CommandLine: process.commandLine,
    };
  }

  /**
   * Constant property names, one branch per address family: V8 keeps such objects in a fast
   * shape, and JSON.stringify of a fast-shaped object is its quick path (the profile showed
   * per-event names built from the family costing both).
   */
  private withSocket(event: SensorEvent, connection: ConnectionContext): SensorEvent {
    const e = connection.endpoints;
    if (e.ipVersion === 4) {
      event.LocalAddressIP4 = e.clientAddress;
      event.LocalPort = connection.clientPortText;
      event.RemoteAddressIP4 = e.serverAddress;
    } else {
      event.LocalAddressIP6 = e.clientAddress;
      event.LocalPort = connection.clientPortText;
      event.RemoteAddressIP6 = e.serverAddress;
    }
    event.RemotePort = connection.serverPortText;
    event.ConnectionDirection = connection.directionText;
    event.SmtpSessionId = connection.sessionId;
    this.connectionJson(connection).attachTo(event);
    return event;
  }

  /**
   * The connection's fields as JSON text (event-json.ts), made again if its process changed,
   * in the order `common` and `withSocket` give them (test/events/event-json.test.ts compares
   * the lines with JSON.stringify).
   */
  private connectionJson(connection: ConnectionContext): ConnectionJson {
    const process = connection.process;
    if (connection.json === undefined || connection.json.process !== process) {
      connection.json = new ConnectionJson(process, this.processFieldsJson(process),
        socketJson(connection));
    }
    return connection.json;
  }

  private processFieldsJson(process: ProcessInfo): ProcessFieldsJson {
    if (process !== this.lastProcess || this.lastProcessFields === undefined) {
      this.lastProcess = process;
      this.lastProcessFields = new ProcessFieldsJson(`${this.hostJson}`
        + `,"ContextProcessId":${jsonString(process.processId)}`
        + `,"ParentProcessId":${jsonString(process.parentProcessId)}`
        + `,"UserId":${jsonString(process.userId)}`
        + `,"UserName":${jsonString(process.userName)}`
        + `,"ImageFileName":${jsonString(process.imageFileName)}`
        + `,"CommandLine":${jsonString(process.commandLine)}`);
    }
    return this.lastProcessFields;
  }
}

/** The socket fields after an event's own, and the closing brace. */
function socketJson(connection: ConnectionContext): string {
  const e = connection.endpoints;
  const family = e.ipVersion === 4 ? 'IP4' : 'IP6';
  return `,"LocalAddress${family}":${jsonString(e.clientAddress)}`
    + `,"LocalPort":"${connection.clientPortText}"`
    + `,"RemoteAddress${family}":${jsonString(e.serverAddress)}`
    + `,"RemotePort":"${connection.serverPortText}"`
    + `,"ConnectionDirection":"${connection.directionText}"`
    + `,"SmtpSessionId":${jsonString(connection.sessionId)}}`;
}

