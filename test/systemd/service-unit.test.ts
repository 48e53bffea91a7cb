import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const UNIT = join(ROOT, 'systemd', 'smtp-sensor.service');
const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-unit-'));
/** The bar: `systemd-analyze security` exposure of 3.0 or better (lower). */
const MAX_EXPOSURE = 3.0;

function run(command: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', cwd: ROOT, timeout: 60_000,
    env: { ...process.env, ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The unit as installed, but starting this checkout's agent, which verify needs to exist. */
function unitForThisCheckout(): string {
  const path = join(scratch, 'smtp-sensor.service');
  writeFileSync(path, readFileSync(UNIT, 'utf8')
    .replaceAll('/opt/smtp-sensor/agent/smtp-sensor', join(ROOT, 'agent', 'smtp-sensor')));
  return path;
}

function settings(): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const line of readFileSync(UNIT, 'utf8').split('\n')) {
    const match = /^(\w+)=(.*)$/.exec(line);
    if (match !== null) values.set(match[1], [...(values.get(match[1]) ?? []), match[2]]);
  }
  return values;
}

after(() => rmSync(scratch, { recursive: true, force: true }));

describe('systemd/smtp-sensor.service', () => {
  it('passes systemd-analyze verify without a warning', () => {
    const result = run('systemd-analyze', ['verify', unitForThisCheckout()]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr.trim(), '');
  });

  it(`scores ${MAX_EXPOSURE} or better in systemd-analyze security`, () => {
    const result = run('systemd-analyze', ['security', '--offline=true', '--no-pager',
      unitForThisCheckout()]);
    const match = /Overall exposure level for smtp-sensor\.service: (\d+\.\d)/.exec(result.stdout);
    assert.ok(match, result.stdout + result.stderr);
    assert.ok(Number(match[1]) <= MAX_EXPOSURE, `exposure ${match[1]}`);
  });

  it('runs as root with only the capabilities capture, /proc and connect records need', () => {
    const unit = settings();
    // Several CapabilityBoundingSet= lines add up (systemd.exec(5)).
    assert.deepEqual(unit.get('CapabilityBoundingSet')?.join(' ').split(' ').sort(),
      ['CAP_BPF', 'CAP_DAC_READ_SEARCH', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_PERFMON',
        'CAP_SYS_PTRACE']);
    for (const [key, value] of [['ProtectSystem', 'strict'], ['StateDirectory', 'smtp-sensor'],
      ['LogsDirectory', 'smtp-sensor'], ['ConfigurationDirectory', 'smtp-sensor'],
      ['Restart', 'on-failure'], ['User', 'root'], ['NoNewPrivileges', 'yes']]) {
      assert.deepEqual(unit.get(key), [value], key);
    }
    // Node.js needs writable executable memory (its JIT); attribution needs every /proc/PID.
    assert.notDeepEqual(unit.get('MemoryDenyWriteExecute'), ['yes']);
    assert.notDeepEqual(unit.get('ProtectProc'), ['invisible']);
  });
});

describe('scripts/install.sh and scripts/uninstall.sh', () => {
  const root = join(scratch, 'root');
  const config = join(root, 'etc', 'smtp-sensor', 'config.yaml');
  const agent = join(root, 'opt', 'smtp-sensor', 'agent', 'smtp-sensor');
  const unit = join(root, 'etc', 'systemd', 'system', 'smtp-sensor.service');

  it('installs the agent, the unit and a default configuration, again without harm', () => {
    const first = run('bash', ['scripts/install.sh'], { DESTDIR: root });
    assert.equal(first.code, 0, first.stderr);
    assert.ok(existsSync(unit) && existsSync(config));
    assert.equal(readFileSync(unit, 'utf8'), readFileSync(UNIT, 'utf8'));
    writeFileSync(config, 'logging:\n  level: warn\n');
    const second = run('bash', ['scripts/install.sh'], { DESTDIR: root });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(readFileSync(config, 'utf8'), 'logging:\n  level: warn\n',
      'an operator\'s configuration is kept');
    const version = run(agent, ['--version']);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });

  it('uninstalls, keeping the configuration unless --purge', () => {
    assert.equal(run('bash', ['scripts/uninstall.sh'], { DESTDIR: root }).code, 0);
    assert.ok(!existsSync(agent) && !existsSync(unit));
    assert.ok(existsSync(config));
    assert.equal(run('bash', ['scripts/uninstall.sh', '--purge'], { DESTDIR: root }).code, 0);
    assert.ok(!existsSync(config));
  });
});
