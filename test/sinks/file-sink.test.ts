import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync,
  statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileSink } from '../../src/sinks/local/file-sink.js';
import { SinkSet } from '../../src/sinks/sink-set.js';
import { recordingLogger } from './helpers/recording-logger.js';
import { sinkConfig } from './helpers/sink-config.js';
import { range, testEvent } from './helpers/test-events.js';

const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-file-'));

function ids(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean)
    .map((line) => (JSON.parse(line) as { id: string }).id);
}

describe('file sink', () => {
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('rotates by size, keeps the configured number of files, and never splits a line', () => {
    const directory = join(scratch, 'rotation');
    const path = join(directory, 'events.json');
    mkdirSync(directory);
    const sink = new FileSink({ path, maxBytes: 4096, keep: 3 });
    const lines = range(0, 400).map((index) => JSON.stringify(testEvent(index)) + '\n');
    for (const line of lines) sink.write(line);
    sink.close();
    assert.deepEqual(readdirSync(directory).sort(),
      ['events.json', 'events.json.1', 'events.json.2', 'events.json.3']);
    const kept = [3, 2, 1].flatMap((generation) => ids(`${path}.${generation}`))
      .concat(ids(path));
    const last = range(400 - kept.length, 400).map((index) => `test-${index}`);
    assert.deepEqual(kept, last, 'the newest events, in order, without a gap');
    for (const name of readdirSync(directory)) {
      assert.ok(statSync(join(directory, name)).size <= 4096);
    }
    assert.equal(sink.stats().rotations > 3, true);
  });

  it('reopens its file on SIGHUP after an external rotation (logrotate)', () => {
    const path = join(scratch, 'reopen.json');
    const { log } = recordingLogger();
    const sinks = new SinkSet(sinkConfig(join(scratch, 'unused-spool'),
      [{ type: 'file', path }]), log);
    sinks.write(testEvent(1));
    sinks.flush();
    renameSync(path, `${path}.old`);
    sinks.reopen();
    sinks.write(testEvent(2));
    sinks.flush();
    assert.deepEqual(ids(`${path}.old`), ['test-1']);
    assert.deepEqual(ids(path), ['test-2']);
    assert.equal(existsSync(join(scratch, 'unused-spool')), false,
      'no spool without a network sink');
    return sinks.close(Date.now());
  });

  it('applies each sink its own where expression, and the global one before all', async () => {
    const mailPath = join(scratch, 'mail.json');
    const allPath = join(scratch, 'all.json');
    const config = sinkConfig(join(scratch, 'spool-where'), [
      { type: 'file', path: mailPath, where: 'SmtpCommandKind=MAIL' },
      { type: 'file', path: allPath },
    ]);
    config.output.where = 'NOT id=test-0';
    const sinks = new SinkSet(config, recordingLogger().log);
    for (const index of range(0, 6)) sinks.write(testEvent(index, index < 3 ? '4' : '5'));
    await sinks.close(Date.now());
    assert.deepEqual(ids(mailPath), ['test-1', 'test-2']);
    assert.deepEqual(ids(allPath), range(1, 6).map((index) => `test-${index}`));
    const stats = sinks.stats();
    assert.equal(stats.filtered, 1);
    assert.deepEqual(Object.keys(stats.sinks), ['file', 'file-2']);
    assert.equal(stats.sinks.file.type === 'file' && stats.sinks.file.filtered, 3);
  });
});
