import type { SmtpStats } from './smtp-stats.js';

/**
 * Kinds of the client's commands that still await a reply, oldest first (RFC 2920: replies
 * come in command order). A ring of fixed size: past it the oldest is dropped and counted in
 * `pending_commands_dropped`.
 */
export class PendingCommands {
  private readonly kinds: Uint8Array;
  private head = 0;
  length = 0;

  constructor(capacity: number, private readonly stats: SmtpStats) {
    this.kinds = new Uint8Array(capacity);
  }

  push(kind: number): void {
    const capacity = this.kinds.length;
    if (this.length === capacity) {
      this.head = (this.head + 1) % capacity;
      this.length--;
      this.stats.pending_commands_dropped++;
    }
    this.kinds[(this.head + this.length) % capacity] = kind;
    this.length++;
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
