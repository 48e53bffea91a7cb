import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventRecord } from '../../src/events/query/event-predicate.js';
import { compileQuery } from '../../src/events/query/query-compiler.js';

/** A python3 script sending MAIL FROM to a public server over IPv4. */
const MAIL: EventRecord = {
  event_simpleName: 'SmtpCommand',
  ImageFileName: '/usr/bin/python3',
  CommandLine: 'python3 -c "send()" --from=a@b',
  SmtpCommandKind: '4',
  SmtpVerb: 'MAIL',
  CommandArg1: 'FROM:<Alice@Example.com>',
  RemoteAddressIP4: '203.0.113.7',
  RemotePort: '25',
};

/** The same command to an IPv6 server: no RemoteAddressIP4. */
const MAIL_IPV6: EventRecord = {
  event_simpleName: 'SmtpCommand',
  ImageFileName: '/usr/bin/curl',
  SmtpCommandKind: '4',
  SmtpVerb: 'MAIL',
  RemoteAddressIP6: '2001:db8:25::10',
  RemotePort: '25',
};

/** An event from a process that could not be identified: no ImageFileName at all. */
const NO_PROCESS: EventRecord = { event_simpleName: 'SmtpCommand', SmtpCommandKind: '13' };

interface Case {
  readonly expression: string;
  readonly event: EventRecord;
  readonly expected: boolean;
}

function checkAll(cases: readonly Case[]): void {
  for (const { expression, event, expected } of cases) {
    it(`${expression} is ${expected} for ${describeEvent(event)}`, () => {
      assert.equal(compileQuery(expression)(event), expected);
    });
  }
}

function cases(event: EventRecord, table: Readonly<Record<string, boolean>>): Case[] {
  return Object.entries(table).map(([expression, expected]) => ({ expression, event, expected }));
}

function describeEvent(event: EventRecord): string {
  if (event === MAIL) return 'the IPv4 MAIL event';
  if (event === MAIL_IPV6) return 'the IPv6 MAIL event';
  if (event === NO_PROCESS) return 'the event without a process';
  return JSON.stringify(event);
}

describe('terms side by side are all required; OR binds tighter than them', () => {
  checkAll(cases(MAIL, {
    'SmtpVerb=MAIL RemotePort=25': true,
    'SmtpVerb=MAIL RemotePort=587': false,
    // a AND (b OR c): false because a is; ((a b) OR c) would be true.
    'SmtpVerb=RCPT RemotePort=25 OR ImageFileName=/usr/bin/python3': false,
    'SmtpVerb=MAIL RemotePort=587 OR ImageFileName=/usr/bin/python3': true,
    'RemotePort=587 OR SmtpVerb=MAIL SmtpVerb=RCPT': false,
    'RemotePort=587 OR SmtpVerb=MAIL RemotePort=25': true,
    'RemotePort=1 OR RemotePort=2 OR RemotePort=25': true,
    'RemotePort=1 OR RemotePort=2 OR RemotePort=3': false,
  }));
});

describe('the AND keyword means the same as a space', () => {
  checkAll(cases(MAIL, {
    'SmtpVerb=MAIL AND RemotePort=25': true,
    'SmtpVerb=MAIL AND RemotePort=587': false,
    'SmtpVerb=RCPT AND RemotePort=25 OR ImageFileName=/usr/bin/python3': false,
    'SmtpVerb=MAIL AND RemotePort=25 AND SmtpCommandKind=4': true,
  }));
});

describe('NOT applies to the one term or group after it', () => {
  checkAll(cases(MAIL, {
    'NOT SmtpVerb=MAIL': false,
    'NOT SmtpVerb=RCPT': true,
    'NOT NOT SmtpVerb=MAIL': true,
    // (NOT a) OR b: true; NOT (a OR b) would be false.
    'NOT SmtpVerb=MAIL OR RemotePort=25': true,
    'NOT (SmtpVerb=MAIL OR RemotePort=25)': false,
    'NOT SmtpVerb=MAIL RemotePort=25': false,
    'NOT(SmtpVerb=RCPT)': true,
  }));
});

describe('parentheses group terms', () => {
  checkAll(cases(MAIL, {
    '(SmtpVerb=RCPT RemotePort=25) OR ImageFileName=/usr/bin/python3': true,
    '((SmtpVerb=MAIL))': true,
    '(SmtpVerb=MAIL)(RemotePort=25)': true,
    '( SmtpVerb=MAIL OR SmtpVerb=RCPT ) ( RemotePort=587 OR RemotePort=25 )': true,
    '(SmtpVerb=MAIL OR SmtpVerb=RCPT) (RemotePort=587 OR RemotePort=465)': false,
  }));
});

describe('values may be bare or double-quoted, with \\" and \\\\ escapes', () => {
  const backslashes: EventRecord = {
    CommandArg1: 'a\\b', CommandLine: 'say "hi"', Arg: '\\x00rest',
  };
  checkAll([
    ...cases(MAIL, {
      'ImageFileName=/usr/bin/python3': true,
      'ImageFileName="/usr/bin/python3"': true,
      'CommandLine="python3 -c \\"send()\\" --from=a@b"': true,
      'CommandLine="python3 -c "': false,
      'CommandArg1=FROM:<Alice@Example.com>': true,
      'SmtpVerb="OR"': false,
      'SmtpVerb="MAIL" OR SmtpVerb="NOT"': true,
    }),
    ...cases(backslashes, {
      'CommandArg1="a\\\\b"': true,
      // A backslash before anything but " or \ is kept as typed.
      'CommandArg1="a\\b"': true,
      'CommandArg1=a\\b': true,
      'CommandLine="say \\"hi\\""': true,
      'Arg="\\x00*"': true,
      'Arg=\\x00rest': true,
    }),
    ...cases({ SmtpVerb: 'OR', Empty: '' }, {
      'SmtpVerb=OR': true,
      'SmtpVerb=or': true,
      'SmtpVerb=NOT': false,
      'Empty=""': true,
      'Empty!=""': false,
      'SmtpVerb=""': false,
      'Missing=""': false,
      'NOT Missing=""': true,
    }),
  ]);
});

describe('a bare value runs to the next space or parenthesis', () => {
  checkAll(cases(MAIL, {
    'CommandLine=*--from=a@b': true,
    'CommandLine=*--from=a@b RemotePort=25': true,
    '(CommandLine=*--from=a@b)': true,
    'CommandLine=*from!=x': false,
  }));
});

describe('* stands for any run of characters, none included', () => {
  const path: EventRecord = { ImageFileName: '/usr/bin/python3', Short: 'a', Pair: 'ab' };
  checkAll(cases(path, {
    'ImageFileName=*python3': true,
    'ImageFileName=*python': false,
    'ImageFileName=/usr/bin/*': true,
    'ImageFileName=/usr/sbin/*': false,
    'ImageFileName=/usr/*/python3': true,
    'ImageFileName=/usr/*/perl': false,
    'ImageFileName=*bin*': true,
    'ImageFileName=*sbin*': false,
    'ImageFileName=*usr*bin*py*': true,
    'ImageFileName=*usr*py*bin*': false,
    'ImageFileName=/*/*/*3': true,
    'ImageFileName=*yth*3': true,
    'ImageFileName=*on3*3': false,
    'ImageFileName=/usr/*/usr/*': false,
    'ImageFileName=/usr/bin/python3*': true,
    'ImageFileName=*/usr/bin/python3': true,
    'ImageFileName=/usr**python3': true,
    'ImageFileName=*': true,
    'ImageFileName=**': true,
    'Missing=*': false,
    'NOT Missing=*': true,
    'ImageFileName!=*': false,
    'ImageFileName!=*perl': true,
    'ImageFileName!=*python3': false,
    // The pieces around a * cannot share characters.
    'Short=a*a': false,
    'Pair=a*b': true,
    'Pair=ab*b': false,
    'Pair=*b*b*': false,
    'Pair=*a*b*': true,
  }));
  checkAll(cases({ Empty: '' }, { 'Empty=*': true, 'Empty=*a*': false }));
});

describe('values ignore case; field names do not', () => {
  checkAll(cases(MAIL, {
    'SmtpVerb=mail': true,
    'SmtpVerb=MaIl': true,
    'CommandArg1=from:<alice@example.com>': true,
    'CommandArg1="*ALICE@EXAMPLE.COM*"': true,
    'smtpverb=MAIL': false,
    'SMTPVERB=MAIL': false,
    'NOT smtpverb=MAIL': true,
    'SmtpVerb!=mail': false,
  }));
});

describe('a CIDR value compares the field by subnet', () => {
  checkAll([
    ...cases(MAIL, {
      'RemoteAddressIP4=203.0.113.0/24': true,
      'RemoteAddressIP4="203.0.113.0/24"': true,
      'RemoteAddressIP4=203.0.113.99/24': true,
      'RemoteAddressIP4=203.0.113.7/32': true,
      'RemoteAddressIP4=203.0.113.8/32': false,
      'RemoteAddressIP4=0.0.0.0/0': true,
      'RemoteAddressIP4=10.0.0.0/8': false,
      'RemoteAddressIP4!=10.0.0.0/8': true,
      'RemoteAddressIP4!="203.0.0.0/8"': false,
      'RemoteAddressIP4=fd00::/8': false,
      'RemoteAddressIP4!=fd00::/8': true,
      'RemoteAddressIP4=::/0': true,
    }),
    ...cases(MAIL_IPV6, {
      'RemoteAddressIP6=2001:db8::/32': true,
      'RemoteAddressIP6=2001:DB8::/32': true,
      'RemoteAddressIP6=fd00::/8': false,
      'RemoteAddressIP6!=fd00::/8': true,
      'RemoteAddressIP6=2001:db8:25:0:0:0:0:10/128': true,
      'RemoteAddressIP6=0.0.0.0/0': false,
      'RemoteAddressIP6!=0.0.0.0/0': true,
      'RemoteAddressIP6=::/0': true,
    }),
  ]);
});

describe('IPv4-mapped IPv6 addresses compare as IPv4', () => {
  checkAll([
    ...cases({ RemoteAddressIP6: '::ffff:10.1.2.3' }, {
      'RemoteAddressIP6=10.0.0.0/8': true,
      'RemoteAddressIP6!=10.0.0.0/8': false,
      'RemoteAddressIP6=192.168.0.0/16': false,
      'RemoteAddressIP6=::ffff:10.0.0.0/104': true,
      'RemoteAddressIP6=::ffff:0:0/96': true,
      'RemoteAddressIP6=fd00::/8': false,
    }),
    ...cases({ RemoteAddressIP4: '10.1.2.3' }, {
      'RemoteAddressIP4=::ffff:10.0.0.0/104': true,
      'RemoteAddressIP4=::ffff:192.168.0.0/112': false,
      'RemoteAddressIP4=::ffff:0:0/96': true,
    }),
  ]);
});

describe('a CIDR term never matches a field that is missing or holds no address', () => {
  const notAddresses = ['', 'mx.example.net', '10.1.2', '010.1.2.3', '10.1.2.3 ', '10.0.0.0/8'];
  checkAll([
    ...cases(MAIL_IPV6, {
      'RemoteAddressIP4="10.0.0.0/8"': false,
      'RemoteAddressIP4!="10.0.0.0/8"': false,
      'NOT RemoteAddressIP4="10.0.0.0/8"': true,
    }),
    ...notAddresses.flatMap((text) => cases({ RemoteAddressIP4: text }, {
      'RemoteAddressIP4=0.0.0.0/0': false,
      'RemoteAddressIP4!=10.0.0.0/8': false,
      'RemoteAddressIP4=::/0': false,
    })),
  ]);
});

describe('a value is a CIDR only when the whole of it parses as one', () => {
  const texts: EventRecord = { A: '10.0.0.0/8x', B: '10/8', C: '10.1.2.3', D: '2001:db8:25::10' };
  checkAll(cases(texts, {
    'A=10.0.0.0/8*': true,
    'A="10.0.0.0/8 "': false,
    'B=10/8': true,
    'C=10.1.2.3': true,
    'C=10.1.2.*': true,
    'D=2001:DB8:25::10': true,
    // Without a prefix length an address is text, so spelling matters: use /128.
    'D=2001:db8:25:0::10': false,
    'D=2001:db8:25:0::10/128': true,
  }));
});

describe('f!=v needs the field; NOT f=v does not', () => {
  checkAll([
    ...cases(NO_PROCESS, {
      'ImageFileName!=/usr/sbin/sendmail': false,
      'NOT ImageFileName=/usr/sbin/sendmail': true,
      'ImageFileName!=*': false,
      'NOT ImageFileName=*': true,
    }),
    ...cases(MAIL, {
      'ImageFileName!=/usr/sbin/sendmail': true,
      'NOT ImageFileName=/usr/sbin/sendmail': true,
      'ImageFileName!=/usr/bin/python3': false,
      'NOT ImageFileName=/usr/bin/python3': false,
    }),
  ]);
});

describe('SmtpCommandKind accepts kind names as well as numbers', () => {
  const starttls: EventRecord = { SmtpCommandKind: '14' };
  checkAll([
    ...cases(MAIL, {
      'SmtpCommandKind=4': true,
      'SmtpCommandKind=MAIL': true,
      'SmtpCommandKind=mail': true,
      'SmtpCommandKind="Mail"': true,
      'SmtpCommandKind=RCPT': false,
      'SmtpCommandKind!=MAIL': false,
      'SmtpCommandKind!=DATA': true,
      'SmtpCommandKind=DATA OR SmtpCommandKind=MAIL': true,
      'SmtpCommandKind=M*': true,
      'SmtpCommandKind=H*': false,
      'RemotePort=MAIL': false,
      'SmtpVerb=4': false,
    }),
    ...cases(starttls, {
      'SmtpCommandKind=STARTTLS': true,
      'SmtpCommandKind=*tls': true,
      'SmtpCommandKind=1*': true,
      'SmtpCommandKind=TLS': false,
    }),
    ...cases({ SmtpCommandKind: '0' }, { 'SmtpCommandKind=UNKNOWN': true }),
    ...cases({ SmtpCommandKind: '99' }, {
      'SmtpCommandKind=99': true,
      'SmtpCommandKind=UNKNOWN': false,
      'SmtpCommandKind!=MAIL': true,
    }),
    ...cases({}, { 'SmtpCommandKind!=MAIL': false, 'NOT SmtpCommandKind=MAIL': true }),
  ]);
});

describe('a value that is not a string counts as a missing field', () => {
  const odd = { RemotePort: 25, Nested: { a: 'b' }, Nothing: null } as unknown as EventRecord;
  checkAll(cases(odd, {
    'RemotePort=25': false,
    'RemotePort!=25': false,
    'NOT RemotePort=25': true,
    'Nested=*': false,
    'Nothing=*': false,
    'toString=*': false,
    'constructor=*': false,
  }));
});
