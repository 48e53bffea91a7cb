import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EventWriter } from '../../agent/event-writer.js';
import { ConnectionContext } from '../../src/events/connection-context.js';
import { EventBuilder } from '../../src/events/event-builder.js';
import { UNKNOWN_PROCESS } from '../../src/proc/process-info.js';
import type { SensorEvent } from '../../src/events/sensor-event.js';

/** Writes the events through an EventWriter into a file and returns the file's text. */
function writtenText(events: readonly SensorEvent[]): string {
  const folder = mkdtempSync(join(tmpdir(), 'smtp-sensor-writer-'));
  try {
    const path = join(folder, 'events.jsonl');
    const fd = openSync(path, 'w');
    const writer = new EventWriter(fd);
    for (const event of events) writer.write(event);
    writer.flush();
    closeSync(fd);
    assert.equal(writer.written, events.length);
    return readFileSync(path, 'utf8');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function event(index: number, argument: string): SensorEvent {
  return { event_simpleName: 'SmtpCommand', id: `s-${index}`, CommandArg1: argument };
}

describe('EventWriter', () => {
  test('every event is one JSON line, in order, across many batches', () => {
    // 3,000 lines of about 90 bytes fill several 64 KiB batches; é, € and 😀 take 2, 3 and 4
    // bytes in UTF-8, so the bytes written differ from the string lengths.
    const events = Array.from({ length: 3000 }, (_, index) =>
      event(index, `TO:<b${index}@example.org> é€😀 "quoted" \\ back`));
    const lines = writtenText(events).split('\n');
    assert.equal(lines.pop(), '', 'the text ends with a line end');
    assert.deepEqual(lines.map((line) => JSON.parse(line)), events);
  });

  test('a line longer than a batch is written whole, between the others', () => {
    const events = [event(0, 'first'), event(1, '€'.repeat(40_000)), event(2, 'last')];
    const lines = writtenText(events).split('\n');
    assert.equal(lines.pop(), '');
    assert.deepEqual(lines.map((line) => JSON.parse(line)), events);
    assert.equal(Buffer.byteLength(lines[1]), JSON.stringify(events[1]).length + 80_000);
  });

  test('small events wait for the batch to fill or for flush', () => {
    const folder = mkdtempSync(join(tmpdir(), 'smtp-sensor-writer-'));
    try {
      const path = join(folder, 'events.jsonl');
      const fd = openSync(path, 'w');
      const writer = new EventWriter(fd);
      writer.write(event(0, 'FROM:<a@example.org>'));
      assert.equal(readFileSync(path, 'utf8'), '', 'one small event is not written at once');
      writer.flush();
      assert.equal(readFileSync(path, 'utf8'),
        '{"event_simpleName":"SmtpCommand","id":"s-0","CommandArg1":"FROM:<a@example.org>"}\n');
      closeSync(fd);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test('commands written without their events come out as the events would, in order', () => {
    const host = { aid: 'a', computerName: 'h' };
    const builder = new EventBuilder(host);
    const ends = { ipVersion: 4 as const, clientAddress: '10.0.0.1', clientPort: 40000,
      serverAddress: '10.0.0.2', serverPort: 25, startTime: 1 };
    const direct = new ConnectionContext(ends, 0, UNKNOWN_PROCESS, host);
    const built = new ConnectionContext(ends, 0, UNKNOWN_PROCESS, host);
    // 2,000 short commands fill several batches; one argument longer than a batch takes the
    // path that builds the event; é€😀 are 2, 3 and 4 bytes in UTF-8.
    const commands = Array.from({ length: 2000 }, (_, index) =>
      [index % 24, 'RCPT', `TO:<b${index}@example.org> é€😀 "q" \\`] as const);
    const all = [...commands.slice(0, 1000), [4, 'MAIL', 'x'.repeat(70_000)] as const,
      ...commands.slice(1000)];
    const folder = mkdtempSync(join(tmpdir(), 'smtp-sensor-writer-'));
    try {
      const path = join(folder, 'events.jsonl');
      const fd = openSync(path, 'w');
      const writer = new EventWriter(fd);
      all.forEach(([kind, verb, argument], index) =>
        writer.writeCommand(builder, direct, kind, verb, argument, 1_700_000_000_000 + index));
      writer.flush();
      closeSync(fd);
      assert.equal(writer.written, all.length);
      const expected = all.map(([kind, verb, argument], index) =>
        `${JSON.stringify(builder.command(built, kind, verb, argument,
          1_700_000_000_000 + index))}\n`).join('');
      assert.equal(readFileSync(path, 'utf8'), expected);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
