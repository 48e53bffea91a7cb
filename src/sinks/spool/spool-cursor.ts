import type { Spool } from './spool.js';
import type { SpoolConsumer } from './spool-consumer.js';
import { SegmentReader, type SpoolSegment } from './spool-segment.js';

/** Records read together; `nextSequence` is what to acknowledge once they are delivered. */
export interface SpoolBatch {
  readonly payloads: Buffer[];
  readonly bytes: number;
  readonly nextSequence: number;
}

export interface BatchLimits {
  maxRecords: number;
  maxBytes: number;
}

/**
 * One network sink's reader of the spool. Reads are synchronous (the segments are local files,
 * mostly in the page cache) and start from the sink's acknowledged position, so after a
 * restart everything not confirmed by the collector is sent again.
 */
export class SpoolCursor {
  private reader: SegmentReader | undefined;
  private segment: SpoolSegment | undefined;
  private readonly unsubscribe: () => void;

  constructor(private readonly spool: Spool, private readonly consumer: SpoolConsumer) {
    this.unsubscribe = spool.onDrop((dropped) => {
      if (dropped === this.segment) this.leaveSegment();
    });
  }

  /** The next records after those already read, or undefined when there are none yet. */
  next(limits: BatchLimits): SpoolBatch | undefined {
    const payloads: Buffer[] = [];
    let bytes = 0;
    for (;;) {
      const segment = this.enterSegment();
      if (segment === undefined) break;
      const active = segment === this.spool.activeSegment;
      (this.reader as SegmentReader).forEach((sequence, payload) => {
        if (sequence < this.consumer.read) return true;
        payloads.push(Buffer.from(payload));
        bytes += payload.length;
        this.consumer.read = sequence + 1;
        return payloads.length < limits.maxRecords && bytes < limits.maxBytes;
      }, () => undefined, !active);
      if (payloads.length >= limits.maxRecords || bytes >= limits.maxBytes || active) break;
      this.finishSegment(segment);
    }
    if (payloads.length === 0) return undefined;
    return { payloads, bytes, nextSequence: this.consumer.read };
  }

  close(): void {
    this.unsubscribe();
    this.leaveSegment();
  }

  /** The segment holding the next unread record, opened; undefined when the spool is empty. */
  private enterSegment(): SpoolSegment | undefined {
    if (this.segment !== undefined) return this.segment;
    const segments = this.spool.segmentList;
    if (segments.length === 0) return undefined;
    let index = 0;
    while (index + 1 < segments.length && segments[index + 1].firstSequence <= this.consumer.read) {
      index++;
    }
    this.segment = segments[index];
    this.reader = new SegmentReader(this.segment.path);
    return this.segment;
  }

  /**
   * A closed segment read to its end moves the position to the next segment's first record,
   * past records lost in a damaged tail (counted by the spool when it started).
   */
  private finishSegment(segment: SpoolSegment): void {
    const segments = this.spool.segmentList;
    const following = segments[segments.indexOf(segment) + 1];
    if (following !== undefined) {
      this.consumer.read = Math.max(this.consumer.read, following.firstSequence);
    }
    this.leaveSegment();
  }

  private leaveSegment(): void {
    this.reader?.close();
    this.reader = undefined;
    this.segment = undefined;
  }
}
