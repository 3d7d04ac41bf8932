import { scale } from './size.ts';

/** Counts by label (statuses, kinds, operations), printed sorted by label. */
export class Histogram {
  private readonly counts = new Map<string, number>();

  add(label: string | number, by = 1): void {
    const key = String(label);
    this.counts.set(key, (this.counts.get(key) ?? 0) + by);
  }

  get(label: string | number): number {
    return this.counts.get(String(label)) ?? 0;
  }

  total(): number {
    let sum = 0;
    for (const count of this.counts.values()) sum += count;
    return sum;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** One line per part, so a run's log (CI or `npm run test:reliability`) shows what was exercised. */
export function printSummary(part: string, figures: Record<string, unknown>): void {
  console.log(`[reliability] ${JSON.stringify({ part, scale, ...figures })}`);
}

/** Milliseconds since `start`, rounded, for the summaries. */
export const elapsed = (start: number) => Math.round(performance.now() - start);
