import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { PidAllocations } from '../../src/proc/pid-allocations.js';
import { FakeProcRoot } from './fake-proc-root.js';

describe('PidAllocations: pids allocated since, from the last field of /proc/loadavg', () => {
  let proc: FakeProcRoot;
  let allocations: PidAllocations;
  beforeEach(() => {
    proc = new FakeProcRoot();
    allocations = new PidAllocations(proc.root);
  });
  afterEach(() => proc.dispose());

  test('the pids after the one seen last, up to the one allocated last', () => {
    proc.setLastPid(1000);
    allocations.markAllSeen();
    proc.setLastPid(1004);
    assert.deepEqual(allocations.takeNew(256), { first: 1001, last: 1004 });
    proc.setLastPid(1006);
    assert.deepEqual(allocations.takeNew(256), { first: 1005, last: 1006 });
  });

  test('none allocated: an empty range', () => {
    proc.setLastPid(1000);
    allocations.markAllSeen();
    assert.deepEqual(allocations.takeNew(256), { first: 1001, last: 1000 });
  });

  test('a range read only in part starts after the last pid read', () => {
    proc.setLastPid(1000);
    allocations.markAllSeen();
    proc.setLastPid(1010);
    allocations.takeNew(256);
    allocations.readUpTo(1003);
    assert.deepEqual(allocations.takeNew(256), { first: 1004, last: 1010 });
  });

  const unusable: [string, () => void][] = [
    ['no reading before', () => proc.setLastPid(1010)],
    ['the counter wrapped at pid_max', () => {
      proc.setLastPid(32_700);
      allocations.markAllSeen();
      proc.setLastPid(310);
    }],
    ['more pids allocated than may be read', () => {
      proc.setLastPid(1000);
      allocations.markAllSeen();
      proc.setLastPid(1257);
    }],
    ['no loadavg (a folder laid out like /proc without one)', () => allocations.markAllSeen()],
  ];
  for (const [name, arrange] of unusable) {
    test(`undefined, so that the proc root is listed: ${name}`, () => {
      arrange();
      assert.equal(allocations.takeNew(256), undefined);
    });
  }

  test('after an unusable range the next one counts from the last reading', () => {
    proc.setLastPid(1000);
    allocations.markAllSeen();
    proc.setLastPid(5000);
    assert.equal(allocations.takeNew(256), undefined);
    proc.setLastPid(5002);
    assert.deepEqual(allocations.takeNew(256), { first: 5001, last: 5002 });
  });
});
