import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EventWriter } from '../../agent/event-writer.js';
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
});
