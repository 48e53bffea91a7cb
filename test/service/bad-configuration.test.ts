import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { REPOSITORY_ROOT, sensorRunArgv } from '../live/sensor-process.js';

const scratch = mkdtempSync(join(tmpdir(), 'smtp-sensor-bad-config-'));
/** A refused configuration stops the agent before capture starts: well within this. */
const EXIT_TIMEOUT_MS = 15_000;
let files = 0;

/** `smtp-sensor run --config FILE`, FILE holding `yaml`; the agent must exit on its own. */
function runWithConfig(yaml: string | undefined, wrapper: readonly string[] = []) {
  const path = join(scratch, `config-${files++}.yaml`);
  if (yaml !== undefined) writeFileSync(path, yaml);
  const [command, ...args] = [...wrapper,
    ...sensorRunArgv(['--config', path, '--interface', 'lo'])];
  const result = spawnSync(command, args, { encoding: 'utf8', cwd: REPOSITORY_ROOT,
    timeout: EXIT_TIMEOUT_MS });
  return { code: result.status, signal: result.signal, stdout: result.stdout,
    stderr: result.stderr };
}

/** What test/agent/cli.test.ts does not cover: `run` and its configuration file. */
const refusals: readonly [string, string | undefined, RegExp][] = [
  ['a sink of an unknown type', 'output:\n  sinks:\n    - type: kafka\n',
    /^smtp-sensor: output\.sinks\[0\]\.type: .*Expected 'stdout' \| 'file' \| 'syslog' \| 'http'$/],
  ['a string where a number is expected', 'capture:\n  buffer_mib: big\n',
    /^smtp-sensor: capture\.buffer_mib: expected number, received string$/],
  ['a string for a sink\'s batch size', 'output:\n  sinks:\n    - type: http\n'
    + '      url: http://127.0.0.1:9/\n      batch:\n        max_events: ten\n',
  /^smtp-sensor: output\.sinks\[0\]\.batch\.max_events: expected number, received string$/],
  ['an unknown key in a sink', 'output:\n  sinks:\n    - type: file\n      pth: /tmp/x\n',
    /^smtp-sensor: output\.sinks\[0\]\.pth: unknown key \(misspelled\?\)$/],
  // `run` fills every section with its flags; a section that is not a mapping must still be
  // refused, not replaced by the flags (it was, silently, before this test).
  ['a section given as a value', 'logging: debug\n',
    /^smtp-sensor: logging: expected object, received string$/],
  ['a section given as a list', 'capture: [lo]\n',
    /^smtp-sensor: capture: expected object, received array$/],
  // 2,048 MiB in bytes does not fit node_pcap's 32-bit argument: it used to fail at capture.
  ['a capture buffer of 2 GiB', 'capture:\n  buffer_mib: 2048\n',
    /^smtp-sensor: capture\.buffer_mib: too big: expected number to be <=2047$/],
  ['an unknown connect_records mode', 'attribution:\n  connect_records: maybe\n',
    /^smtp-sensor: attribution\.connect_records: .*"auto"\|"required"\|"off"/],
  ['a missing --config file', undefined,
    /^smtp-sensor: cannot read configuration .*config-\d+\.yaml: ENOENT: no such file/],
];

describe('smtp-sensor run with a bad configuration file', () => {
  after(() => rmSync(scratch, { recursive: true, force: true }));

  for (const [scenario, yaml, expected] of refusals) {
    test(`${scenario}: exit code 2, one line saying what is wrong and expected`, () => {
      const result = runWithConfig(yaml);
      assert.equal(result.signal, null, 'the agent exited on its own');
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, '');
      assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
      assert.match(result.stderr.trimEnd(), expected);
    });
  }

  test('a file sink that cannot be opened: exit code 2, one line naming the file', () => {
    const path = join(scratch, 'no-such-folder', 'events.json');
    const result = runWithConfig(`output:\n  sinks:\n    - type: file\n      path: ${path}\n`);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
    assert.ok(result.stderr.startsWith(`smtp-sensor: cannot open ${path}: ENOENT`),
      result.stderr);
  });

  test('connect records required where the kernel refuses them: exit code 2, one line saying '
    + 'why', { skip: process.getuid?.() === 0 ? false : 'dropping capabilities needs root' },
  () => {
    const result = runWithConfig('attribution:\n  connect_records: required\n', WITHOUT_BPF);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, new RegExp('^smtp-sensor: kernel connect records are '
      + 'unavailable: load BPF program \\(it takes CAP_BPF and CAP_PERFMON\\)'));
  });
});

/** Root, without the capabilities that loading a BPF program takes. */
const WITHOUT_BPF = ['setpriv', '--bounding-set=-bpf,-perfmon,-sys_admin',
  '--inh-caps=-bpf,-perfmon,-sys_admin'];
