import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chooseSocketOwner, type SocketHolder } from '../../src/proc/shared-socket-rule.js';

const cases: { name: string; holders: SocketHolder[]; chosen: number }[] = [
  {
    name: 'the younger process wins whatever the pids',
    holders: [{ pid: 900, parentProcessId: 1, startTime: 100 },
      { pid: 300, parentProcessId: 1, startTime: 250 }],
    chosen: 300,
  },
  {
    name: 'a child forked in the same clock tick wins over its parent',
    holders: [{ pid: 601, parentProcessId: 600, startTime: 8000 },
      { pid: 600, parentProcessId: 1, startTime: 8000 }],
    chosen: 601,
  },
  {
    name: 'a chain of forks in one tick: the last child',
    holders: [{ pid: 10, parentProcessId: 1, startTime: 5 },
      { pid: 12, parentProcessId: 11, startTime: 5 },
      { pid: 11, parentProcessId: 10, startTime: 5 }],
    chosen: 12,
  },
  {
    name: 'unrelated processes of the same tick: the highest pid',
    holders: [{ pid: 41, parentProcessId: 1, startTime: 7 },
      { pid: 40, parentProcessId: 1, startTime: 7 }],
    chosen: 41,
  },
];

describe('chooseSocketOwner: the shared-socket rule', () => {
  for (const { name, holders, chosen } of cases) {
    test(name, () => {
      assert.equal(chooseSocketOwner(holders).pid, chosen);
      assert.equal(chooseSocketOwner([...holders].reverse()).pid, chosen, 'order-independent');
    });
  }
});
