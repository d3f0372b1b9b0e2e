export interface BackoffOptions {
  /** First ceiling, in ms. */
  baseMs?: number;
  /** Highest ceiling, in ms. */
  capMs?: number;
  /** Uniform in [0, 1); injected so tests can pin it. */
  random?: () => number;
}

export const DEFAULT_BACKOFF_BASE_MS = 1000;
export const DEFAULT_BACKOFF_CAP_MS = 5 * 60 * 1000;

/**
 * Delay before reconnect attempt `attempt` (0 for the first retry): exponential
 * backoff with full jitter, a uniform draw in [0, min(cap, base * 2^attempt)).
 * Full jitter spreads a fleet that lost the collector at the same moment, so
 * it does not come back as one wave (AWS Architecture Blog, "Exponential Backoff
 * And Jitter").
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const cap = options.capMs ?? DEFAULT_BACKOFF_CAP_MS;
  const random = options.random ?? Math.random;
  // Bounded exponent: 2^attempt overflows to Infinity long after the cap is hit anyway.
  const ceiling = Math.min(cap, base * 2 ** Math.min(Math.max(0, attempt), 52));
  return Math.floor(random() * ceiling);
}
