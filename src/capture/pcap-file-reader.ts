import { createReadStream, createWriteStream, mkdtempSync, openSync, readSync, closeSync,
  rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { CaptureError } from './capture-error.js';
import {
  closeNativeSession, MAX_SNAP_LENGTH, nodePcapBinding, PACKET_HEADER_BYTES,
} from './node-pcap-binding.js';
import {
  isSupportedLinkType, linkTypeFromNodePcap, SUPPORTED_LINK_TYPE_NAMES,
} from './link-type.js';

const GZIP_MAGIC = 0x1f8b;

/**
 * Receives each packet. `buf` and `header` are node_pcap's own buffers, overwritten by the
 * next packet: copy what you keep. `header` is struct pcap_pkthdr in host byte order
 * (seconds, microseconds, captured length, wire length as 32-bit numbers).
 */
export type PacketCallback = (buf: Buffer, header: Buffer, linkType: number) => void;


/**
 * Reads a pcap or pcapng file (gzip-compressed ones too) with libpcap through node_pcap and
 * calls `onPacket` for each packet, in file order. Resolves with the number of packets.
 * Exceptions thrown by `onPacket` are fatal inside node_pcap, so it must not throw.
 */
export async function readCaptureFile(path: string, onPacket: PacketCallback): Promise<number> {
  checkReadable(path);
  if (!isGzip(path)) return readPlainCapture(path, path, onPacket);
  const folder = mkdtempSync(join(tmpdir(), 'smtp-sensor-'));
  try {
    const plain = join(folder, 'capture.pcap');
    await pipeline(createReadStream(path), createGunzip(), createWriteStream(plain));
    return readPlainCapture(plain, path, onPacket);
  } catch (error) {
    if (error instanceof CaptureError) throw error;
    throw new CaptureError('not_a_capture', `${path}: cannot decompress: ${String(error)}`,
      { cause: error });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function readPlainCapture(path: string, shownPath: string, onPacket: PacketCallback): number {
  const session = new nodePcapBinding.PcapSession();
  const buf = Buffer.alloc(MAX_SNAP_LENGTH);
  const header = Buffer.alloc(PACKET_HEADER_BYTES);
  let linkType = -1;
  let packets = 0;
  const onNativePacket = (): void => {
    packets++;
    onPacket(buf, header, linkType);
  };
  let linkTypeName: string;
  try {
    linkTypeName = session.open_offline(path, '', 0, MAX_SNAP_LENGTH, '', onNativePacket, false,
      0, () => {}, false);
  } catch (error) {
    throw new CaptureError('not_a_capture',
      `${shownPath} is not a pcap or pcapng capture (${libpcapReason(error)})`, { cause: error });
  }
  linkType = linkTypeFromNodePcap(linkTypeName);
  try {
    if (!isSupportedLinkType(linkType)) {
      throw new CaptureError('unsupported_link_type', `${shownPath}: link type ${linkType} is `
        + `not supported (supported: ${SUPPORTED_LINK_TYPE_NAMES})`);
    }
    session.dispatch(buf, header);
    return packets;
  } finally {
    closeNativeSession(session);
  }
}

function checkReadable(path: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new CaptureError('capture_not_found', `${path}: no such file`, { cause: error });
    }
    throw new CaptureError('capture_unreadable', `${path}: cannot read (${code})`,
      { cause: error });
  }
  if (!isFile) throw new CaptureError('capture_unreadable', `${path}: not a regular file`);
}

function isGzip(path: string): boolean {
  const magic = Buffer.alloc(2);
  const fd = openSync(path, 'r');
  try {
    return readSync(fd, magic, 0, 2, 0) === 2 && magic.readUInt16BE(0) === GZIP_MAGIC;
  } finally {
    closeSync(fd);
  }
}

function libpcapReason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/^.*?: /, '');
}
