import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { YoungProcesses } from '../../src/proc/young-processes.js';

describe('YoungProcesses: processes found new lately, rescanned on misses', () => {
  test('the one found last comes first', () => {
    const young = new YoungProcesses(10_000, 8, () => {});
    for (const pid of [100, 205, 150]) young.add(pid, 1_000);
    assert.deepEqual(young.list(1_000), [150, 205, 100]);
  });

  test('forgotten youngProcessMs after they were found', () => {
    const young = new YoungProcesses(10_000, 8, () => {});
    young.add(100, 1_000);
    young.add(200, 5_000);
    assert.deepEqual(young.list(10_999), [200, 100]);
    assert.deepEqual(young.list(11_000), [200]);
    assert.deepEqual(young.list(1_000), [200], 'forgotten for good');
  });

  test('past the limit the one found first goes, counted', () => {
    let evicted = 0;
    const young = new YoungProcesses(10_000, 2, () => evicted++);
    for (const pid of [1, 2, 3]) young.add(pid, 0);
    assert.deepEqual(young.list(0), [3, 2]);
    assert.equal(evicted, 1);
  });

  test('delete: an owner is rescanned as such, no longer as young', () => {
    const young = new YoungProcesses(10_000, 8, () => {});
    young.add(1, 0);
    young.add(2, 0);
    young.delete(1);
    assert.deepEqual(young.list(0), [2]);
  });
});
