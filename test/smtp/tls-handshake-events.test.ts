/**
 * SmtpTlsHandshake end to end: crafted captures replayed through the CLI, so that the event
 * builder and the agent's record sink are covered with the session. replay-fixtures.test.ts
 * compares only SmtpCommand and SmtpAnomaly events; this test reads the handshake events.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURES = join(REPOSITORY_ROOT, 'test/fixtures');

function replayEvents(fileName: string): Record<string, string>[] {
  const stdout = execFileSync(process.execPath,
    [join(REPOSITORY_ROOT, 'agent/smtp-sensor'), 'replay', join(FIXTURES, fileName)],
    { cwd: REPOSITORY_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));
}

const CRAFTED = { client: '192.0.2.10', server: '192.0.2.25' };
/**
 * test/helpers/tls-records.ts offers TLS 1.3 and 1.2 in supported_versions: 1.3 is highest.
 * swaks --tls to 127.0.0.1 (OpenSSL) sends no SNI for an address and offers 0x0304 to 0x0301
 * (read with tshark: tls.handshake.extensions.supported_version).
 */
const cases = [
  { file: 'crafted/starttls-accepted.pcap', serverName: 'mail.example.org',
    start: 'starttls', port: '25', before: ['EHLO', 'STARTTLS'], ...CRAFTED },
  { file: 'crafted/starttls-plaintext-injection.pcap', serverName: 'mail.example.org',
    start: 'starttls', port: '25', before: ['EHLO', 'STARTTLS'], ...CRAFTED },
  { file: 'crafted/implicit-tls-port-465.pcap', serverName: 'smtp.example.org',
    start: 'implicit', port: '465', before: [], ...CRAFTED },
  { file: 'crafted/implicit-tls-port-25.pcap', serverName: 'smtp.example.org',
    start: 'implicit', port: '25', before: [], ...CRAFTED },
  { file: 'recorded/swaks-starttls.pcap', serverName: '', start: 'starttls', port: '25',
    before: ['EHLO', 'STARTTLS'], client: '127.0.0.1', server: '127.0.0.1' },
];

for (const c of cases) {
  test(`${c.file}: one SmtpTlsHandshake (${c.start}), last, nothing after it`, () => {
    const events = replayEvents(c.file);
    const handshakes = events.filter((e) => e.event_simpleName === 'SmtpTlsHandshake');
    assert.equal(handshakes.length, 1);
    const handshake = handshakes[0];
    assert.equal(events[events.length - 1], handshake);
    assert.equal(handshake.TlsServerName, c.serverName);
    assert.equal(handshake.TlsVersion, 'TLS 1.3');
    assert.equal(handshake.TlsStart, c.start);
    assert.equal(handshake.LocalAddressIP4, c.client);
    assert.equal(handshake.RemoteAddressIP4, c.server);
    assert.equal(handshake.RemotePort, c.port);
    assert.equal(handshake.ConnectionDirection, '0');
    assert.equal(handshake.event_platform, 'Lin');
    assert.match(handshake.SmtpSessionId, /^[0-9a-f]{32}$/);
    assert.ok(events.every((e) => e.SmtpSessionId === handshake.SmtpSessionId));
    const verbs = events.filter((e) => e.event_simpleName === 'SmtpCommand')
      .map((e) => e.SmtpVerb);
    assert.deepEqual(verbs, c.before);
    assert.ok(!events.some((e) => e.AnomalyName === 'not_smtp'));
  });
}

test('crafted/verbs-glued-to-garbage.pcap: STARTTLSX starts no TLS, DATAX no body, no anomaly',
  () => {
    const events = replayEvents('crafted/verbs-glued-to-garbage.pcap');
    assert.deepEqual(events.filter((e) => e.event_simpleName !== 'SmtpCommand'), []);
    assert.deepEqual(events.map((e) => e.SmtpVerb),
      ['EHLO', 'DATAX', 'MAIL', 'STARTTLSX', 'RCPT', 'QUIT']);
  });
