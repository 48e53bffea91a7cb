import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseProcessStat } from '../../src/proc/process-stat.js';

/**
 * Fields after comm: state, ppid, then 17 fields, then starttime (field 22), then 15 more and
 * exit_signal (field 38), then 14 more, as Linux 6 writes them.
 */
function stat(comm: string, parent = 200, start = 123_456, exitSignal = 17): Buffer {
  const middle = '4242 4242 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0';
  const after = '12582912 1024 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0';
  return Buffer.from(`4242 (${comm}) S ${parent} ${middle} ${start} ${after} ${exitSignal}`
    + ' 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n');
}

describe('parseProcessStat: fields counted from the last parenthesis', () => {
  const names = ['smtp', 'my (weird) proc', 'a) b', ') 9 9 (', '(', 'two  spaces', ''];
  for (const comm of names) {
    test(`comm ${JSON.stringify(comm)}`, () => {
      assert.deepEqual(parseProcessStat(stat(comm)),
        { parentProcessId: 200, startTime: 123456, isThread: false });
    });
  }

  test('a start time beyond 32 bits (a host up for years at 100 Hz is not near)', () => {
    assert.equal(parseProcessStat(stat('x', 1, 2 ** 40))?.startTime, 2 ** 40);
  });

  test('exit_signal -1: a thread other than the leader of its group', () => {
    assert.equal(parseProcessStat(stat('python3', 200, 5, -1))?.isThread, true);
    assert.equal(parseProcessStat(stat('python3', 200, 5, 0))?.isThread, false);
  });

  test('text cut after the start time: not taken for a thread', () => {
    const cut = Buffer.from('4242 (smtp) S 200 4242 4242 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 '
      + '1 0 123456 12582912');
    assert.deepEqual(parseProcessStat(cut),
      { parentProcessId: 200, startTime: 123456, isThread: false });
  });

  test('text cut before the start time gives undefined', () => {
    assert.equal(parseProcessStat(Buffer.from('4242 (smtp) S 200 4242 4242 0')), undefined);
    assert.equal(parseProcessStat(Buffer.from('4242 (smtp')), undefined);
  });
});
