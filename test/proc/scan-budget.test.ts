import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ScanBudget } from '../../src/proc/scan-budget.js';

describe('ScanBudget: a burst, then one scan per interval of capture time', () => {
  test('three at once, then one per 2 s, never more than the burst saved up', () => {
    const budget = new ScanBudget(3, 2_000);
    const taken = [0, 1, 2, 3, 1_999, 2_000, 2_001, 100_000, 100_000, 100_000, 100_000]
      .map((time) => budget.take(time));
    assert.deepEqual(taken,
      [true, true, true, false, false, true, false, true, true, true, false]);
  });

  test('a capture clock that steps back neither earns nor blocks forever', () => {
    const budget = new ScanBudget(1, 2_000);
    assert.equal(budget.take(50_000), true);
    assert.equal(budget.take(10_000), false);
    assert.equal(budget.take(12_000), true, 'earning restarts from the earlier time');
  });

  test('an interval of 0 is no limit', () => {
    const budget = new ScanBudget(1, 0);
    assert.deepEqual([budget.take(0), budget.take(0), budget.take(0)], [true, true, true]);
  });
});
