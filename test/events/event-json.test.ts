import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ConnectionContext } from '../../src/events/connection-context.js';
import type { ConnectionEndpoints } from '../../src/events/connection-context.js';
import { EventBuilder } from '../../src/events/event-builder.js';
import { encodeEventJson, eventJson } from '../../src/events/event-json.js';
import { jsonString } from '../../src/events/json-bytes.js';
import type { ProcessInfo } from '../../src/proc/process-info.js';
import { UNKNOWN_PROCESS } from '../../src/proc/process-info.js';
import { usePropertySeed } from '../helpers/property-seed.js';

usePropertySeed();

/** Any text a field may hold: quotes, backslashes, control characters, non-ASCII, emoji. */
const text = fc.string({ unit: 'binary', maxLength: 40 });

const processInfo: fc.Arbitrary<ProcessInfo> = fc.record({
  processId: text, parentProcessId: text, userId: text, userName: text, imageFileName: text,
  commandLine: text,
});

const endpoints: fc.Arbitrary<ConnectionEndpoints> = fc.record({
  ipVersion: fc.constantFrom(4 as const, 6 as const),
  clientAddress: text,
  clientPort: fc.integer({ min: 1, max: 65535 }),
  serverAddress: text,
  serverPort: fc.integer({ min: 1, max: 65535 }),
  startTime: fc.integer({ min: 0, max: 2 ** 42 }),
});

/** One record of a session: a command, an anomaly or a TLS handshake, at some time. */
const record = fc.oneof(
  fc.tuple(fc.constant('command' as const), fc.integer({ min: 0, max: 23 }), text, text),
  fc.tuple(fc.constant('anomaly' as const), fc.constant(0), text, text),
  fc.tuple(fc.constant('tls' as const), fc.constant(0), text, text),
);

describe('eventJson', () => {
  test('writes what JSON.stringify writes, for every kind of event and any field text', () => {
    fc.assert(fc.property(text, text, endpoints, fc.constantFrom(0 as const, 1 as const),
      processInfo, fc.array(fc.tuple(record, fc.boolean()), { minLength: 1, maxLength: 6 }),
      processInfo, fc.integer({ min: 0, max: 2 ** 42 }),
      (aid, computerName, ends, direction, first, records, later, time) => {
        const builder = new EventBuilder({ aid, computerName });
        const connection = new ConnectionContext(ends, direction, first, { aid, computerName });
        for (const [[kind, number, a, b], processChanges] of records) {
          // An inbound connection learns its server process after its first events.
          if (processChanges) connection.process = later;
          const event = kind === 'command' ? builder.command(connection, number, a, b, time)
            : kind === 'anomaly' ? builder.anomaly(connection, 'tcp_gap', a, time)
              : builder.tlsHandshake(connection, a, b, 'starttls', time);
          assert.equal(eventJson(event), JSON.stringify(event));
          const bytes = Buffer.from(JSON.stringify(event));
          const target = Buffer.alloc(bytes.length + 8);
          const end = encodeEventJson(event, target, 3, target.length);
          if (end >= 0) assert.deepEqual(target.subarray(3, end), bytes);
          // Room for seven bytes per byte of the line, and the field names, is always enough:
          // encodeEventJson asks for up to six per code unit of the event's own text.
          const roomy = Buffer.alloc(bytes.length * 7 + 200);
          const roomyEnd = encodeEventJson(event, roomy, 3, roomy.length);
          assert.deepEqual(roomy.subarray(3, roomyEnd), bytes);
          assert.equal(encodeEventJson(event, roomy, 3, 3 + bytes.length - 1), -1,
            'an event that does not fit is refused');
          assert.deepEqual(JSON.parse(eventJson(event)), Object.fromEntries(Object.entries(event)));
        }
      }), { numRuns: 500 });
  });

  test('a command line written without its event has the event\'s bytes, and numbers events alike',
    () => {
      // Times beyond what a capture gives (negative, fractional, unsafe) check the fallback.
      const time = fc.oneof(fc.integer({ min: 0, max: 2 ** 42 }),
        fc.integer({ min: -5000, max: -1 }), fc.double({ noNaN: true }), fc.constant(2 ** 60));
      fc.assert(fc.property(text, text, endpoints, fc.constantFrom(0 as const, 1 as const),
        processInfo, fc.array(fc.tuple(fc.integer({ min: 0, max: 23 }), text, text, time,
          fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 6 }), processInfo,
        (aid, computerName, ends, direction, first, commands, later) => {
          const host = { aid, computerName };
          const built = new ConnectionContext(ends, direction, first, host);
          const written = new ConnectionContext(ends, direction, first, host);
          const builder = new EventBuilder(host);
          for (const [kind, verb, argument, at, processChanges, viaEvent] of commands) {
            if (processChanges) {
              built.process = later;
              written.process = later;
            }
            const expected = Buffer.from(JSON.stringify(builder.command(built, kind, verb,
              argument, at)));
            // Either way of making a line must leave the next event's number right.
            if (viaEvent) {
              assert.deepEqual(Buffer.from(eventJson(builder.command(written, kind, verb,
                argument, at))), expected);
              continue;
            }
            const target = Buffer.alloc(expected.length * 7 + 300);
            assert.equal(builder.encodeCommand(written, kind, verb, argument, at, target, 5,
              5 + expected.length - 1), -1, 'a line that may not fit is refused');
            const end = builder.encodeCommand(written, kind, verb, argument, at, target, 5,
              target.length);
            assert.deepEqual(target.subarray(5, end), expected);
          }
          assert.equal(written.eventsMade, built.eventsMade);
        }), { numRuns: 500 });
    });

  test('jsonString writes what JSON.stringify writes for any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (value) => {
      assert.equal(jsonString(value), JSON.stringify(value));
    }), { numRuns: 2000 });
    for (const value of ['', 'plain', 'a"b', 'a\\b', '\u0000', '\u001f', '\u007f', '\u2028',
      '\ud800', '\udfff', '\ud83d\ude00', 'é€']) {
      assert.equal(jsonString(value), JSON.stringify(value), JSON.stringify(value));
    }
  });

  test('an event made elsewhere is written by JSON.stringify', () => {
    const event = { event_simpleName: 'SmtpCommand', id: 'x', CommandArg1: 'a"b' };
    assert.equal(eventJson(event),
      '{"event_simpleName":"SmtpCommand","id":"x","CommandArg1":"a\\"b"}');
  });

  test('events of one connection keep the process they were built with', () => {
    const host = { aid: 'a', computerName: 'h' };
    const connection = new ConnectionContext({ ipVersion: 4, clientAddress: '10.0.0.1',
      clientPort: 40000, serverAddress: '10.0.0.2', serverPort: 25, startTime: 1 }, 1,
    UNKNOWN_PROCESS, host);
    const builder = new EventBuilder(host);
    const before = builder.command(connection, 2, 'EHLO', 'c', 5);
    connection.process = { ...UNKNOWN_PROCESS, processId: '42', imageFileName: '/usr/sbin/x' };
    const after = builder.command(connection, 13, 'QUIT', '', 6);
    assert.equal(JSON.parse(eventJson(before)).ContextProcessId, '');
    assert.equal(JSON.parse(eventJson(after)).ContextProcessId, '42');
    assert.equal(JSON.parse(eventJson(after)).ImageFileName, '/usr/sbin/x');
  });
});
