import pino from 'pino';

/** The agent's own logs: pino JSON lines on standard error, never events or credentials. */
export function createLogger(level: string): pino.Logger {
  return pino({ name: 'smtp-sensor', level }, pino.destination({ dest: 2, sync: true }));
}
