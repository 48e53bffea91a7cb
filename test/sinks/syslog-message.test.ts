import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameSyslogMessage, type SyslogHeader } from '../../src/sinks/network/syslog-message.js';

const HEADER: SyslogHeader = { facility: 'local0', appName: 'smtp-sensor', hostname: 'fallback',
  processId: 4242 };

/** RFC 6587 octet counting: the number before the space is the byte length of the rest. */
function unframe(frame: Buffer): { length: number; message: string } {
  const space = frame.indexOf(0x20);
  return { length: Number(frame.subarray(0, space).toString()),
    message: frame.subarray(space + 1).toString('utf8') };
}

describe('frameSyslogMessage', () => {
  const cases: readonly [string, Record<string, string>, string][] = [
    ['a command event', { event_simpleName: 'SmtpCommand', timestamp: '1796324493819',
      ComputerName: 'mail-1' },
    '<134>1 2026-12-03T19:01:33.819Z mail-1 smtp-sensor 4242 SmtpCommand - '],
    ['no host name in the event: the machine\'s', { event_simpleName: 'SmtpAnomaly',
      timestamp: '0' }, '<134>1 1970-01-01T00:00:00.000Z fallback smtp-sensor 4242 SmtpAnomaly - '],
    ['no time and a host name with spaces', { event_simpleName: 'SmtpCommand',
      ComputerName: 'my host' }, '<134>1 - myhost smtp-sensor 4242 SmtpCommand - '],
  ];
  for (const [scenario, event, prefix] of cases) {
    it(`frames ${scenario}`, () => {
      const line = Buffer.from(JSON.stringify(event));
      const { length, message } = unframe(frameSyslogMessage(HEADER, event, line));
      assert.equal(message, prefix + line.toString());
      assert.equal(length, Buffer.byteLength(message));
    });
  }

  it('counts octets, not characters, when the JSON holds non-ASCII text', () => {
    const event = { event_simpleName: 'SmtpCommand', CommandArg1: 'TO:<jürgen@bücher.de>' };
    const frame = frameSyslogMessage(HEADER, event, Buffer.from(JSON.stringify(event)));
    const { length, message } = unframe(frame);
    assert.equal(length, Buffer.byteLength(message));
    assert.notEqual(length, message.length);
  });
});
