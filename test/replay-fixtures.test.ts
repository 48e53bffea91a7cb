/**
 * Replays every capture under test/fixtures/crafted and test/fixtures/recorded through the
 * sensor's CLI (`node agent/smtp-sensor replay [NAME.args] FILE`) and compares its standard
 * output with NAME.expected.jsonl: the SmtpCommand events in order, and the SmtpAnomaly events
 * in order when the expected file lists at least one. Each expected line names a subset of an
 * event's fields that must be equal. Other event kinds are ignored.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describeEventMismatch, parseJsonLines } from './helpers/expected-events.js';
import { findCapturesWithoutExpectations, findReplayFixtures } from './helpers/replay-fixture.js';
import type { ReplayFixture } from './helpers/replay-fixture.js';

/** This file runs as dist/test/replay-fixtures.test.js; fixtures stay in the source tree. */
const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE_FOLDERS = ['crafted', 'recorded'].map((name) => ({
  name,
  path: join(REPOSITORY_ROOT, 'test/fixtures', name),
}));
const SENSOR = join('agent', 'smtp-sensor');
const REPLAY_TIMEOUT_MILLISECONDS = 60_000;
const OUTPUT_LIMIT_BYTES = 64 * 1024 * 1024;

interface ReplayRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

function replay(fixture: ReplayFixture): Promise<ReplayRun> {
  const argv = [SENSOR, 'replay', ...fixture.extraArguments, fixture.capturePath];
  const options = {
    cwd: REPOSITORY_ROOT,
    timeout: REPLAY_TIMEOUT_MILLISECONDS,
    maxBuffer: OUTPUT_LIMIT_BYTES,
  };
  return new Promise((resolvePromise) => {
    execFile(process.execPath, argv, options, (error, stdout, stderr) => {
      const exitCode = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolvePromise({ exitCode, stdout, stderr });
    });
  });
}

function tail(text: string): string {
  return text.length > 2000 ? `...${text.slice(-2000)}` : text;
}

async function checkFixture(fixture: ReplayFixture): Promise<void> {
  const run = await replay(fixture);
  const argumentText = [...fixture.extraArguments, fixture.capturePath].join(' ');
  const command = `node ${SENSOR} replay ${argumentText}`;
  assert.equal(run.exitCode, 0, `${command} exited ${run.exitCode}; stderr:\n${tail(run.stderr)}`);

  for (const secret of fixture.secrets) {
    assert.ok(!run.stdout.includes(secret), `standard output shows the credential ${secret}`);
    assert.ok(!run.stderr.includes(secret), `standard error shows the credential ${secret}`);
  }

  const expectedText = readFileSync(fixture.expectedPath, 'utf8');
  const expected = parseJsonLines(expectedText, fixture.expectedPath);
  const actual = parseJsonLines(run.stdout, `standard output of ${command}`);
  const mismatch = describeEventMismatch(expected, actual);
  assert.equal(mismatch, '', `${fixture.label}: events differ from the expected file\n${mismatch}`);
}

for (const folder of FIXTURE_FOLDERS) {
  describe(`replay of the ${folder.name} captures`, { concurrency: 2 }, () => {
    test('every capture has an expected events file', () => {
      assert.deepEqual(findCapturesWithoutExpectations(folder.path), []);
    });

    for (const fixture of findReplayFixtures(folder.path, folder.name)) {
      test(`${fixture.label} gives the expected events`, () => checkFixture(fixture));
    }
  });
}
