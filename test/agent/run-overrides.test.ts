import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runOverrides } from '../../agent/run-overrides.js';
import { UsageError } from '../../agent/usage-error.js';
import { loadConfig } from '../../src/config/load-config.js';

const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-overrides-'));
const FILE = join(scratch, 'config.yaml');
writeFileSync(FILE, [
  'capture:', '  interface: eth0', '  ports: [25]', '  inbound: true', '  buffer_mib: 8',
  'stats:', '  interval_seconds: 30', 'logging:', '  level: warn', ''].join('\n'));

describe('runOverrides: flags of `run` over the configuration file', () => {
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('no flag leaves every value of the file', () => {
    const config = loadConfig(FILE, runOverrides({}));
    assert.equal(config.capture.interface, 'eth0');
    assert.deepEqual(config.capture.ports, [25]);
    assert.equal(config.capture.inbound, true);
    assert.equal(config.capture.buffer_mib, 8);
    assert.equal(config.stats.interval_seconds, 30);
    assert.equal(config.logging.level, 'warn');
  });

  test('each flag wins over its key, and only its key', () => {
    const config = loadConfig(FILE, runOverrides({ interface: 'lo', ports: '587, 2525',
      inbound: false, 'buffer-size': 64, 'stats-interval': 5, where: 'SmtpCommandKind=MAIL',
      'log-level': 'debug' }));
    assert.equal(config.capture.interface, 'lo');
    assert.deepEqual(config.capture.ports, [587, 2525]);
    assert.equal(config.capture.inbound, false);
    assert.equal(config.capture.buffer_mib, 64);
    assert.equal(config.stats.interval_seconds, 5);
    assert.equal(config.output.where, 'SmtpCommandKind=MAIL');
    assert.equal(config.logging.level, 'debug');
  });

  test('a bad port list is refused as the command line\'s fault', () => {
    assert.throws(() => runOverrides({ ports: '25,seventy' }), UsageError);
  });
});
