import { crc32 } from 'node:zlib';

/**
 * One spool record on disk, little-endian:
 *
 *   magic u32 | payload length u32 | crc32 u32 | sequence u64 | payload
 *
 * The CRC covers the sequence and the payload, so a record whose bytes were torn by a crash
 * or flipped on disk is refused as a whole. The magic lets a reader find the next record after
 * a damaged one instead of giving up on the rest of the segment.
 */
export const RECORD_MAGIC = 0x31525053;
export const RECORD_HEADER_BYTES = 20;
/** A payload is one event line; anything longer than this is a damaged length field. */
export const MAX_RECORD_PAYLOAD_BYTES = 1024 * 1024;

export function encodeRecord(sequence: number, payload: Buffer): Buffer {
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  record.writeUInt32LE(RECORD_MAGIC, 0);
  record.writeUInt32LE(payload.length, 4);
  record.writeBigUInt64LE(BigInt(sequence), 12);
  payload.copy(record, RECORD_HEADER_BYTES);
  record.writeUInt32LE(crc32(record.subarray(12)), 8);
  return record;
}

/** What `decodeRecord` found at an offset. */
export type DecodedRecord =
  | { kind: 'record'; sequence: number; payload: Buffer; end: number }
  | { kind: 'incomplete' }
  | { kind: 'damaged' };

/**
 * Reads the record that starts at `offset`. `incomplete`: the buffer ends inside it (more may
 * follow on disk). `damaged`: the bytes there are not a valid record. The payload is a view
 * into `buffer`; callers that keep it past the buffer's reuse must copy it.
 */
export function decodeRecord(buffer: Buffer, offset: number): DecodedRecord {
  if (buffer.length - offset < RECORD_HEADER_BYTES) return { kind: 'incomplete' };
  if (buffer.readUInt32LE(offset) !== RECORD_MAGIC) return { kind: 'damaged' };
  const length = buffer.readUInt32LE(offset + 4);
  if (length > MAX_RECORD_PAYLOAD_BYTES) return { kind: 'damaged' };
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > buffer.length) return { kind: 'incomplete' };
  if (crc32(buffer.subarray(offset + 12, end)) !== buffer.readUInt32LE(offset + 8)) {
    return { kind: 'damaged' };
  }
  const sequence = Number(buffer.readBigUInt64LE(offset + 12));
  return { kind: 'record', sequence, payload: buffer.subarray(offset + RECORD_HEADER_BYTES, end),
    end };
}

/** The offset of the next possible record start after a damaged one, or -1 when none. */
export function findNextMagic(buffer: Buffer, from: number): number {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(RECORD_MAGIC, 0);
  return buffer.indexOf(magic, from);
}
