/**
 * How big the reliability suite runs: `RELIABILITY_SCALE=full` (`npm run test:reliability`) for the
 * figures of issue 13, the reduced default inside `npm test` (and CI), where it must fit the time.
 */
export const FULL = process.env.RELIABILITY_SCALE === 'full';

export const scale = FULL
  ? { fuzzCases: 10_000, soakClients: 64, soakSeconds: 120, faultEarns: 1_000, outageEarns: 300 }
  : { fuzzCases: 600, soakClients: 16, soakSeconds: 15, faultEarns: 200, outageEarns: 80 };

/** Enough time for a part at this scale on a 2-core machine (vitest's per-test timeout). */
export const partTimeoutMs = FULL ? 900_000 : 180_000;

/** One line per part, so a run shows its counts (and CI logs keep them). */
export function printCounts(part: string, counts: Record<string, unknown>): void {
  console.log(`reliability ${part} ${JSON.stringify({ scale: FULL ? 'full' : 'reduced', ...counts })}`);
}
