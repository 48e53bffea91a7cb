import { sequenceAdd, sequenceDiff } from './sequence.js';
import type { TcpStream } from './tcp-stream.js';

/** Slots per slab: 4096 slots of 256 bytes make 1 MiB slabs. */
const SLOTS_PER_SLAB_BITS = 12;
const SLOTS_PER_SLAB = 1 << SLOTS_PER_SLAB_BITS;
/** Up to this many bytes a loop copies faster than Buffer.copy (64 bytes: about even). */
const SHORT_COPY_BYTES = 32;

/**
 * The last bytes each direction delivered, to tell whether a retransmission carries the same
 * bytes for the same sequence numbers. Each direction that has delivered bytes owns one slot
 * of `slotBytes` bytes (a power of two) in large shared slabs, so a direction costs no object
 * of its own; the byte at sequence s is kept at slot offset s mod slotBytes, so recording and
 * comparing need only the range of sequences held, [recentStart, recentEnd), kept in the
 * stream. Slabs are made as slots are needed and kept for reuse: their total is bounded by the
 * most directions ever open at once (at most 2 per flow of the flow table) times slotBytes.
 *
 * Limitation: only the last slotBytes bytes of each direction are kept, so a retransmission
 * that differs only in older bytes is not seen as a conflict; 256 bytes cost 51 MB with
 * 100,000 connections open (bench/reassembly-bench.ts), a full 1460-byte segment would cost
 * 292 MB.
 */
export class RecentBytesStore {
  private readonly slabs: Buffer[] = [];
  private readonly freeSlots: number[] = [];
  private slotsMade = 0;
  private readonly mask: number;

  constructor(private readonly slotBytes: number) {
    this.mask = slotBytes - 1;
  }

  /** Bytes held in slabs, in use or free. */
  get bytes(): number {
    return this.slabs.length * SLOTS_PER_SLAB * this.slotBytes;
  }

  /** Bytes buf[from, to) were delivered at `sequence`; a jump (a gap) forgets older bytes. */
  record(stream: TcpStream, sequence: number, buf: Buffer, from: number, to: number): void {
    if (stream.recentSlot < 0) stream.recentSlot = this.acquire();
    if (sequence !== stream.recentEnd) stream.recentStart = sequence;
    let first = Math.max(from, to - this.slotBytes);
    let at = sequenceAdd(sequence, first - from);
    const slab = this.slabs[stream.recentSlot >>> SLOTS_PER_SLAB_BITS];
    const base = (stream.recentSlot & (SLOTS_PER_SLAB - 1)) * this.slotBytes;
    while (first < to) {
      const index = at & this.mask;
      const length = Math.min(to - first, this.slotBytes - index);
      const into = base + index;
      // buf.copy makes a view object per call: a short command segment is copied faster by
      // hand, a long one (a message segment) five times faster by copy.
      if (length <= SHORT_COPY_BYTES) {
        for (let k = 0; k < length; k++) slab[into + k] = buf[first + k];
      } else {
        buf.copy(slab, into, first, first + length);
      }
      first += length;
      at = sequenceAdd(at, length);
    }
    stream.recentEnd = at;
    if (sequenceDiff(at, stream.recentStart) > this.slotBytes) {
      stream.recentStart = sequenceAdd(at, -this.slotBytes);
    }
  }

  /**
   * Whether buf[from, to), seen again at `sequence`, differs from the bytes held for the same
   * sequence numbers. Bytes older than the slot size, or before a gap, are not compared.
   */
  differs(stream: TcpStream, sequence: number, buf: Buffer, from: number, to: number): boolean {
    if (stream.recentSlot < 0) return false;
    let at = sequence;
    let offset = from;
    const skipped = sequenceDiff(stream.recentStart, sequence);
    if (skipped > 0) {
      at = stream.recentStart;
      offset += skipped;
    }
    const last = Math.min(to, offset + sequenceDiff(stream.recentEnd, at));
    const slab = this.slabs[stream.recentSlot >>> SLOTS_PER_SLAB_BITS];
    const base = (stream.recentSlot & (SLOTS_PER_SLAB - 1)) * this.slotBytes;
    while (offset < last) {
      const index = at & this.mask;
      const length = Math.min(last - offset, this.slotBytes - index);
      const held = base + index;
      if (buf.compare(slab, held, held + length, offset, offset + length) !== 0) return true;
      offset += length;
      at = sequenceAdd(at, length);
    }
    return false;
  }

  /** The stream is done: its slot goes back to the free list. */
  release(stream: TcpStream): void {
    if (stream.recentSlot < 0) return;
    this.freeSlots.push(stream.recentSlot);
    stream.recentSlot = -1;
  }

  private acquire(): number {
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    if (this.slotsMade === this.slabs.length * SLOTS_PER_SLAB) {
      // One slab serves 4096 directions; it is zero-filled once and reused for good.
      this.slabs.push(Buffer.alloc(SLOTS_PER_SLAB * this.slotBytes));
    }
    return this.slotsMade++;
  }
}
