/** Waiting between retries, for the local background tasks (stream poller, webhook deliverer). */

export interface Backoff {
  /** The first delay (before jitter). */
  initialMs: number;
  /** No delay is longer, jitter included. */
  maxMs: number;
}

/** 0.5 s doubling, capped at 30 s. */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000 };

/**
 * The delay before retry number `attempt` (1 for the first retry): `initialMs × 2^(attempt−1)`,
 * capped at `maxMs`, spread ±25% so that retries of many clients do not fall in step (then capped
 * again, so the cap holds).
 */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** exponent);
  return Math.round(Math.min(backoff.maxMs, base * (0.75 + 0.5 * random())));
}

/** Resolves after `ms`, or at once when the signal aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** "1.2 s" or "250 ms", for log lines. */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}
