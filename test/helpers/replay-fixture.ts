import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One capture with its expectations. Beside `NAME.pcap` (or `NAME.pcapng`) a fixture folder
 * holds `NAME.expected.jsonl`, and optionally `NAME.args` (extra CLI arguments, one per
 * line) and `NAME.secrets` (credentials the capture carries, one per line, which the sensor
 * must never print).
 */
export interface ReplayFixture {
  /** Folder-relative name, e.g. `crafted/auth-plain`. */
  label: string;
  capturePath: string;
  expectedPath: string;
  extraArguments: string[];
  secrets: string[];
}

const EXPECTED_SUFFIX = '.expected.jsonl';
const CAPTURE_EXTENSIONS = ['.pcap', '.pcapng'];

export function findReplayFixtures(folder: string, labelPrefix: string): ReplayFixture[] {
  return readdirSync(folder)
    .filter((file) => file.endsWith(EXPECTED_SUFFIX))
    .sort()
    .map((file) => {
      const base = join(folder, file.slice(0, -EXPECTED_SUFFIX.length));
      return {
        label: `${labelPrefix}/${file.slice(0, -EXPECTED_SUFFIX.length)}`,
        capturePath: findCapture(base),
        expectedPath: base + EXPECTED_SUFFIX,
        extraArguments: readLines(`${base}.args`),
        secrets: readLines(`${base}.secrets`),
      };
    });
}

/** Captures in `folder` that no expected file describes. */
export function findCapturesWithoutExpectations(folder: string): string[] {
  const files = new Set(readdirSync(folder));
  return [...files].filter((file) => {
    const extension = CAPTURE_EXTENSIONS.find((candidate) => file.endsWith(candidate));
    if (extension === undefined) return false;
    return !files.has(file.slice(0, -extension.length) + EXPECTED_SUFFIX);
  });
}

function findCapture(base: string): string {
  const found = CAPTURE_EXTENSIONS.map((extension) => base + extension).find(existsSync);
  if (found === undefined) throw new Error(`no .pcap or .pcapng beside ${base}${EXPECTED_SUFFIX}`);
  return found;
}

function readLines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}
