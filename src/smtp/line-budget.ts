import type { SmtpStats } from './smtp-stats.js';

/**
 * Bytes that all the connections' unfinished command lines may hold together past the first
 * 256 of each (LineAssembler). Each line is capped on its own (MAX_COMMAND_LINE_BYTES), but
 * 100,000 connections each holding 4 KiB of a line would take 400 MB: past this budget, a
 * line that needs more room is cut as a line too long is (what it holds is kept, the rest of
 * the line skipped), and the bytes are counted.
 * One budget per sensor pipeline, shared by its sessions; nothing here reads a clock.
 */
export class LineBudget {
  private used = 0;

  /** `stats` receives line_bytes_over_budget. */
  constructor(readonly maxBytes: number, private readonly stats: SmtpStats) {}

  /** Bytes of an unfinished line were skipped because the budget was spent. */
  refused(bytes: number): void {
    this.stats.line_bytes_over_budget += bytes;
  }

  /** Takes `bytes` if they fit: true, and the caller owns them until release(). */
  take(bytes: number): boolean {
    if (this.used + bytes > this.maxBytes) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
  }

  get bytesInUse(): number {
    return this.used;
  }
}

/** All the connections' unfinished lines together: 64 MiB, 16,384 lines at the 4 KiB cap. */
export const MAX_UNFINISHED_LINE_BYTES = 64 * 1024 * 1024;
