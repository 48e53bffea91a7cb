import { LruMap } from './lru-map.js';

/**
 * Processes found by a scan of new processes, kept for `youngProcessMs` of capture time after:
 * a new process is usually scanned before it connects (a python3 client spends 100 ms starting,
 * seconds when a burst of them shares the CPUs), and once known it is no longer new, so only a
 * rescan finds the socket it opens next. At most `maxYoungProcesses`; past the limit the one
 * found first goes (onEvict).
 */
export class YoungProcesses {
  /** pid -> capture time it was found, the one found first first. */
  private readonly foundAt: LruMap<number, number>;

  constructor(
    private readonly youngProcessMs: number,
    maxYoungProcesses: number,
    onEvict: () => void,
  ) {
    this.foundAt = new LruMap(maxYoungProcesses, onEvict);
  }

  add(pid: number, now: number): void {
    this.foundAt.set(pid, now);
  }

  delete(pid: number): void {
    this.foundAt.delete(pid);
  }

  /**
   * The young processes, the one found last first: on a host where processes start all the
   * time, the client that connects now started a moment ago, while most of those found seconds
   * ago are other programs. Those older than youngProcessMs are forgotten.
   */
  list(now: number): number[] {
    const pids: number[] = [];
    for (const pid of [...this.foundAt.keys()]) {
      if (now - this.foundAt.peek(pid)! < this.youngProcessMs) pids.push(pid);
      else this.foundAt.delete(pid);
    }
    return pids.reverse();
  }
}
