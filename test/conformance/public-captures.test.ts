/**
 * Conformance with tshark on public captures: every capture under ../shared/pcaps/public
 * (see SOURCES.md there) is replayed by the sensor and dissected by tshark's SMTP dissector,
 * and each TCP connection's commands (verb upper-cased, CommandArg1) must be tshark's with the
 * corrections of public-capture-expectations.ts applied. Any other change in the sensor's
 * output fails the test, and so does a correction that no longer matches tshark's output.
 * The captures are not copied into the project; without the folder the suite is skipped.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findCaptureFiles, plainCopy } from './capture-files.js';
import type { CaptureFile } from './capture-files.js';
import { commandsByConnection } from './connection-commands.js';
import { expectedCommands } from './expected-commands.js';
import { PUBLIC_CAPTURE_EXPECTATIONS } from './public-capture-expectations.js';
import { readSensorCommands } from './sensor-commands.js';
import { readTsharkCommands } from './tshark-commands.js';

/** This file runs as dist/test/conformance/public-captures.test.js. */
const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CAPTURES_FOLDER = resolve(REPOSITORY_ROOT, '../shared/pcaps/public');
const DEFAULT_SMTP_PORTS = [25, 465, 587];
/** Each capture runs two processes (sensor, tshark); two captures at once fill two cores. */
const CAPTURES_AT_ONCE = 2;

const capturesPresent = existsSync(CAPTURES_FOLDER);
const expectationsByFile = new Map(
  PUBLIC_CAPTURE_EXPECTATIONS.map((entry) => [entry.file, entry]));

async function checkCapture(capture: CaptureFile, scratchRoot: string): Promise<void> {
  const expectations = expectationsByFile.get(capture.name);
  const ports = [...DEFAULT_SMTP_PORTS, ...(expectations?.extraSmtpPorts ?? [])];
  const scratch = mkdtempSync(join(scratchRoot, 'capture-'));
  const [sensor, tshark] = await Promise.all([
    readSensorCommands(REPOSITORY_ROOT, capture.path, ports, scratch),
    plainCopy(capture, scratch).then((path) => readTsharkCommands(path, ports)),
  ]);

  const expected = expectedCommands(tshark.commands, expectations?.differences ?? []);
  assert.deepEqual(expected.stale, [], `${capture.name}: corrections in `
    + `public-capture-expectations.ts do not match ${tshark.command}`);
  assert.deepEqual(commandsByConnection(sensor.commands), commandsByConnection(expected.commands),
    `${capture.name}: ${sensor.command} (actual) against tshark with the listed corrections `
    + '(expected)');
}

describe('public captures: sensor commands match tshark with known tshark faults corrected', {
  skip: capturesPresent ? false : `no public captures folder at ${CAPTURES_FOLDER}`,
  concurrency: CAPTURES_AT_ONCE,
}, () => {
  const captures = capturesPresent ? findCaptureFiles(CAPTURES_FOLDER) : [];
  const scratchRoot = mkdtempSync(join(tmpdir(), 'smtp-sensor-conformance-'));
  after(() => rmSync(scratchRoot, { recursive: true, force: true }));

  test('the folder holds captures', () => {
    assert.ok(captures.length > 0, `no .pcap, .pcapng, .cap or .pcap.gz under ${CAPTURES_FOLDER}`);
  });

  test('every capture named in the expectations table exists', () => {
    const names = new Set(captures.map((capture) => capture.name));
    const missing = PUBLIC_CAPTURE_EXPECTATIONS.map((entry) => entry.file)
      .filter((file) => !names.has(file));
    assert.deepEqual(missing, []);
  });

  for (const capture of captures) {
    test(capture.name, () => checkCapture(capture, scratchRoot));
  }
});
