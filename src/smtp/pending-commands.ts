import type { SmtpStats } from './smtp-stats.js';

/** Room a session starts with: a client rarely pipelines more commands than this. */
const INITIAL_CAPACITY = 8;

/**
 * Kinds of the client's commands that still await a reply, oldest first (RFC 2920: replies
 * come in command order). A ring that starts small and doubles up to `capacity`: past it the
 * oldest is dropped and counted in `pending_commands_dropped`. Starting at the full 512 bytes
 * cost every session a typed array outside the heap, a twentieth of its setup in replay.
 */
export class PendingCommands {
  private kinds: Uint8Array;
  private head = 0;
  length = 0;

  constructor(private readonly capacity: number, private readonly stats: SmtpStats) {
    this.kinds = new Uint8Array(Math.min(INITIAL_CAPACITY, capacity));
  }

  push(kind: number): void {
    if (this.length === this.kinds.length) {
      if (this.kinds.length < this.capacity) {
        this.grow();
      } else {
        this.head = (this.head + 1) % this.kinds.length;
        this.length--;
        this.stats.pending_commands_dropped++;
      }
    }
    this.kinds[(this.head + this.length) % this.kinds.length] = kind;
    this.length++;
  }

  private grow(): void {
    const bigger = new Uint8Array(Math.min(this.kinds.length * 2, this.capacity));
    for (let i = 0; i < this.length; i++) {
      bigger[i] = this.kinds[(this.head + i) % this.kinds.length];
    }
    this.kinds = bigger;
    this.head = 0;
  }

  /** The oldest kind, removed; -1 when none waits. */
  shift(): number {
    if (this.length === 0) return -1;
    const kind = this.kinds[this.head];
    this.head = (this.head + 1) % this.kinds.length;
    this.length--;
    return kind;
  }

  clear(): void {
    this.length = 0;
  }
}
