/** Full-jitter backoff growing to ~100 ms: contenders spread out instead of colliding again. */
export function jitter(attempt: number): Promise<void> {
  const ceiling = Math.min(100, 4 * 2 ** Math.min(attempt, 5));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
