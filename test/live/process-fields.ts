import assert from 'node:assert/strict';
import type { SensorEvent } from './sensor-process.js';
import { type SmtpSession, commandLines } from './smtp-sessions.js';

/** The event fields that name the process and say which side of the connection it is. */
export interface ProcessFields {
  ContextProcessId: string;
  ParentProcessId: string;
  UserId: string;
  UserName: string;
  ImageFileName: string;
  CommandLine: string;
  ConnectionDirection: string;
}

const PROCESS_FIELD_NAMES: readonly (keyof ProcessFields)[] = ['ContextProcessId',
  'ParentProcessId', 'UserId', 'UserName', 'ImageFileName', 'CommandLine', 'ConnectionDirection'];

/** Kind numbers of docs/events.md for the verbs these tests send. */
const KIND_OF_VERB: Readonly<Record<string, string>> = {
  HELO: '1', EHLO: '2', AUTH: '3', MAIL: '4', RCPT: '5', DATA: '7', QUIT: '13',
};

export function processFieldsOf(event: SensorEvent): ProcessFields {
  return Object.fromEntries(PROCESS_FIELD_NAMES.map((name) => [name, event[name]])) as
    unknown as ProcessFields;
}

/** Every command of the session names the expected process, field for field. */
export function assertEveryCommandNames(session: SmtpSession, expected: ProcessFields): void {
  for (const event of session.commands) {
    assert.deepEqual(processFieldsOf(event), expected,
      `${event.SmtpVerb} of session ${session.sessionId} names another process`);
  }
}

/** The session holds exactly these commands, in order, each with its kind number. */
export function assertDialogue(session: SmtpSession, expected: readonly string[]): void {
  assert.deepEqual(commandLines(session), expected, `commands of session ${session.sessionId}`);
  for (const event of session.commands) {
    const kind = KIND_OF_VERB[event.SmtpVerb.toUpperCase()];
    assert.equal(event.SmtpCommandKind, kind, `SmtpCommandKind of ${event.SmtpVerb}`);
  }
}

/** The connection's ends as docs/events.md defines them: Local is always the client side. */
export function assertEndpoints(session: SmtpSession, client: string, server: string,
  serverPort: number): void {
  for (const event of session.commands) {
    assert.equal(event.LocalAddressIP4, client, 'LocalAddressIP4 (the client side)');
    assert.equal(event.RemoteAddressIP4, server, 'RemoteAddressIP4 (the server side)');
    assert.equal(event.RemotePort, String(serverPort), 'RemotePort (the server side)');
  }
}

/**
 * The dialogue of a client that sends one message without authenticating. Python's smtplib
 * writes its verbs in lower case (`ehlo`, `mail FROM:`), and the sensor keeps verbs as sent.
 */
export function oneMessageDialogue(ehloName: string, sender: string, recipient: string,
  verbCase: 'upper' | 'lower' = 'upper'): string[] {
  const verb = (text: string) => (verbCase === 'upper' ? text : text.toLowerCase());
  return [`${verb('EHLO')} ${ehloName}`, `${verb('MAIL')} FROM:<${sender}>`,
    `${verb('RCPT')} TO:<${recipient}>`, verb('DATA'), verb('QUIT')];
}
