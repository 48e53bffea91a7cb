import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { encodeClassicPcap, LinkType } from '../helpers/pcap-writer.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SENSOR = join(ROOT, 'agent', 'smtp-sensor');
/** The temporary folder the sensor decompresses into: a tmpfs this small. */
const TMPFS_BYTES = 2 * 1024 * 1024;

/** A classic pcap file header (Ethernet) followed by `bytes` zero bytes. */
function pcapOfZeros(bytes: number): Buffer {
  return Buffer.concat([encodeClassicPcap(LinkType.ETHERNET, []), Buffer.alloc(bytes)]);
}

describe('a gzip-compressed capture larger than the temporary folder can hold',
  { skip: process.getuid?.() !== 0 && 'mounting a small tmpfs needs root' }, () => {
    const folder = mkdtempSync(join(tmpdir(), 'smtp-sensor-gzip-'));
    const small = join(folder, 'tmp');
    const bomb = join(folder, 'bomb.pcap.gz');

    after(() => {
      spawnSync('umount', [small]);
      rmSync(folder, { recursive: true, force: true });
    });

    test('fails with one clear line and exit code 2, and leaves nothing behind', () => {
      spawnSync('mkdir', [small]);
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_BYTES}`, 'tmpfs',
        small], { encoding: 'utf8' });
      assert.equal(mounted.status, 0, mounted.stderr);
      // 20 MB of zeros compress to about 20 KB: ten times what the folder holds.
      writeFileSync(bomb, gzipSync(pcapOfZeros(20 * 1024 * 1024)));
      const result = spawnSync(SENSOR, ['replay', bomb], { encoding: 'utf8', cwd: ROOT,
        env: { ...process.env, TMPDIR: small }, timeout: 30_000 });
      assert.equal(result.status, 2, result.stderr);
      assert.equal(result.stdout, '');
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0], /^smtp-sensor: .*bomb\.pcap\.gz: decompresses to more than \d+ bytes/);
      assert.deepEqual(readdirSync(small), [], 'the partial file is removed');
    });
  });
