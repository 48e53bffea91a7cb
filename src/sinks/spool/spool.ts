import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync,
  rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SinkError } from '../sink-error.js';
import type { SpoolConsumer } from './spool-consumer.js';
import { encodeRecord } from './spool-record.js';
import { listSegments, scanSegment, segmentPath, type SpoolSegment } from './spool-segment.js';
import type { SpoolStats } from './spool-stats.js';

export interface SpoolOptions {
  directory: string;
  /** Cap on the bytes of all segments; past it the oldest segment is deleted, and counted. */
  maxBytes: number;
  /** A segment is closed and a new one started past this size. */
  segmentBytes: number;
  /** fdatasync period; 0 syncs after every record. Kill -9 loses nothing either way. */
  syncIntervalMs: number;
  /** The network sinks that read the spool, each with its own acknowledged position. */
  consumers: readonly string[];
}

/**
 * The on-disk queue between the capture loop and the network sinks. `append` writes a record
 * synchronously with one write(2) on the active segment, so once it returns the event survives
 * the process being killed; fdatasync runs every `syncIntervalMs` so that a power failure loses
 * at most that much. Each start opens a new segment: older ones are never written again, so a
 * torn tail left by a crash stays where it is and is skipped by readers.
 *
 * Segments are deleted when every consumer has acknowledged all their records, or by the size
 * cap, oldest first; the records the cap deletes are counted per consumer that had not read
 * them yet (the counts are exact: records are numbered).
 */
export class Spool {
  readonly counters: SpoolStats;
  readonly consumers = new Map<string, SpoolConsumer>();
  private readonly segments: SpoolSegment[];
  private readonly listeners = new Set<() => void>();
  private readonly dropListeners = new Set<(segment: SpoolSegment) => void>();
  private fd: number;
  private nextSequence: number;
  private dirty = false;
  private closed = false;
  private readonly syncTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SpoolOptions) {
    this.counters = { records_written: 0, bytes_written: 0, write_errors: 0, segments: 0,
      bytes: 0, segments_deleted: 0, segments_dropped: 0, damaged_records_skipped: 0,
      damaged_bytes_skipped: 0, syncs: 0 };
    try {
      mkdirSync(join(options.directory, 'acks'), { recursive: true, mode: 0o700 });
      this.segments = listSegments(options.directory);
      this.nextSequence = this.scanExisting();
      this.loadConsumers();
      this.fd = this.startSegment();
    } catch (error) {
      throw new SinkError('spool_unusable',
        `spool directory ${options.directory}: ${(error as Error).message}`, { cause: error });
    }
    this.collect();
    if (options.syncIntervalMs > 0) {
      this.syncTimer = setInterval(() => this.sync(), options.syncIntervalMs).unref();
    }
  }

  /** The segments now on disk, oldest first; the last one is being written. */
  get segmentList(): readonly SpoolSegment[] {
    return this.segments;
  }

  get activeSegment(): SpoolSegment {
    return this.segments[this.segments.length - 1];
  }

  /** Records appended but not yet acknowledged by the slowest consumer. */
  get depth(): number {
    let deepest = 0;
    for (const consumer of this.consumers.values()) {
      deepest = Math.max(deepest, this.depthOf(consumer));
    }
    return deepest;
  }

  /** Records appended that this consumer has not had acknowledged yet. */
  depthOf(consumer: SpoolConsumer): number {
    return this.nextSequence - Math.max(consumer.acknowledged, this.firstSequence());
  }

  /** Stores one event line. Never throws: a failed write is counted as a lost event. */
  append(line: Buffer): void {
    if (this.closed) {
      this.counters.write_errors++;
      return;
    }
    const record = encodeRecord(this.nextSequence, line);
    try {
      writeSync(this.fd, record);
    } catch {
      this.counters.write_errors++;
      return;
    }
    this.nextSequence++;
    this.activeSegment.bytes += record.length;
    this.counters.records_written++;
    this.counters.bytes_written += record.length;
    this.dirty = true;
    if (this.options.syncIntervalMs === 0) this.sync();
    if (this.activeSegment.bytes >= this.options.segmentBytes) this.rotate();
    this.enforceCap();
    for (const listener of this.listeners) listener();
  }

  /** Makes the records written so far durable against power failure. */
  sync(): void {
    if (!this.dirty) return;
    this.dirty = false;
    try {
      fdatasyncSync(this.fd);
      this.counters.syncs++;
    } catch {
      this.counters.write_errors++;
    }
  }

  /** Records a consumer's progress: persisted atomically, then segments are deleted if done. */
  acknowledge(name: string, nextSequence: number): void {
    const consumer = this.consumers.get(name);
    if (consumer === undefined || nextSequence <= consumer.acknowledged) return;
    consumer.acknowledged = nextSequence;
    writeAtomically(this.ackPath(name), JSON.stringify({ sequence: nextSequence }) + '\n');
    this.collect();
  }

  /** Called after every append, so a waiting reader can read again. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called when the cap deletes a segment, so that a reader inside it moves on. */
  onDrop(listener: (segment: SpoolSegment) => void): () => void {
    this.dropListeners.add(listener);
    return () => this.dropListeners.delete(listener);
  }

  stats(): SpoolStats {
    this.counters.segments = this.segments.length;
    this.counters.bytes = this.segments.reduce((total, segment) => total + segment.bytes, 0);
    return { ...this.counters };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.syncTimer !== undefined) clearInterval(this.syncTimer);
    this.sync();
    closeSync(this.fd);
    this.listeners.clear();
  }

  private firstSequence(): number {
    return this.segments[0].firstSequence;
  }

  /** Scans the segments left by earlier runs; returns the next free sequence number. */
  private scanExisting(): number {
    let next = 0;
    this.segments.forEach((segment, index) => {
      const scan = scanSegment(segment, this.segments[index + 1]?.firstSequence);
      segment.bytes = scan.bytes;
      this.counters.damaged_bytes_skipped += scan.damagedBytes;
      this.counters.damaged_records_skipped += scan.missingRecords;
      next = Math.max(next, scan.lastSequence + 1);
    });
    return next;
  }

  private loadConsumers(): void {
    const oldest = this.segments[0]?.firstSequence ?? this.nextSequence;
    for (const name of this.options.consumers) {
      const acknowledged = readAck(this.ackPath(name)) ?? oldest;
      // Acknowledgements ahead of the segments (a spool emptied by hand) must not make new
      // records look acknowledged, so numbering continues after them.
      this.nextSequence = Math.max(this.nextSequence, acknowledged);
      this.consumers.set(name, { name, acknowledged, read: acknowledged, dropped: 0 });
    }
  }

  private startSegment(): number {
    const path = segmentPath(this.options.directory, this.nextSequence);
    const fd = openSync(path, 'a', 0o600);
    const last = this.segments[this.segments.length - 1];
    if (last !== undefined && last.firstSequence === this.nextSequence) {
      // An empty segment from an earlier start: it is reused, there is nothing in it to keep.
      return fd;
    }
    this.segments.push({ firstSequence: this.nextSequence, path, bytes: 0 });
    return fd;
  }

  private rotate(): void {
    this.sync();
    closeSync(this.fd);
    this.fd = this.startSegment();
  }

  /** Deletes the oldest segments that every consumer has acknowledged. */
  private collect(): void {
    while (this.segments.length > 1) {
      const end = this.segments[1].firstSequence;
      for (const consumer of this.consumers.values()) {
        if (consumer.acknowledged < end) return;
      }
      this.deleteOldest();
    }
  }

  private enforceCap(): void {
    let total = this.segments.reduce((sum, segment) => sum + segment.bytes, 0);
    while (total > this.options.maxBytes && this.segments.length > 1) {
      const oldest = this.segments[0];
      const end = this.segments[1].firstSequence;
      let unread = 0;
      for (const consumer of this.consumers.values()) {
        const lost = Math.max(0, end - Math.max(consumer.read, oldest.firstSequence));
        consumer.dropped += lost;
        unread += lost;
        consumer.read = Math.max(consumer.read, end);
      }
      if (unread > 0) this.counters.segments_dropped++;
      total -= oldest.bytes;
      this.deleteOldest();
      for (const listener of this.dropListeners) listener(oldest);
    }
  }

  private deleteOldest(): void {
    const oldest = this.segments.shift() as SpoolSegment;
    rmSync(oldest.path, { force: true });
    this.counters.segments_deleted++;
  }

  private ackPath(name: string): string {
    return join(this.options.directory, 'acks', `${encodeURIComponent(name)}.json`);
  }
}

/** Write to a temporary file, fsync it, rename over the old one: never a half-written file. */
function writeAtomically(path: string, text: string): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  const fd = openSync(temporary, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

function readAck(path: string): number | undefined {
  try {
    const sequence: unknown = (JSON.parse(readFileSync(path, 'utf8')) as { sequence?: unknown })
      .sequence;
    return typeof sequence === 'number' && Number.isSafeInteger(sequence) && sequence >= 0
      ? sequence : undefined;
  } catch {
    return undefined;
  }
}
