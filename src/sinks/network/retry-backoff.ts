export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (0 for the first retry): exponential, capped, with
 * "equal jitter" (half fixed, half random) so that sensors of a fleet that lost the same
 * collector do not all come back at the same instant, while still waiting at least half.
 */
export function retryDelayMs(options: BackoffOptions, attempt: number,
  random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}
