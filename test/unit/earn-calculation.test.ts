import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calculateEarnPoints } from '../../lambdas/domain/earn-calculation.ts';

describe('calculateEarnPoints', () => {
  it('gives 1 point per 100 minor units, floored once', () => {
    expect(calculateEarnPoints(12345, { pointsPerUnit: 1, unitMinor: 100 }, [])).toEqual({
      points: 123,
      breakdown: [{ rule: 'base', points: 123 }],
    });
  });

  it('applies category and tier multipliers and itemises each as the growth it adds', () => {
    const result = calculateEarnPoints(12345, { pointsPerUnit: 1, unitMinor: 100 }, [
      { rule: 'category:fresh', multiplier: 2 },
      { rule: 'tier:gold', multiplier: 1.5 },
    ]);
    // 123.45 × 2 × 1.5 = 370.35 → 370
    expect(result.points).toBe(370);
    expect(result.breakdown).toEqual([
      { rule: 'base', points: 123 },
      { rule: 'category:fresh', points: 123 },
      { rule: 'tier:gold', points: 124 },
    ]);
  });

  it('omits multipliers of exactly 1 from the breakdown', () => {
    const result = calculateEarnPoints(500, { pointsPerUnit: 1, unitMinor: 100 }, [
      { rule: 'tier:member', multiplier: 1 },
    ]);
    expect(result.breakdown).toEqual([{ rule: 'base', points: 5 }]);
  });

  it('has no float error where naive arithmetic has one (0.1 × 3)', () => {
    // 3000 / 100 × 0.1 = 3.0000000000000004 in floats; 1.1 × 100 = 110.00000000000001
    expect(calculateEarnPoints(3000, { pointsPerUnit: 0.1, unitMinor: 100 }, []).points).toBe(3);
    expect(
      calculateEarnPoints(10000, { pointsPerUnit: 1, unitMinor: 100 }, [{ rule: 'x', multiplier: 1.1 }])
        .points,
    ).toBe(110);
    // 0.07 × 100 = 7.000000000000001 in floats, but 0.29 × 100 = 28.999999999999996: floor would lose a point
    expect(calculateEarnPoints(100, { pointsPerUnit: 0.29, unitMinor: 1 }, []).points).toBe(29);
  });

  it('returns 0 points for a 0 amount and for purchases below one unit', () => {
    expect(calculateEarnPoints(0, { pointsPerUnit: 1, unitMinor: 100 }, []).points).toBe(0);
    expect(calculateEarnPoints(99, { pointsPerUnit: 1, unitMinor: 100 }, []).points).toBe(0);
  });

  const decimal4 = fc.integer({ min: 0, max: 50_000 }).map((n) => n / 10_000);

  it('always equals floor of the exact rational product, and the breakdown sums to it (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }).map((n) => n / 10_000),
        fc.integer({ min: 1, max: 100_000 }),
        fc.array(decimal4, { maxLength: 4 }),
        (amount, pointsPerUnit, unitMinor, multipliers) => {
          const factors = multipliers.map((multiplier, i) => ({ rule: `m${i}`, multiplier }));
          const result = calculateEarnPoints(amount, { pointsPerUnit, unitMinor }, factors);
          let numerator = BigInt(amount) * BigInt(Math.round(pointsPerUnit * 10_000));
          let denominator = BigInt(unitMinor) * 10_000n;
          for (const m of multipliers) {
            numerator *= BigInt(Math.round(m * 10_000));
            denominator *= 10_000n;
          }
          expect(result.points).toBe(Number(numerator / denominator));
          expect(result.breakdown.reduce((sum, line) => sum + line.points, 0)).toBe(result.points);
          expect(Number.isInteger(result.points)).toBe(true);
        },
      ),
    );
  });
});
