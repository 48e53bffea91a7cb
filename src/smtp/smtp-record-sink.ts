import type { AnomalyName } from './anomaly-name.js';

/** How a session turned to TLS: STARTTLS accepted, or TLS from the client's first byte. */
export type TlsStart = 'starttls' | 'implicit';

/**
 * Receives what an SmtpSession finds, synchronously, in the order of the conversation.
 * `time` is the capture time in ms of the packet that completed the record.
 */
export interface SmtpRecordSink {
  command(kind: number, verb: string, argument: string, time: number): void;
  anomaly(name: AnomalyName, detail: string, time: number): void;
  /** The client's ClientHello: SNI ("" when absent) and highest offered version as text. */
  tlsHandshake(serverName: string, version: string, start: TlsStart, time: number): void;
}
