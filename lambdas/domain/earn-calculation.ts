import type { BreakdownLine } from '../schemas/points.ts';

/** Multipliers carry at most 4 decimal places (enforced by the schemas), so ×10⁴ makes them integers. */
const SCALE = 10_000n;

export interface EarnRule {
  pointsPerUnit: number;
  unitMinor: number;
}

/** A multiplier applied on top of the base rule, named as it appears in the breakdown. */
export interface EarnFactor {
  rule: string;
  multiplier: number;
}

export interface EarnCalculation {
  points: number;
  breakdown: BreakdownLine[];
}

const scaled = (value: number) => BigInt(Math.round(value * Number(SCALE)));

/**
 * Points for a purchase: floor(amountMinor / unitMinor × pointsPerUnit × Π multipliers), computed
 * with exact integer arithmetic (no float rounding can add or lose a point). Each factor's
 * breakdown line is the growth of the floored running total, so the lines always sum to `points`.
 *
 * @example
 * calculateEarnPoints(12345, { pointsPerUnit: 1, unitMinor: 100 }, [{ rule: 'category:fresh', multiplier: 2 }])
 * // → { points: 246, breakdown: [{ rule: 'base', points: 123 }, { rule: 'category:fresh', points: 123 }] }
 */
export function calculateEarnPoints(
  amountMinor: number,
  rule: EarnRule,
  factors: EarnFactor[],
): EarnCalculation {
  let numerator = BigInt(amountMinor) * scaled(rule.pointsPerUnit);
  let denominator = BigInt(rule.unitMinor) * SCALE;
  let total = Number(numerator / denominator);
  const breakdown: BreakdownLine[] = [{ rule: 'base', points: total }];
  for (const factor of factors) {
    if (factor.multiplier === 1) continue;
    numerator *= scaled(factor.multiplier);
    denominator *= SCALE;
    const next = Number(numerator / denominator);
    breakdown.push({ rule: factor.rule, points: next - total });
    total = next;
  }
  return { points: total, breakdown };
}
