import { createReadStream, fstatSync, mkdtempSync, openSync, readSync, closeSync, rmSync,
  statfsSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGunzip } from 'node:zlib';
import { CaptureError } from './capture-error.js';
import {
  closeNativeSession, MAX_SNAP_LENGTH, nodePcapBinding, PACKET_HEADER_BYTES,
} from './node-pcap-binding.js';
import {
  isSupportedLinkType, linkTypeFromNodePcap, SUPPORTED_LINK_TYPE_NAMES,
} from './link-type.js';

const GZIP_MAGIC = 0x1f8b;
/**
 * A gzip-compressed capture is decompressed into the temporary folder before libpcap reads
 * it. It may take at most this share of the folder's free space, so that a gzip bomb (or a
 * capture too large for the disk) fails with a clear error instead of filling the disk.
 */
const MAX_SHARE_OF_FREE_SPACE = 0.8;

/**
 * Receives each packet. `buf` and `header` are node_pcap's own buffers, overwritten by the
 * next packet: copy what you keep. `header` is struct pcap_pkthdr in host byte order
 * (seconds, microseconds, captured length, wire length as 32-bit numbers).
 */
export type PacketCallback = (buf: Buffer, header: Buffer, linkType: number) => void;


/** What reading one capture file gave. */
export interface CaptureFileSummary {
  packets: number;
  /**
   * Bytes of a pcap file after the last packet read: libpcap stops at a record it cannot read
   * (cut short, or a length past the snap length) and node_pcap does not pass its error on, so
   * the file's size is compared with what was read (for pcapng, with where its blocks end).
   * 0 for a whole file; null when the file's format was not recognised.
   */
  bytesNotRead: number | null;
  /**
   * A gzip-compressed file that is cut short or damaged (gzip's own error): what it
   * decompressed to was replayed. Undefined for a whole gzip file or an uncompressed one.
   */
  decompressionError?: string;
}

/** pcap file header (24 bytes) and record header (16 bytes), any byte order and precision. */
const PCAP_FILE_HEADER_BYTES = 24;
const PCAP_RECORD_HEADER_BYTES = 16;
const PCAP_MAGICS = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1];
/** struct pcap_pkthdr as node_pcap copies it: caplen at byte 8, host order. */
const HEADER_CAPTURED_LENGTH = 8;

/**
 * Reads a pcap or pcapng file (gzip-compressed ones too) with libpcap through node_pcap and
 * calls `onPacket` for each packet, in file order. Exceptions thrown by `onPacket` are fatal
 * inside node_pcap, so it must not throw.
 */
export async function readCaptureFile(path: string, onPacket: PacketCallback)
  : Promise<CaptureFileSummary> {
  checkCaptureFile(path);
  if (!isGzip(path)) return readPlainCapture(path, path, onPacket);
  const folder = mkdtempSync(join(tmpdir(), 'smtp-sensor-'));
  try {
    const plain = join(folder, 'capture.pcap');
    const room = statfsSync(folder);
    const maxBytes = Math.floor(room.bavail * room.bsize * MAX_SHARE_OF_FREE_SPACE);
    const decompressionError = await decompress(path, plain, maxBytes);
    if (decompressionError !== undefined && statSync(plain).size === 0) {
      throw new CaptureError('not_a_capture', `${path}: cannot decompress: ${decompressionError}`);
    }
    return { ...readPlainCapture(plain, path, onPacket), decompressionError };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Decompresses `path` into `plain`; returns gzip's error when the file is cut short or
 * damaged, having kept all it could decompress, as `gzip -d` and tshark do: a capture cut
 * short is replayed as far as it goes, as an uncompressed one is. A file cut short is read a
 * second time with a flush that gives out the bytes zlib holds at the cut.
 */
async function decompress(path: string, plain: string, maxBytes: number)
  : Promise<string | undefined> {
  const whole = await decompressOnce(path, plain, maxBytes, zlibConstants.Z_FINISH);
  if (whole === undefined) return undefined;
  await decompressOnce(path, plain, maxBytes, zlibConstants.Z_SYNC_FLUSH);
  return whole;
}

/** One decompression into `plain` (made anew); gzip's error, or undefined when none. */
async function decompressOnce(path: string, plain: string, maxBytes: number,
  finishFlush: number): Promise<string | undefined> {
  const fd = openSync(plain, 'w');
  try {
    await pipeline(createReadStream(path), createGunzip({ finishFlush }),
      byteLimit(path, maxBytes), writtenNow(fd));
    return undefined;
  } catch (error) {
    if (error instanceof CaptureError) throw error;
    return error instanceof Error ? error.message : String(error);
  } finally {
    closeSync(fd);
  }
}

/** Writes each chunk as it comes: what was decompressed before an error is in the file. */
function writtenNow(fd: number): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      let offset = 0;
      while (offset < chunk.length) offset += writeSync(fd, chunk, offset);
      done();
    },
  });
}

function readPlainCapture(path: string, shownPath: string, onPacket: PacketCallback)
  : CaptureFileSummary {
  const session = new nodePcapBinding.PcapSession();
  const buf = Buffer.alloc(MAX_SNAP_LENGTH);
  const header = Buffer.alloc(PACKET_HEADER_BYTES);
  let linkType = -1;
  let packets = 0;
  let capturedBytes = 0;
  const onNativePacket = (): void => {
    packets++;
    capturedBytes += header.readUInt32LE(HEADER_CAPTURED_LENGTH);
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
  } finally {
    closeNativeSession(session);
  }
  return { packets, bytesNotRead: pcapBytesNotRead(path, packets, capturedBytes) };
}

function pcapBytesNotRead(path: string, packets: number, capturedBytes: number): number | null {
  const magic = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try {
    if (readSync(fd, magic, 0, 4, 0) !== 4) return null;
    const size = fstatSync(fd).size;
    if (magic.readUInt32LE(0) === PCAPNG_SECTION_HEADER) {
      return pcapngBytesNotRead(new BlockReader(fd, size), packets);
    }
    if (!PCAP_MAGICS.includes(magic.readUInt32LE(0))) return null;
    const read = PCAP_FILE_HEADER_BYTES + packets * PCAP_RECORD_HEADER_BYTES + capturedBytes;
    return Math.max(0, size - read);
  } finally {
    closeSync(fd);
  }
}

/** pcapng block types (draft-ietf-opsawg-pcapng): the section header, and packet blocks. */
const PCAPNG_SECTION_HEADER = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** The byte-order magic as a little-endian read sees it in a big-endian section. */
const PCAPNG_BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;
const PCAPNG_PACKET_BLOCKS = new Set([0x00000002, 0x00000003, 0x00000006]);
const PCAPNG_INTERFACE_DESCRIPTION = 0x00000001;
/** Type, total length, and the total length again at the end. */
const PCAPNG_MIN_BLOCK_BYTES = 12;

/**
 * Bytes of a pcapng file that libpcap did not read: from the end of the packet block after
 * which it stopped, or from the first block that cannot be read (cut short, or a length that
 * does not fit the file), to the end of the file. The blocks are walked by their headers,
 * which is quick next to libpcap's own read.
 */
function pcapngBytesNotRead(reader: BlockReader, packets: number): number {
  let offset = 0;
  let packetBlocks = 0;
  let afterLastDelivered = 0;
  let littleEndian = true;
  while (offset + PCAPNG_MIN_BLOCK_BYTES <= reader.size) {
    const type = reader.uint32(offset, littleEndian);
    if (type === PCAPNG_SECTION_HEADER) {
      // Each section says its own byte order, in the magic after the block's length.
      if (offset + 16 > reader.size) break;
      const order = reader.uint32(offset + 8, true);
      if (order !== PCAPNG_BYTE_ORDER_MAGIC && order !== PCAPNG_BYTE_ORDER_MAGIC_SWAPPED) break;
      littleEndian = order === PCAPNG_BYTE_ORDER_MAGIC;
    }
    const length = reader.uint32(offset + 4, littleEndian);
    if (length < PCAPNG_MIN_BLOCK_BYTES || length % 4 !== 0 || offset + length > reader.size
      || reader.uint32(offset + length - 4, littleEndian) !== length) break;
    offset += length;
    if (PCAPNG_PACKET_BLOCKS.has(type)) {
      packetBlocks++;
      if (packetBlocks === packets) afterLastDelivered = offset;
    } else if (packets === 0 && type === PCAPNG_INTERFACE_DESCRIPTION) {
      afterLastDelivered = offset;
    }
  }
  // libpcap stopped before a packet block the walk could read: at a block it refused (a
  // length past its limits) anywhere after the last packet it delivered. Counted from there,
  // which may count a few blocks without packets that it did read.
  const readUpTo = packets < packetBlocks ? afterLastDelivered : offset;
  return reader.size - readUpTo;
}

/** Reads 32-bit numbers anywhere in a file through a window of 1 MiB. */
class BlockReader {
  private readonly window = Buffer.alloc(1 << 20);
  private windowStart = 0;
  private windowLength = 0;

  constructor(private readonly fd: number, readonly size: number) {}

  uint32(offset: number, littleEndian: boolean): number {
    if (offset < this.windowStart || offset + 4 > this.windowStart + this.windowLength) {
      this.windowStart = offset;
      this.windowLength = readSync(this.fd, this.window, 0, this.window.length, offset);
      if (this.windowLength < 4) return 0;
    }
    const at = offset - this.windowStart;
    return littleEndian ? this.window.readUInt32LE(at) : this.window.readUInt32BE(at);
  }
}

/** Passes bytes through, failing with capture_too_large past `maxBytes`. */
function byteLimit(path: string, maxBytes: number): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      if (total > maxBytes) {
        done(new CaptureError('capture_too_large', `${path}: decompresses to more than `
          + `${maxBytes} bytes, ${MAX_SHARE_OF_FREE_SPACE * 100}% of the free space of `
          + `${tmpdir()}; decompress it elsewhere and replay the result`));
        return;
      }
      done(null, chunk);
    },
  });
}

/** Throws the CaptureError that reading `path` would: it is missing, unreadable or no file. */
export function checkCaptureFile(path: string): void {
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
