import { createReadStream, createWriteStream, readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

/** Names a capture file may have; `.gz` ones are gzip-compressed pcap files. */
const CAPTURE_NAME = /\.(pcap|pcapng|cap|pcap\.gz)$/;

export interface CaptureFile {
  /** Path under the captures folder, with `/`: how the differences table names the file. */
  name: string;
  path: string;
  gzipped: boolean;
}

/** Every capture under `folder`, at any depth, sorted by name so that runs are comparable. */
export function findCaptureFiles(folder: string): CaptureFile[] {
  const entries = readdirSync(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && CAPTURE_NAME.test(entry.name))
    .map((entry) => {
      const path = join(entry.parentPath ?? entry.path, entry.name);
      const name = relative(folder, path).split('\\').join('/');
      return { name, path, gzipped: entry.name.endsWith('.gz') };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** tshark is given a plain copy of a gzip-compressed capture, written into `folder`. */
export async function plainCopy(capture: CaptureFile, folder: string): Promise<string> {
  if (!capture.gzipped) return capture.path;
  const target = join(folder, basename(capture.path, '.gz'));
  await pipeline(createReadStream(capture.path), createGunzip(), createWriteStream(target));
  return target;
}
