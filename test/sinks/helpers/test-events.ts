import type { SensorEvent } from '../../../src/events/sensor-event.js';

/** A SmtpCommand event numbered `index`, with an id that says which one it is. */
export function testEvent(index: number, kind = '4'): SensorEvent {
  return {
    event_simpleName: 'SmtpCommand',
    id: `test-${index}`,
    timestamp: String(1796324493819 + index),
    ComputerName: 'sensor-test',
    SmtpCommandKind: kind,
    SmtpVerb: kind === '4' ? 'MAIL' : 'RCPT',
    CommandArg1: `FROM:<user${index}@example.org>`,
    RemoteAddressIP4: '127.0.0.1',
    RemotePort: '25',
  };
}

/** The indexes in `test-N` ids, sorted, for comparing what a collector received. */
export function indexesOf(ids: Iterable<string>): number[] {
  return [...ids].map((id) => Number(id.slice('test-'.length))).sort((a, b) => a - b);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, offset) => from + offset);
}
