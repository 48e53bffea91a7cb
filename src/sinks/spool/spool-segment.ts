import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRecord, findNextMagic, MAX_RECORD_PAYLOAD_BYTES, RECORD_HEADER_BYTES }
  from './spool-record.js';

const SEGMENT_PATTERN = /^(\d{16})\.seg$/;
/** Reads go through a buffer this size: a whole record always fits. */
export const SEGMENT_READ_BYTES = RECORD_HEADER_BYTES + MAX_RECORD_PAYLOAD_BYTES;

/** A segment file: named after the sequence number of its first record. */
export interface SpoolSegment {
  readonly firstSequence: number;
  readonly path: string;
  bytes: number;
}

export function segmentPath(directory: string, firstSequence: number): string {
  return join(directory, `${String(firstSequence).padStart(16, '0')}.seg`);
}

/** The segment files of a spool directory, oldest first. */
export function listSegments(directory: string): SpoolSegment[] {
  const segments: SpoolSegment[] = [];
  for (const name of readdirSync(directory)) {
    const match = SEGMENT_PATTERN.exec(name);
    if (match !== null) {
      segments.push({ firstSequence: Number(match[1]), path: join(directory, name), bytes: 0 });
    }
  }
  return segments.sort((a, b) => a.firstSequence - b.firstSequence);
}

/** What a full read of a segment found; `damagedBytes` were skipped to reach valid records. */
export interface SegmentScan {
  bytes: number;
  records: number;
  lastSequence: number;
  damagedBytes: number;
  /** Records missing between valid ones, or after the last one, judged by their sequence. */
  missingRecords: number;
}

/**
 * Reads a whole segment once, at start, to find where the sequence stands and what is damaged.
 * `nextFirstSequence` is where the following segment begins, so that records lost in a torn
 * tail are counted too.
 */
export function scanSegment(segment: SpoolSegment, nextFirstSequence?: number): SegmentScan {
  const scan: SegmentScan = { bytes: 0, records: 0, lastSequence: segment.firstSequence - 1,
    damagedBytes: 0, missingRecords: 0 };
  const reader = new SegmentReader(segment.path);
  try {
    reader.forEach((sequence) => {
      scan.missingRecords += Math.max(0, sequence - scan.lastSequence - 1);
      scan.records++;
      scan.lastSequence = sequence;
    }, (bytes) => {
      scan.damagedBytes += bytes;
    });
    scan.bytes = reader.size;
  } finally {
    reader.close();
  }
  if (nextFirstSequence !== undefined) {
    scan.missingRecords += Math.max(0, nextFirstSequence - scan.lastSequence - 1);
  }
  return scan;
}

/**
 * Sequential reader of one segment file that skips damaged regions: after bytes that are not a
 * valid record it looks for the next record's magic number.
 */
export class SegmentReader {
  offset = 0;
  size = 0;
  private readonly fd: number;
  private readonly buffer = Buffer.allocUnsafe(SEGMENT_READ_BYTES);

  constructor(path: string) {
    this.fd = openSync(path, 'r');
  }

  /**
   * Calls `onRecord` for every valid record from the current offset up to the end of the file
   * as it is now, `onDamaged` with the length of every skipped region. `onRecord` returns false
   * to stop early; the offset then stays on the record after the last one accepted. A record
   * cut off by the end of the file stays unread unless `final`, when it counts as damaged.
   */
  forEach(onRecord: (sequence: number, payload: Buffer) => boolean | void,
    onDamaged: (bytes: number) => void, final = true): void {
    for (;;) {
      const length = readSync(this.fd, this.buffer, 0, this.buffer.length, this.offset);
      this.size = Math.max(this.size, this.offset + length);
      if (length === 0) return;
      const view = this.buffer.subarray(0, length);
      const outcome = this.consume(view, onRecord, onDamaged);
      if (outcome === 'stopped') return;
      if (outcome === 'incomplete') {
        if (final) {
          onDamaged(length);
          this.offset += length;
        }
        return;
      }
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private consume(view: Buffer, onRecord: (sequence: number, payload: Buffer) => boolean | void,
    onDamaged: (bytes: number) => void): 'stopped' | 'incomplete' | 'more' {
    let position = 0;
    while (position < view.length) {
      const decoded = decodeRecord(view, position);
      if (decoded.kind === 'incomplete') {
        this.offset += position;
        return position === 0 ? 'incomplete' : 'more';
      }
      if (decoded.kind === 'damaged') {
        const next = findNextMagic(view, position + 1);
        const skipped = (next < 0 ? Math.max(position + 1, view.length - 3) : next) - position;
        onDamaged(skipped);
        position += skipped;
        continue;
      }
      position = decoded.end;
      if (onRecord(decoded.sequence, decoded.payload) === false) {
        this.offset += position;
        return 'stopped';
      }
    }
    this.offset += position;
    return 'more';
  }
}
