import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseProcessStat } from '../../src/proc/process-stat.js';

/** Fields after comm: state, ppid, then 17 fields, then starttime (field 22). */
function stat(comm: string, parent = 200, start = 123_456): Buffer {
  const middle = '4242 4242 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0';
  return Buffer.from(`4242 (${comm}) S ${parent} ${middle} ${start} 12582912 1024 0 0\n`);
}

describe('parseProcessStat: fields counted from the last parenthesis', () => {
  const names = ['smtp', 'my (weird) proc', 'a) b', ') 9 9 (', '(', 'two  spaces', ''];
  for (const comm of names) {
    test(`comm ${JSON.stringify(comm)}`, () => {
      assert.deepEqual(parseProcessStat(stat(comm)), { parentProcessId: 200, startTime: 123456 });
    });
  }

  test('a start time beyond 32 bits (a host up for years at 100 Hz is not near)', () => {
    assert.equal(parseProcessStat(stat('x', 1, 2 ** 40))?.startTime, 2 ** 40);
  });

  test('text cut before the start time gives undefined', () => {
    assert.equal(parseProcessStat(Buffer.from('4242 (smtp) S 200 4242 4242 0')), undefined);
    assert.equal(parseProcessStat(Buffer.from('4242 (smtp')), undefined);
  });
});
