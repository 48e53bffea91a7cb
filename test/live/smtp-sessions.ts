import type { SensorEvent } from './sensor-process.js';

/**
 * The SmtpCommand events of one TCP connection, in order. Clients in these tests each greet
 * with their own EHLO name, which is how a test finds its client's connection among the
 * others the sensor saw.
 */
export interface SmtpSession {
  sessionId: string;
  commands: SensorEvent[];
}

export function isSmtpCommand(event: SensorEvent): boolean {
  return event.event_simpleName === 'SmtpCommand';
}

/** Sessions in the order their first command came. */
export function groupSessions(events: readonly SensorEvent[]): SmtpSession[] {
  const sessions = new Map<string, SmtpSession>();
  for (const event of events.filter(isSmtpCommand)) {
    const id = event.SmtpSessionId;
    if (!sessions.has(id)) sessions.set(id, { sessionId: id, commands: [] });
    sessions.get(id)!.commands.push(event);
  }
  return [...sessions.values()];
}

/** The sessions whose first command is EHLO (or HELO) with this name. */
export function sessionsGreetingAs(events: readonly SensorEvent[], name: string): SmtpSession[] {
  return groupSessions(events).filter(({ commands }) => {
    const verb = commands[0].SmtpVerb.toUpperCase();
    return (verb === 'EHLO' || verb === 'HELO') && commands[0].CommandArg1 === name;
  });
}

/** "VERB ARG" per command, the way a test writes the dialogue it expects. */
export function commandLines(session: SmtpSession): string[] {
  return session.commands.map((event) =>
    event.CommandArg1 === '' ? event.SmtpVerb : `${event.SmtpVerb} ${event.CommandArg1}`);
}

/** True once a QUIT of a session greeting as `name` was reported. */
export function quitReported(name: string): (events: readonly SensorEvent[]) => boolean {
  return (events) => sessionsGreetingAs(events, name)
    .some((session) => session.commands.some((event) => event.SmtpVerb.toUpperCase() === 'QUIT'));
}
