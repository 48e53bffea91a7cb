/** A segment that arrived ahead of the stream's next expected byte; `data` is our own copy. */
export interface BufferedSegment {
  sequence: number;
  data: Buffer;
  /** Bytes after `data` that the segment carried but the capture did not keep. */
  missingLength: number;
  fin: boolean;
}

/** Reassembly state of one direction of a TCP connection. */
export class TcpStream {
  /** Sequence number of the next byte to deliver; meaningful once `started`. */
  nextSequence = 0;
  started = false;
  /** A FIN was seen and every byte before it delivered. */
  finished = false;
  /**
   * Out-of-order segments sorted by sequence number; their sizes, HELD_SEGMENT_OVERHEAD_BYTES
   * each included, add up to bufferedBytes.
   */
  readonly buffered: BufferedSegment[] = [];
  bufferedBytes = 0;
  /** Slot of the RecentBytesStore holding the last bytes delivered, or -1 for none yet. */
  recentSlot = -1;
  /** Sequence numbers of the bytes that slot holds: [recentStart, recentEnd). */
  recentStart = 0;
  recentEnd = 0;
}
