import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TestCollector } from './helpers/test-collector.js';
import { indexesOf, range } from './helpers/test-events.js';
import { waitFor } from './helpers/wait-for.js';

const WRITER = fileURLToPath(new URL('./fixtures/spooling-writer.js', import.meta.url));
const ROUND_SPAN = 1_000_000;
const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-kill-'));
const children = new Set<ChildProcess>();

/** The writer process and what it has reported so far. */
function startWriter(mode: 'write' | 'resume', url: string, first = 0) {
  const child = spawn(process.execPath, [WRITER, mode, join(scratch, 'spool'), url,
    String(first)],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const state = { written: 0, start: '', exited: false };
  child.once('exit', () => {
    state.exited = true;
  });
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('written ')) state.written = Number(line.slice(8));
      if (line.startsWith('start ')) state.start = line.slice(6);
    }
  });
  return { child, state };
}

/** A writer must not stop on its own: that would be a crash, not the test's kill. */
function alive(state: { exited: boolean }): boolean {
  if (state.exited) throw new Error('the writer process exited on its own');
  return true;
}

function killed(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  return exited;
}

describe('a sensor killed with SIGKILL while writing', () => {
  const collector = new TestCollector();
  after(async () => {
    for (const child of children) await killed(child, 'SIGKILL');
    await collector.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('loses and corrupts no event: after a restart every written event is delivered',
    async () => {
      await collector.start();
      // Three kills, each round numbering its events from its own base.
      for (let round = 0; round < 3; round++) {
        const base = round * ROUND_SPAN;
        const deliveredBefore = collector.received.size;
        const writer = startWriter('write', collector.url, base);
        await waitFor('the writer to write and deliver some events', () =>
          alive(writer.state) && writer.state.written >= 3000
          && collector.received.size > deliveredBefore + 100);
        await killed(writer.child, 'SIGKILL');
        // Every event the writer reported had returned from write(): it must not be lost.
        const reported = range(base, base + writer.state.written);
        const resumed = startWriter('resume', collector.url);
        await waitFor('the restarted process to open the spool', () =>
          alive(resumed.state) && resumed.state.start !== '');
        await waitFor('every reported event at the collector', () =>
          reported.every((index) => collector.received.has(`test-${index}`)), 30_000);
        await killed(resumed.child, 'SIGTERM');
        assert.match(resumed.state.start, /"records_written":0/);
        const received = indexesOf(collector.received.keys()).filter((index) => index >= base);
        assert.deepEqual(received, range(base, base + received.length),
          'what was delivered has no gap');
        assert.deepEqual(collector.malformed, []);
      }
    });
});
