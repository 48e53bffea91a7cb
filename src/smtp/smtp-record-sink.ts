import type { AnomalyName } from './anomaly-name.js';

/**
 * Receives what an SmtpSession finds, synchronously, in the order of the conversation.
 * `time` is the capture time in ms of the packet that completed the record.
 */
export interface SmtpRecordSink {
  command(kind: number, verb: string, argument: string, time: number): void;
  anomaly(name: AnomalyName, detail: string, time: number): void;
}
