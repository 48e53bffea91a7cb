import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KIND_NAMES } from '../../src/smtp/command-kind.js';
import { play, type Step } from './session-script.js';

const BANNER: Step = ['s', '220 mx.example.org ESMTP\r\n'];
const EHLO_REPLY: Step = ['s', '250-mx.example.org\r\n250-PIPELINING\r\n250 CHUNKING\r\n'];

interface Scenario {
  name: string;
  steps: Step[];
  expected: string[];
  sawHandshake?: boolean;
}

/** Each expected list is worked out from the RFC section the scenario names. */
const scenarios: Scenario[] = [
  {
    name: 'plain session: body lines that look like commands are not commands (5321 4.1.1.4)',
    steps: [BANNER, ['c', 'EHLO client.example\r\n'], EHLO_REPLY,
      ['c', 'MAIL FROM:<a@example.org>\r\n'], ['s', '250 ok\r\n'],
      ['c', 'RCPT TO:<b@example.net>\r\n'], ['s', '250 ok\r\n'],
      ['c', 'DATA\r\n'], ['s', '354 go ahead\r\n'],
      ['c', 'Subject: x\r\n\r\nMAIL FROM:<evil@example.com>\r\nQUIT\r\n..\r\n.\r\n'],
      ['s', '250 queued\r\n'], ['c', 'QUIT\r\n'], ['s', '221 bye\r\n']],
    expected: ['EHLO EHLO client.example', 'MAIL MAIL FROM:<a@example.org>',
      'RCPT RCPT TO:<b@example.net>', 'DATA DATA', 'QUIT QUIT'],
  },
  {
    name: 'pipelined MAIL, RCPT, DATA in one segment wait for 354 (RFC 2920)',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY,
      ['c', 'MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n'],
      ['s', '250 ok\r\n250 ok\r\n354 go\r\n'], ['c', 'RSET\r\n.\r\n'], ['s', '250 ok\r\n'],
      ['c', 'QUIT\r\n']],
    expected: ['EHLO EHLO c', 'MAIL MAIL FROM:<a@x>', 'RCPT RCPT TO:<b@y>', 'DATA DATA',
      'QUIT QUIT'],
  },
  {
    name: 'bytes sent after DATA before its 354 are the body once 354 comes',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY,
      ['c', 'MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nRCPT TO:<c@z>\r\n.\r\nQUIT\r\n'],
      ['s', '250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n221 bye\r\n']],
    expected: ['EHLO EHLO c', 'MAIL MAIL FROM:<a@x>', 'RCPT RCPT TO:<b@y>', 'DATA DATA',
      'QUIT QUIT'],
  },
  {
    name: 'DATA rejected: the pipelined bytes after it are commands to the server',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY,
      ['c', 'MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nSubject: hi\r\n\r\n.\r\nQUIT\r\n'],
      ['s', '250 ok\r\n550 no such user\r\n554 no valid recipients\r\n']],
    expected: ['EHLO EHLO c', 'MAIL MAIL FROM:<a@x>', 'RCPT RCPT TO:<b@y>', 'DATA DATA',
      'UNKNOWN Subject: hi', 'UNKNOWN .', 'QUIT QUIT'],
  },
  {
    name: 'client-only capture: DATA is taken as accepted and its body skipped',
    steps: [['c', 'HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n'],
      ['c', 'HELO inside\r\n.\r\nQUIT\r\n']],
    expected: ['HELO HELO c', 'MAIL MAIL FROM:<a@x>', 'RCPT RCPT TO:<b@y>', 'DATA DATA',
      'QUIT QUIT'],
  },
  {
    name: 'AUTH LOGIN: continuation lines that read as HELO and QUIT are credentials',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY, ['c', 'AUTH LOGIN\r\n'],
      ['s', '334 VXNlcm5hbWU6\r\n'], ['c', 'HELO\r\n'], ['s', '334 UGFzc3dvcmQ6\r\n'],
      ['c', 'QUIT\r\n'], ['s', '235 ok\r\n'], ['c', 'MAIL FROM:<a@x>\r\n']],
    expected: ['EHLO EHLO c', 'AUTH AUTH LOGIN', 'MAIL MAIL FROM:<a@x>'],
  },
  {
    name: 'AUTH PLAIN with an initial response: the mechanism only (RFC 4954 section 4)',
    steps: [BANNER, ['c', 'AUTH PLAIN AHVzZXIAc2VjcmV0\r\n'], ['s', '235 ok\r\n'],
      ['c', 'QUIT\r\n']],
    expected: ['AUTH AUTH PLAIN', 'QUIT QUIT'],
  },
  {
    name: 'AUTH rejected at once: the next line is a command again',
    steps: [BANNER, ['c', 'AUTH CRAM-MD5\r\n'], ['s', '504 unrecognized\r\n'],
      ['c', 'QUIT\r\n']],
    expected: ['AUTH AUTH CRAM-MD5', 'QUIT QUIT'],
  },
  {
    name: 'AUTH cancelled with * (RFC 4954 section 4)',
    steps: [BANNER, ['c', 'AUTH LOGIN\r\n'], ['s', '334 VXNlcm5hbWU6\r\n'], ['c', '*\r\n'],
      ['s', '501 cancelled\r\n'], ['c', 'NOOP\r\n']],
    expected: ['AUTH AUTH LOGIN', 'NOOP NOOP'],
  },
  {
    name: 'client-only AUTH LOGIN skips the two lines the mechanism takes',
    steps: [['c', 'EHLO c\r\nAUTH LOGIN\r\nSEVMTw==\r\nUVVJVA==\r\nMAIL FROM:<a@x>\r\n']],
    expected: ['EHLO EHLO c', 'AUTH AUTH LOGIN', 'MAIL MAIL FROM:<a@x>'],
  },
  {
    name: 'client-only AUTH PLAIN without initial response skips one line',
    steps: [['c', 'AUTH PLAIN\r\nAHVzZXIAc2VjcmV0\r\nQUIT\r\n']],
    expected: ['AUTH AUTH PLAIN', 'QUIT QUIT'],
  },
  {
    name: 'STARTTLS accepted: nothing after it is plaintext (RFC 3207)',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY, ['c', 'STARTTLS\r\n'],
      ['s', '220 ready\r\n'], ['c', '\x16\x03\x01\x00\x05hello\r\nMAIL FROM:<a@x>\r\n'],
      ['s', '\x16\x03\x03\x00\x02ok250 ok\r\n']],
    expected: ['EHLO EHLO c', 'STARTTLS STARTTLS'],
  },
  {
    name: 'STARTTLS refused with 454: the session stays plaintext',
    steps: [BANNER, ['c', 'STARTTLS\r\n'], ['s', '454 TLS not available\r\n'],
      ['c', 'MAIL FROM:<a@x>\r\n']],
    expected: ['STARTTLS STARTTLS', 'MAIL MAIL FROM:<a@x>'],
  },
  {
    name: 'BDAT chunks are skipped by their exact size (RFC 3030)',
    steps: [BANNER, ['c', 'EHLO c\r\n'], EHLO_REPLY, ['c', 'MAIL FROM:<a@x>\r\n'],
      ['c', 'BDAT 23\r\nRCPT TO:<x@y>\r\nQUIT\r\n\r\nBDAT 0 LAST\r\nQUIT\r\n']],
    expected: ['EHLO EHLO c', 'MAIL MAIL FROM:<a@x>', 'BDAT BDAT 23', 'BDAT BDAT 0',
      'QUIT QUIT'],
  },
  {
    name: 'BDAT that is not BDAT SP size [SP LAST] skips nothing',
    steps: [['c', 'BDAT 5 X\r\nBDAT 3 last\r\nabcNOOP\r\nbdat abc\r\nQUIT\r\n']],
    expected: ['BDAT BDAT 5', 'BDAT BDAT 3', 'NOOP NOOP', 'BDAT bdat abc', 'QUIT QUIT'],
  },
  {
    name: 'bare LF ends a command line',
    steps: [['c', 'HELO c\nMAIL FROM:<a@x>\nQUIT\n']],
    expected: ['HELO HELO c', 'MAIL MAIL FROM:<a@x>', 'QUIT QUIT'],
  },
  {
    name: 'verbs are matched case-insensitively and kept as sent; FROM: and path join',
    steps: [['c', 'mail from: <a@x>\r\nRcPt To:\t<b@y> NOTIFY=NEVER\r\nQuIt\r\n']],
    expected: ['MAIL mail from:<a@x>', 'RCPT RcPt To:<b@y>', 'QUIT QuIt'],
  },
  {
    name: 'a verb glued to more letters is UNKNOWN and changes nothing',
    steps: [['c', 'DATAX\r\nMAIL FROM:<a@x>\r\nSTARTTLSX\r\nQUIT\r\n']],
    expected: ['UNKNOWN DATAX', 'MAIL MAIL FROM:<a@x>', 'UNKNOWN STARTTLSX', 'QUIT QUIT'],
  },
  {
    name: 'empty lines are not commands',
    steps: [['c', '\r\n\r\nNOOP\r\n\n']],
    expected: ['NOOP NOOP'],
  },
  {
    name: 'a client that opens with a TLS record is implicit TLS: no commands',
    steps: [['c', '\x16\x03\x01\x02\x00\x01EHLO x\r\nQUIT\r\n']],
    expected: [],
  },
  {
    name: 'a gap inside a line drops that line only',
    steps: [['c', 'HELO c\r\nMAIL FR'], ['gap', 20], ['c', 'OM:<a@x>\r\nQUIT\r\n']],
    expected: ['HELO HELO c', '!tcp_gap', 'QUIT QUIT'],
  },
  {
    name: 'a gap inside a body keeps looking for the end of data',
    steps: [['c', 'HELO c\r\nDATA\r\nline\r\n'], ['gap', 100], ['c', 'more\r\n.\r\nQUIT\r\n']],
    expected: ['HELO HELO c', 'DATA DATA', '!tcp_gap', 'QUIT QUIT'],
  },
  {
    name: 'control bytes, DEL and invalid UTF-8 are escaped; valid UTF-8 is kept',
    steps: [['c', Buffer.concat([Buffer.from('MAIL FROM:<a\x00b\x7f\x01'), Buffer.from([0xff,
      0xc3, 0xa9]), Buffer.from('@x>\r\nHELO \xe9\r\n', 'latin1')])]],
    expected: ['MAIL MAIL FROM:<a\\x00b\\x7f\\x01\\xffé@x>', 'HELO HELO \\xe9'],
  },
  {
    name: 'a server that never ends its EHLO reply: 354 still starts the body',
    steps: [BANNER, ['c', 'EHLO c\r\n'], ['s', '250-mx.example.org\r\n'],
      ['c', 'MAIL FROM:<a@x>\r\n'], ['s', '250 ok\r\n'], ['c', 'RCPT TO:<b@y>\r\n'],
      ['s', '250 ok\r\n'], ['c', 'DATA\r\n'], ['s', '354 go\r\n'],
      ['c', 'Subject: x\r\nRCPT TO:<evil@z>\r\n.\r\n'], ['s', '250 queued\r\n'],
      ['c', 'QUIT\r\n']],
    expected: ['EHLO EHLO c', 'MAIL MAIL FROM:<a@x>', 'RCPT RCPT TO:<b@y>', 'DATA DATA',
      'QUIT QUIT'],
  },
  {
    name: 'replies counted one short: a stale 250 never ends an AUTH exchange',
    steps: [['s', '220-first\r\n220-second'], ['s', '220 last\r\n'],
      ['c', 'EHLO c\r\n'], ['s', '250-mx\r\n250 AUTH LOGIN\r\n'], ['c', 'AUTH LOGIN\r\n'],
      ['s', '250 stale\r\n334 VXNlcm5hbWU6\r\n'], ['c', 'dXNlcg==\r\n'],
      ['s', '334 UGFzc3dvcmQ6\r\n'], ['c', 'UVVJVA==\r\n'], ['s', '235 ok\r\n'],
      ['c', 'QUIT\r\n']],
    expected: ['EHLO EHLO c', 'AUTH AUTH LOGIN', 'QUIT QUIT'],
  },
  {
    name: 'replies to a midstream session without its greeting pair with nothing',
    sawHandshake: false,
    steps: [['s', '250 ok\r\n'], ['c', 'DATA\r\n'], ['s', '354 go\r\n'],
      ['c', 'QUIT\r\n.\r\nQUIT\r\n']],
    expected: ['DATA DATA', 'QUIT QUIT'],
  },
];

describe('SmtpSession scenarios', () => {
  for (const scenario of scenarios) {
    test(scenario.name, () => {
      const { records } = play(scenario.steps, { sawHandshake: scenario.sawHandshake });
      assert.deepEqual(records, scenario.expected);
    });
  }
});

describe('SmtpSession with every step split', () => {
  for (const scenario of scenarios) {
    test(`${scenario.name}: cut at every byte boundary`, () => {
      const longest = Math.max(...scenario.steps.map((s) => s[0] === 'gap' ? 0
        : s[1].length));
      for (let at = 1; at < longest; at++) {
        const { records } = play(scenario.steps, { sawHandshake: scenario.sawHandshake,
          cut: (length) => (at < length ? [at] : []) });
        assert.deepEqual(records, scenario.expected, `cut at ${at}`);
      }
      const { records } = play(scenario.steps, { sawHandshake: scenario.sawHandshake,
        cut: (length) => Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1) });
      assert.deepEqual(records, scenario.expected, 'one byte per piece');
    });
  }
});

describe('SmtpSession limits', () => {
  test('every verb of the kind table, in any case, gets its kind', () => {
    for (const [kind, name] of KIND_NAMES.entries()) {
      if (kind === 0) continue;
      for (const verb of [name, name.toLowerCase(), name[0] + name.slice(1).toLowerCase()]) {
        const { records } = play([['c', `${verb} x\r\n`]]);
        assert.equal(records[0], `${name} ${verb} x`);
      }
    }
  });

  test('a line over 4096 bytes gives its command, a capped argument and line_too_long', () => {
    const long = 'RCPT TO:<' + 'a'.repeat(6000) + '@x>\r\nQUIT\r\n';
    for (const cut of [undefined, (n: number) => [100, 4000, 4100, n - 3]]) {
      const { records, stats } = play([['c', long]], { cut });
      assert.equal(records.length, 3);
      assert.equal(records[0], 'RCPT RCPT TO:<' + 'a'.repeat(1024 - 4));
      assert.equal(records[1], '!line_too_long');
      assert.equal(records[2], 'QUIT QUIT');
      assert.equal(stats.lines_too_long, 1);
    }
  });

  test('held bytes past the limit are parsed with the usual reply assumed', () => {
    const body = 'x'.repeat(70_000) + '\r\n.\r\nQUIT\r\n';
    const { records, stats } = play([BANNER, ['c', 'DATA\r\n'], ['c', body]]);
    assert.deepEqual(records, ['DATA DATA', '!reply_wait_overflow', 'QUIT QUIT']);
    assert.equal(stats.reply_wait_overflows, 1);
  });

  test('AUTH exchange lines are counted, never reported', () => {
    const { records, stats } = play([BANNER, ['c', 'AUTH LOGIN\r\n'], ['s', '334 a\r\n'],
      ['c', 'dXNlcg==\r\n'], ['s', '334 b\r\n'], ['c', 'c2VjcmV0LXBhc3N3b3Jk\r\n'],
      ['s', '235 ok\r\n']]);
    assert.deepEqual(records, ['AUTH AUTH LOGIN']);
    assert.equal(stats.auth_continuation_lines, 2);
    assert.ok(!records.join('\n').includes('c2VjcmV0'));
  });
});
