import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { PendingCommands } from '../../src/smtp/pending-commands.js';
import { SmtpStats } from '../../src/smtp/smtp-stats.js';
import { usePropertySeed } from '../helpers/property-seed.js';

usePropertySeed();

describe('PendingCommands', () => {
  test('behaves as a queue that keeps the newest `capacity` kinds, counting what it drops', () => {
    // Against a plain array: pushes (a kind) and shifts (null), across growth and wrap-around.
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }),
      fc.array(fc.option(fc.integer({ min: 0, max: 23 }), { nil: null }), { maxLength: 300 }),
      (capacity, operations) => {
        const stats = new SmtpStats();
        const pending = new PendingCommands(capacity, stats);
        const model: number[] = [];
        let dropped = 0;
        for (const operation of operations) {
          if (operation === null) {
            assert.equal(pending.shift(), model.length === 0 ? -1 : model.shift());
          } else {
            pending.push(operation);
            model.push(operation);
            if (model.length > capacity) {
              model.shift();
              dropped++;
            }
          }
          assert.equal(pending.length, model.length);
        }
        assert.equal(stats.pending_commands_dropped, dropped);
        while (model.length > 0) assert.equal(pending.shift(), model.shift());
        assert.equal(pending.shift(), -1);
      }), { numRuns: 1000 });
  });

  test('clear empties it, and it fills again', () => {
    const pending = new PendingCommands(512, new SmtpStats());
    for (let i = 0; i < 20; i++) pending.push(i % 24);
    pending.clear();
    assert.equal(pending.shift(), -1);
    pending.push(7);
    assert.equal(pending.shift(), 7);
  });
});
