/**
 * How many scans of one kind are allowed: a burst of `burst`, then one more per `intervalMs` of
 * capture time, so that lookups that keep missing (sockets of processes the sensor cannot see,
 * connections that are in no table) cost a bounded share of the time.
 */
export class ScanBudget {
  private scans: number;
  private earnedUpTo = Number.NaN;

  constructor(private readonly burst: number, private readonly intervalMs: number) {
    this.scans = burst;
  }

  /** Spends one scan if there is one. */
  take(now: number): boolean {
    this.earn(now);
    if (this.scans < 1) return false;
    this.scans--;
    return true;
  }

  private earn(now: number): void {
    if (this.intervalMs === 0) {
      this.scans = this.burst;
      return;
    }
    if (!(now >= this.earnedUpTo)) {
      this.earnedUpTo = now; // first call, or the capture clock stepped back
      return;
    }
    const earned = Math.floor((now - this.earnedUpTo) / this.intervalMs);
    if (earned === 0) return;
    this.scans = Math.min(this.burst, this.scans + earned);
    this.earnedUpTo += earned * this.intervalMs;
  }
}
