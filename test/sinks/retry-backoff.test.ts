import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryDelayMs } from '../../src/sinks/network/retry-backoff.js';

/** The shipped defaults (configuration.md, `retry.initial_ms` and `retry.max_ms`). */
const DEFAULTS = { initialMs: 500, maxMs: 60_000 };

/**
 * Math.random never returns 1; this is the largest double below it. The delay it gives can
 * still round up to the ceiling itself.
 */
const LARGEST_RANDOM = 1 - Number.EPSILON / 2;

const always = (value: number) => () => value;

/** The documented ceiling for retry `attempt`: min(max_ms, initial_ms * 2^attempt). */
function ceiling(attempt: number): number {
  return Math.min(DEFAULTS.maxMs, DEFAULTS.initialMs * 2 ** attempt);
}

describe('retry backoff', () => {
  it('doubles the ceiling after each failed attempt until the maximum', () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((attempt) =>
      2 * retryDelayMs(DEFAULTS, attempt, always(0)));
    assert.deepEqual(ceilings,
      [500, 1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
  });

  it('stays at the maximum however many attempts failed, without overflowing', () => {
    for (const attempt of [8, 30, 31, 100, 10_000]) {
      assert.equal(retryDelayMs(DEFAULTS, attempt, always(0)), 30_000, `attempt ${attempt}`);
      const longest = retryDelayMs(DEFAULTS, attempt, always(LARGEST_RANDOM));
      assert.ok(longest <= 60_000 && longest > 59_999, `attempt ${attempt}: ${longest}`);
    }
  });

  const jitter: [string, number, (attempt: number) => number][] = [
    ['the lowest random value waits half the ceiling', 0, (attempt) => ceiling(attempt) / 2],
    ['a random value of one half waits three quarters', 0.5,
      (attempt) => ceiling(attempt) * 0.75],
    ['a random value of 0.1 waits 55 %', 0.1, (attempt) => ceiling(attempt) * 0.55],
  ];
  for (const [name, random, expected] of jitter) {
    it(`jitter: ${name}`, () => {
      for (const attempt of [0, 3, 7, 20]) {
        assert.ok(Math.abs(retryDelayMs(DEFAULTS, attempt, always(random)) - expected(attempt))
          < 1e-9, `attempt ${attempt}`);
      }
    });
  }

  it('keeps every delay between half and all of the ceiling, for any random value', () => {
    // A fixed linear congruential sequence, so that a failure can be replayed.
    let state = 12345;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    for (let attempt = 0; attempt < 40; attempt++) {
      for (let draw = 0; draw < 50; draw++) {
        const delay = retryDelayMs(DEFAULTS, attempt, random);
        assert.ok(delay >= ceiling(attempt) / 2 && delay <= ceiling(attempt),
          `attempt ${attempt}: ${delay} outside [${ceiling(attempt) / 2}, ${ceiling(attempt)}]`);
      }
    }
  });
});
