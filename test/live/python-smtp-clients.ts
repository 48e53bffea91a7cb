import { SYSTEM_PYTHON } from './smtp-server.js';

/** Envelope and message every client in these tests sends. */
export const SENDER = 'b@example.org';
export const RECIPIENT = 'a@example.org';
export const MESSAGE = `From: ${SENDER}\r\nTo: ${RECIPIENT}\r\nSubject: live capture test\r\n`
  + '\r\nhello from the smtp-sensor live tests\r\n';

/**
 * smtplib sends one message, then exits right after QUIT. Arguments: host, port, EHLO name,
 * and seconds to wait after the server's greeting (0: none). Before EHLO it prints what only
 * the client itself knows for sure: its pid, its parent's pid, its local port and its network
 * namespace, e.g. `4242 4200 51234 net:[4026531840]`.
 */
const SEND_ONE_MESSAGE = `
import os, smtplib, sys, time
host, port, name, pause = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
client = smtplib.SMTP(host, port, local_hostname=name, timeout=10)
print(os.getpid(), os.getppid(), client.sock.getsockname()[1], os.readlink('/proc/self/ns/net'),
      flush=True)
time.sleep(pause)
client.sendmail('${SENDER}', ['${RECIPIENT}'], sys.stdin.read() or 'Subject: x\\r\\n\\r\\nx\\r\\n')
client.quit()
`;

/**
 * Authenticates, then sends one message. Arguments: host, port, EHLO name, mechanism (PLAIN
 * or LOGIN), and `initial` to put the first response on the AUTH line (RFC 4954 section 4)
 * or `separate` to wait for the 334. The account comes through the environment, never argv:
 * the sensor reports command lines, so a password there would show up, rightly.
 */
const AUTHENTICATE_AND_SEND = `
import os, smtplib, sys
host, port = sys.argv[1], int(sys.argv[2])
name, mechanism, style = sys.argv[3:6]
client = smtplib.SMTP(host, port, local_hostname=name, timeout=10)
client.ehlo()
client.user = os.environ['SMTP_TEST_USER']
client.password = os.environ['SMTP_TEST_PASSWORD']
respond = {'PLAIN': client.auth_plain, 'LOGIN': client.auth_login}[mechanism]
client.auth(mechanism, respond, initial_response_ok=(style == 'initial'))
client.sendmail('${SENDER}', ['${RECIPIENT}'], 'Subject: x\\r\\n\\r\\nauthenticated\\r\\n')
client.quit()
`;

/** What the SEND_ONE_MESSAGE client printed about itself. */
export interface ClientSelfReport {
  pid: number;
  parentPid: number;
  localPort: number;
  networkNamespace: string;
}

/**
 * On loopback or a veth pair the whole dialogue takes a few milliseconds; `pauseSeconds`
 * after the greeting makes the client as slow as one across a real network, whose connection
 * outlives the sensor's lookup whatever the sensor's delay.
 */
export function sendOneMessageArgv(host: string, port: number, ehloName: string,
  pauseSeconds = 0): string[] {
  return [SYSTEM_PYTHON, '-c', SEND_ONE_MESSAGE, host, String(port), ehloName,
    String(pauseSeconds)];
}

export function authenticateAndSendArgv(host: string, port: number, ehloName: string,
  mechanism: 'PLAIN' | 'LOGIN', style: 'initial' | 'separate'): string[] {
  return [SYSTEM_PYTHON, '-c', AUTHENTICATE_AND_SEND, host, String(port), ehloName, mechanism,
    style];
}

export function parseSelfReport(stdout: string): ClientSelfReport {
  const fields = stdout.trim().split(/\s+/);
  if (fields.length !== 4) throw new Error(`the client did not report itself: '${stdout}'`);
  return {
    pid: Number(fields[0]),
    parentPid: Number(fields[1]),
    localPort: Number(fields[2]),
    networkNamespace: fields[3],
  };
}
