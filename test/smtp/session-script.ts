import type { AnomalyName } from '../../src/smtp/anomaly-name.js';
import { KIND_NAMES } from '../../src/smtp/command-kind.js';
import type { SmtpRecordSink, TlsStart } from '../../src/smtp/smtp-record-sink.js';
import { SmtpSession } from '../../src/smtp/smtp-session.js';
import { SmtpStats } from '../../src/smtp/smtp-stats.js';

/** One step of a conversation: client bytes, server bytes, or a client or server gap. */
export type Step = readonly ['c' | 's', string | Uint8Array] | readonly ['gap' | 'sgap', number];

/**
 * Records as compact text: `KIND verb arg` for a command (kind by name), `!name` for an
 * anomaly (`!name detail` with details on), `TLS start sni=name version=v` for a handshake.
 * Tests compare these lists.
 */
export class RecordingSink implements SmtpRecordSink {
  readonly records: string[] = [];

  constructor(private readonly withDetails = false) {}

  command(kind: number, verb: string, argument: string): void {
    this.records.push(`${KIND_NAMES[kind]} ${verb} ${argument}`.trimEnd());
  }

  anomaly(name: AnomalyName, detail: string): void {
    this.records.push(this.withDetails ? `!${name} ${detail}` : `!${name}`);
  }

  tlsHandshake(serverName: string, version: string, start: TlsStart): void {
    this.records.push(`TLS ${start} sni=${serverName} version=${version}`);
  }
}

export function bytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
}

/**
 * Plays the steps into a new session, each client or server step cut into pieces at the
 * given offsets (relative to the step), and returns the records and stats.
 */
export function play(
  steps: readonly Step[], options: { sawHandshake?: boolean; details?: boolean;
    cut?: (length: number) => number[] } = {},
): { records: string[]; stats: SmtpStats } {
  const sink = new RecordingSink(options.details);
  const stats = new SmtpStats();
  const session = new SmtpSession(sink, stats, { sawHandshake: options.sawHandshake ?? true });
  let time = 1000;
  for (const step of steps) {
    time++;
    if (typeof step[1] === 'number') {
      session.gap(step[0] === 'gap', step[1], time);
      continue;
    }
    const data = bytes(step[1]);
    const cuts = [0, ...(options.cut?.(data.length) ?? []), data.length];
    for (let i = 0; i + 1 < cuts.length; i++) {
      // A fresh copy per piece, overwritten afterwards, as the capture library's buffer is.
      const piece = Buffer.from(data.subarray(cuts[i], cuts[i + 1]));
      if (step[0] === 'c') session.receiveClient(piece, 0, piece.length, time);
      else session.receiveServer(piece, 0, piece.length, time);
      piece.fill(0x41);
    }
  }
  session.end(time + 1);
  return { records: sink.records, stats };
}
