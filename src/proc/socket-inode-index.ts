import { LruMap } from './lru-map.js';

/** A process found holding a socket: the pid and start time name it for good. */
export interface IndexedHolder {
  readonly pid: number;
  readonly startTime: number;
}

/**
 * Which processes hold each socket inode, as the scans of /proc/PID/fd found them. An entry
 * stays when its process closes the socket or exits: a closed socket is in no socket table, so
 * nobody asks for its inode, and a holder is used only while its pid still has the start time
 * recorded here, which a reused pid does not. Full scans rebuild the index; past the limit the
 * least recently used inode goes.
 */
export class SocketInodeIndex {
  private readonly holders: LruMap<number, IndexedHolder[]>;

  constructor(maxIndexedSockets: number, onEvict: () => void) {
    this.holders = new LruMap(maxIndexedSockets, onEvict);
  }

  get size(): number {
    return this.holders.size;
  }

  add(inode: number, pid: number, startTime: number): void {
    const holders = this.holders.peek(inode);
    if (holders === undefined) {
      this.holders.set(inode, [{ pid, startTime }]);
    } else if (!holders.some((held) => held.pid === pid && held.startTime === startTime)) {
      holders.push({ pid, startTime });
    }
  }

  /** The processes found holding `inode`; undefined when none was. */
  holdersOf(inode: number): readonly IndexedHolder[] | undefined {
    return this.holders.get(inode);
  }

  clear(): void {
    this.holders.clear();
  }
}
