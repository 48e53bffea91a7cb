import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { EventRecord } from '../../src/events/query/event-predicate.js';
import { compileQuery } from '../../src/events/query/query-compiler.js';

/** Written beside this test's source; the compiled test runs from dist/test/events. */
const FIXTURE = new URL('../../../test/events/fixtures/hunt-events.jsonl', import.meta.url);

/**
 * The five queries of the seed, verbatim, with the fixture lines each must match (1-based).
 * The fixture: 1-3 sendmail to public 198.51.100.10; 4 sendmail DATA to private 10.20.30.40;
 * 5-8 python3 to public 203.0.113.7; 9 SmtpAnomaly; 10-11 curl over IPv6; 12 SmtpTlsHandshake;
 * 13 postfix's smtp client to 192.168.1.25; 14 /usr/sbin/postfix to 172.16.5.5; 15 unknown
 * process (fields present, empty) to 172.32.0.1; 16 QUIT lacking ImageFileName, CommandLine and
 * CommandArg1, to 172.31.255.254; 17 perl to 100.64.1.1; 18 python3 with RemoteAddressIP4 "";
 * 19 sendmail, near-miss sender, to 192.168.0.10; 20 python3 lower-case verb to 10.0.0.5;
 * 21 sendmail over IPv6 to fd00::25; 22 SmtpAnomaly.
 */
const SEED_QUERIES: readonly { expression: string; lines: number[]; why: string }[] = [
  {
    expression: 'event_simpleName=SmtpCommand',
    lines: [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21],
    why: 'every line but the anomalies (9, 22) and the TLS handshake (12)',
  },
  {
    expression: 'event_simpleName=SmtpCommand SmtpCommandKind=4',
    lines: [2, 7, 10, 13, 15, 18, 19, 20],
    why: 'the MAIL commands, including the lower-case verb of 20 (the kind is still 4)',
  },
  {
    expression: 'event_simpleName=SmtpCommand RemoteAddressIP4!="10.0.0.0/8" ' +
      'RemoteAddressIP4!="172.16.0.0/12" RemoteAddressIP4!="192.168.0.0/16"',
    lines: [1, 2, 3, 5, 6, 7, 8, 15, 17],
    why: 'public IPv4 servers; 172.32.0.1 is just past 172.16.0.0/12 and 100.64.1.1 is in no ' +
      'private range; IPv6 lines (10, 11, 21) lack the field and 18 holds no address',
  },
  {
    expression: 'event_simpleName=SmtpCommand ImageFileName!="/usr/sbin/sendmail" ' +
      'ImageFileName!="/usr/sbin/postfix"',
    lines: [5, 6, 7, 8, 10, 11, 13, 15, 17, 18, 20],
    why: 'python3, curl, perl, postfix\'s own smtp client (13, not in the list) and the ' +
      'unknown process whose path is "" (15); 16 lacks the field so != cannot match',
  },
  {
    expression: 'event_simpleName=SmtpCommand CommandArg1="*<suspicious-sender@domain.com>*"',
    lines: [7, 10, 15, 20],
    why: 'the sender in any case (7 and 20 differ in case); 19 has the address followed by ' +
      '.evil.net, so its ">" is not right after ".com"',
  },
];

/** The wider third query that docs/query-language.md suggests, IPv6 servers included. */
const EXTERNAL_SERVERS_ANY_FAMILY = 'event_simpleName=SmtpCommand ((' +
  'RemoteAddressIP4!="10.0.0.0/8" RemoteAddressIP4!="172.16.0.0/12" ' +
  'RemoteAddressIP4!="192.168.0.0/16" RemoteAddressIP4!="127.0.0.0/8") OR (' +
  'RemoteAddressIP6!="fc00::/7" RemoteAddressIP6!="fe80::/10" RemoteAddressIP6!="::1/128"))';

describe('the seed queries over a recorded event file', () => {
  const events = readFileSync(FIXTURE, 'utf8').trimEnd().split('\n')
    .map((line) => JSON.parse(line) as EventRecord);

  it('reads the 22 events of the fixture', () => {
    assert.equal(events.length, 22);
  });

  SEED_QUERIES.forEach(({ expression, lines, why }, index) => {
    it(`seed query ${index + 1} matches ${why}`, () => {
      const matches = compileQuery(expression);
      const matched = events.flatMap((event, index) => matches(event) ? [index + 1] : []);
      assert.deepEqual(matched, lines);
    });
  });

  it('the documented variant of query 3 also finds the public IPv6 server (10, 11)', () => {
    const matches = compileQuery(EXTERNAL_SERVERS_ANY_FAMILY);
    const matched = events.flatMap((event, index) => matches(event) ? [index + 1] : []);
    assert.deepEqual(matched, [1, 2, 3, 5, 6, 7, 8, 10, 11, 15, 17]);
  });
});
