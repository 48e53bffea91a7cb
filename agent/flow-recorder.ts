import type { ConnectionContext } from '../src/events/connection-context.js';
import type { EventBuilder } from '../src/events/event-builder.js';
import type { SensorEvent } from '../src/events/sensor-event.js';
import type { CaptureAnomalyName } from '../src/capture/capture-anomaly-name.js';
import type { AnomalyName } from '../src/smtp/anomaly-name.js';
import type { SmtpRecordSink, TlsStart } from '../src/smtp/smtp-record-sink.js';
import type { LineBudget } from '../src/smtp/line-budget.js';
import { SmtpSession } from '../src/smtp/smtp-session.js';
import type { SmtpStats } from '../src/smtp/smtp-stats.js';

/**
 * Writes a command's event line without building the event (EventWriter.writeCommand): what
 * replay without a filter uses, since it only writes the events.
 */
export type CommandLineWriter = (builder: EventBuilder, connection: ConnectionContext,
  kind: number, verb: string, argument: string, time: number) => void;

/** One connection's SMTP session, turning what it finds into events for that connection. */
export class FlowRecorder implements SmtpRecordSink {
  /** Inbound: the server process is looked up when the server first speaks. */
  awaitsServerProcess: boolean;
  /**
   * Made at the first byte either side sends: a flow that never carries data (a SYN of a port
   * scan or flood) costs its connection only, 800 bytes instead of 2.2 KB with the session.
   */
  private smtp: SmtpSession | undefined;

  constructor(
    readonly connection: ConnectionContext,
    private readonly builder: EventBuilder,
    private readonly emit: (event: SensorEvent) => void,
    private readonly stats: SmtpStats,
    private readonly sawHandshake: boolean,
    private readonly lineBudget: LineBudget,
    /** When set, commands go here instead of being built and emitted. */
    private readonly writeCommand?: CommandLineWriter,
  ) {
    this.awaitsServerProcess = connection.direction === 1;
  }

  /** The connection's SMTP session, started on first use. */
  get session(): SmtpSession {
    this.smtp ??= new SmtpSession(this, this.stats,
      { sawHandshake: this.sawHandshake, lineBudget: this.lineBudget });
    return this.smtp;
  }

  /** The connection ended: a session that never started has nothing to finish. */
  end(time: number): void {
    this.smtp?.end(time);
  }

  command(kind: number, verb: string, argument: string, time: number): void {
    if (this.writeCommand !== undefined) {
      this.writeCommand(this.builder, this.connection, kind, verb, argument, time);
      return;
    }
    this.emit(this.builder.command(this.connection, kind, verb, argument, time));
  }

  /** SMTP's anomalies, and the capture side's (tcp_overlap_conflict), for the same events. */
  anomaly(name: AnomalyName | CaptureAnomalyName, detail: string, time: number): void {
    this.emit(this.builder.anomaly(this.connection, name, detail, time));
  }

  tlsHandshake(serverName: string, version: string, start: TlsStart, time: number): void {
    this.emit(this.builder.tlsHandshake(this.connection, serverName, version, start, time));
  }
}
