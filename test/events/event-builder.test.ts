import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { ConnectionContext } from '../../src/events/connection-context.js';
import { EventBuilder } from '../../src/events/event-builder.js';
import { UNKNOWN_PROCESS } from '../../src/proc/process-info.js';

/** The schema's field order, copied from docs/events.md, with the event's own fields apart. */
const LEADING = ['event_simpleName', 'id', 'timestamp', 'ContextTimeStamp', 'aid',
  'ComputerName', 'event_platform', 'ContextProcessId', 'ParentProcessId', 'UserId',
  'UserName', 'ImageFileName', 'CommandLine'];
function socketFields(family: 'IP4' | 'IP6'): string[] {
  return [`LocalAddress${family}`, 'LocalPort', `RemoteAddress${family}`, 'RemotePort',
    'ConnectionDirection', 'SmtpSessionId'];
}

const host = { aid: 'a', computerName: 'h' };
const builder = new EventBuilder(host);

function connectionOf(ipVersion: 4 | 6): ConnectionContext {
  return new ConnectionContext({ ipVersion, clientAddress: ipVersion === 4 ? '10.0.0.1' : 'fd00::1',
    clientPort: 40000, serverAddress: ipVersion === 4 ? '10.0.0.2' : 'fd00::2', serverPort: 25,
    startTime: 1 }, 0, UNKNOWN_PROCESS, host);
}

describe('EventBuilder field order', () => {
  for (const ipVersion of [4, 6] as const) {
    const family = ipVersion === 4 ? 'IP4' : 'IP6';
    test(`every kind of event over IPv${ipVersion} has the documented fields in order`, () => {
      const connection = connectionOf(ipVersion);
      assert.deepEqual(Object.keys(builder.command(connection, 4, 'MAIL', 'FROM:<a@b>', 5)),
        [...LEADING, 'SmtpCommandKind', 'SmtpVerb', 'CommandArg1', ...socketFields(family)]);
      assert.deepEqual(Object.keys(builder.anomaly(connection, 'tcp_gap', 'd', 6)),
        [...LEADING, 'AnomalyName', 'AnomalyDetail', ...socketFields(family)]);
      assert.deepEqual(Object.keys(builder.tlsHandshake(connection, 'mx', 'TLS 1.3',
        'starttls', 7)),
      [...LEADING, 'TlsServerName', 'TlsVersion', 'TlsStart', ...socketFields(family)]);
    });
  }

  test('a command event carries its connection\'s values', () => {
    const connection = connectionOf(6);
    const event = builder.command(connection, 4, 'MAIL', 'FROM:<a@b>', 1701619200123);
    assert.equal(event.id, `${connection.sessionId}-1`);
    assert.equal(event.timestamp, '1701619200123');
    assert.equal(event.ContextTimeStamp, '1701619200.123');
    assert.equal(event.SmtpCommandKind, '4');
    assert.equal(event.LocalAddressIP6, 'fd00::1');
    assert.equal(event.RemoteAddressIP6, 'fd00::2');
    assert.equal(event.LocalPort, '40000');
    assert.equal(event.RemotePort, '25');
    assert.equal(event.ConnectionDirection, '0');
  });

  test('the session id hashes the host, the 4-tuple, the start and the first sequence number',
    () => {
      const ends = { ipVersion: 4 as const, clientAddress: '10.0.0.1', clientPort: 40000,
        serverAddress: '10.0.0.2', serverPort: 25, startTime: 1701619200123 };
      const first = new ConnectionContext({ ...ends, firstSequence: 1000 }, 0, UNKNOWN_PROCESS,
        host);
      const again = new ConnectionContext({ ...ends, firstSequence: 1000 }, 0, UNKNOWN_PROCESS,
        host);
      // A new SYN on the same 4-tuple in the same millisecond: another initial sequence.
      const next = new ConnectionContext({ ...ends, firstSequence: 7777 }, 0, UNKNOWN_PROCESS,
        host);
      assert.equal(first.sessionId, createHash('sha256')
        .update('a|10.0.0.1|40000|10.0.0.2|25|1701619200123|1000').digest('hex').slice(0, 32));
      assert.equal(again.sessionId, first.sessionId);
      assert.notEqual(next.sessionId, first.sessionId);
    });
});
