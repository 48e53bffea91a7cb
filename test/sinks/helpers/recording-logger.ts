import { Writable } from 'node:stream';
import pino from 'pino';

/** A pino logger whose lines are kept in `lines`, so tests can read what was logged. */
export function recordingLogger(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}
