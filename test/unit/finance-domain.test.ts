import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocateToPoints, type Cohort, recognitionAt } from '../../lambdas/domain/deferred-revenue.ts';
import {
  groupCounts,
  type KpiCounters,
  netPromoterScore,
  purchaseGroups,
  rate,
  recordPurchaseActivity,
} from '../../lambdas/domain/kpis.ts';
import { attributeOutstanding, proportionalShares } from '../../lambdas/domain/liability.ts';
import { emptyMemberPoints } from '../../lambdas/domain/member-ledger.ts';
import { applyEarn, applyHold, applyRedemption } from '../../lambdas/domain/movements.ts';
import {
  type BalanceCut,
  type BalanceFigures,
  balancesAtEndOf,
  nextCuts,
  positionDelta,
} from '../../lambdas/domain/position.ts';
import { ratioOf, roundHalfUp } from '../../lambdas/domain/ratio.ts';
import { monthsAfter } from '../../lambdas/domain/time.ts';

const policy = {
  expiryMonths: 12,
  pendingDays: 0,
  tierWindowMonths: 12,
  tiers: [{ code: 'member', name: 'Member', minQualifyingPoints: 0, earnMultiplier: 1 }],
};

describe('ratio', () => {
  it('reads decimals exactly and rounds half up', () => {
    expect(ratioOf(0.95)).toEqual({ num: 95n, den: 100n });
    expect(ratioOf(1)).toEqual({ num: 1n, den: 1n });
    expect(ratioOf(0)).toEqual({ num: 0n, den: 1n });
    expect(roundHalfUp(5n, 2n)).toBe(3n);
    expect(roundHalfUp(7n, 3n)).toBe(2n);
    expect(roundHalfUp(-5n, 2n)).toBe(-2n);
  });
});

describe('position counters', () => {
  it('count what a change does to outstanding, held, debts and expiry buckets', () => {
    const start = emptyMemberPoints('member', '2027-01-10T00:00:00.000Z');
    const earned = applyEarn(
      start,
      100,
      '2027-01-10T00:00:00.000Z',
      '2027-01-10T00:00:00.000Z',
      policy,
      'grocer',
    );
    expect(positionDelta(start, earned.points)).toEqual({
      coalition: { posAvailable: 100, 'exp_2028-02': 100 },
      pendingByPartner: new Map(),
    });
    const held = applyHold(earned.points, 'red_1', 30, '2027-01-11T00:00:00.000Z', null, 'fuel');
    // A hold moves points from available to held: the lot's points stay in their bucket.
    expect(positionDelta(earned.points, held)).toEqual({
      coalition: { posAvailable: -30, posHeld: 30 },
      pendingByPartner: new Map(),
    });
    const spent = applyRedemption(earned.points, 40).points;
    expect(positionDelta(earned.points, spent).coalition).toEqual({ posAvailable: -40, 'exp_2028-02': -40 });
  });

  it('keeps pending points on the partner that issued them', () => {
    const start = emptyMemberPoints('member', '2027-01-10T00:00:00.000Z');
    const pending = applyEarn(
      start,
      50,
      '2027-01-10T00:00:00.000Z',
      '2027-01-10T00:00:00.000Z',
      { ...policy, pendingDays: 14 },
      'fuel',
    );
    expect(pending.status).toBe('pending');
    expect(positionDelta(start, pending.points)).toEqual({
      coalition: { 'exp_2028-02': 50 },
      pendingByPartner: new Map([['fuel', 50]]),
    });
  });
});

/** Writes of one member: the posting day each was posted on, in commit order, and its change. */
const writesArb = fc.array(
  fc.record({
    day: fc.integer({ min: 0, max: 8 }),
    // Late: a write of the day before the latest posting day (committed after midnight).
    late: fc.boolean(),
    change: fc.record({
      available: fc.integer({ min: -50, max: 50 }),
      pending: fc.integer({ min: -5, max: 5 }),
      held: fc.integer({ min: -5, max: 5 }),
    }),
  }),
  { maxLength: 30 },
);

const dayName = (n: number) => `2027-03-${String(10 + n).padStart(2, '0')}`;

describe('balance cuts', () => {
  it('give every member balance as it stood at the end of any day they still reach (fast-check)', () => {
    fc.assert(
      fc.property(writesArb, (writes) => {
        let cuts: BalanceCut[] = [];
        let balances: BalanceFigures = { available: 0, pending: 0, held: 0 };
        const posted: { day: number; change: BalanceFigures }[] = [];
        let latest = 0;
        for (const write of writes) {
          // Posting days only move forward, but a write may land after a later day's (by one day).
          latest = Math.max(latest, write.day);
          const day = write.late && latest > 0 ? latest - 1 : latest;
          const after = {
            available: balances.available + write.change.available,
            pending: balances.pending + write.change.pending,
            held: balances.held + write.change.held,
          };
          cuts = nextCuts(cuts, dayName(day), balances, after);
          balances = after;
          posted.push({ day, change: write.change });
        }
        expect(cuts.length).toBeLessThanOrEqual(2);
        for (let end = -1; end <= 9; end++) {
          const expected = posted
            .filter((write) => write.day <= end)
            .reduce(
              (total, write) => ({
                available: total.available + write.change.available,
                pending: total.pending + write.change.pending,
                held: total.held + write.change.held,
              }),
              { available: 0, pending: 0, held: 0 },
            );
          const rebuilt = balancesAtEndOf(end < 0 ? '2027-03-09' : dayName(end), balances, cuts);
          // Undefined only when the cuts no longer reach back: never a wrong figure.
          if (rebuilt !== undefined) expect(rebuilt, `end of day ${end}`).toEqual(expected);
          // The day before the latest posting day is always within reach (the daily run's).
          if (end >= latest - 1) expect(rebuilt).toBeDefined();
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('FIFO attribution of outstanding points', () => {
  it('takes consumption from the oldest month first, in proportion within a month, reversals LIFO', () => {
    const layers = [
      { scope: 'grocer', month: '2027-01', points: 100n },
      { scope: 'fuel', month: '2027-02', points: 30n },
      { scope: 'grocer', month: '2027-02', points: 60n },
      { scope: 'fuel', month: '2027-03', points: 50n },
    ];
    // Fuel's return of 20 takes its March points; 130 consumed: all of January, then 30 of
    // February's 90 (fuel 10, grocer 20).
    const result = attributeOutstanding(layers, new Map([['fuel', 20n]]), 130n);
    expect(Object.fromEntries(result)).toEqual({ grocer: 40n, fuel: 50n });
  });

  it('always attributes exactly max(0, issued − reversed − consumed) (fast-check)', () => {
    const layer = fc.record({
      scope: fc.constantFrom('a', 'b', '_c'),
      month: fc.constantFrom('2027-01', '2027-02', '2027-03'),
      points: fc.bigInt({ min: 0n, max: 1000n }),
    });
    fc.assert(
      fc.property(
        fc.array(layer, { maxLength: 12 }),
        fc.bigInt({ min: 0n, max: 8000n }),
        (layers, consumed) => {
          const issued = layers.reduce((sum, l) => sum + l.points, 0n);
          const result = attributeOutstanding(layers, new Map(), consumed);
          const total = [...result.values()].reduce((sum, v) => sum + v, 0n);
          expect(total).toBe(issued > consumed ? issued - consumed : 0n);
          for (const value of result.values()) expect(value >= 0n).toBe(true);
        },
      ),
    );
  });

  it('splits in proportion without losing a point', () => {
    expect(proportionalShares([1n, 1n, 1n], 2n, ['a', 'b', 'c'])).toEqual([1n, 1n, 0n]);
    expect(proportionalShares([10000n, 62n], 4500n, ['grocer', 'fuel'])).toEqual([4472n, 28n]);
  });
});

describe('IFRS 15 deferred revenue', () => {
  // Illustrative Example 52: 100,000 of sales with 10,000 points, 1 unit per point, 95% expected.
  const cohort: Cohort = { month: '2027-01', points: 10_000n, priceMinor: 100_000n };

  it('reproduces Illustrative Example 52: 8,676 allocated, 4,110 in year 1, 3,493 in year 2', () => {
    const allocated = allocateToPoints(cohort, 1n, ratioOf(0.95));
    expect(allocated).toBe(8_676n);
    const shares = new Map([['2027-01', allocated]]);
    const year = (redeemed: bigint, estimate: number) =>
      recognitionAt(
        { cohorts: [cohort], freeByMonth: new Map(), consumed: redeemed, redeemed },
        shares,
        ratioOf(estimate),
      ).get('2027-01')?.recognizedMinor;
    const year1 = year(4_500n, 0.95);
    const year2 = year(8_500n, 0.97);
    expect(year1).toBe(4_110n);
    expect((year2 ?? 0n) - (year1 ?? 0n)).toBe(3_493n);
  });

  it('recognises exactly the allocation once a cohort is gone, whatever the periods (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 100_000n }),
        fc.bigInt({ min: 1n, max: 10_000_000n }),
        fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom(0.5, 0.8, 0.95, 1),
        (points, price, steps, estimate) => {
          const c: Cohort = { month: '2027-01', points, priceMinor: price };
          const allocated = allocateToPoints(c, 1n, ratioOf(estimate));
          let redeemed = 0n;
          let recognized = 0n;
          const shares = new Map([['2027-01', allocated]]);
          for (const step of [...steps, 100]) {
            redeemed += ((points - redeemed) * BigInt(step)) / 100n;
            if (step === 100) redeemed = points;
            const cumulative =
              recognitionAt(
                { cohorts: [c], freeByMonth: new Map(), consumed: redeemed, redeemed },
                shares,
                ratioOf(estimate),
              ).get('2027-01')?.recognizedMinor ?? 0n;
            expect(cumulative >= recognized, 'cumulative revenue never goes down').toBe(true);
            recognized = cumulative;
          }
          expect(recognized).toBe(allocated);
        },
      ),
    );
  });
});

/** A member's purchases: (month offset, day of month, partner). */
const purchasesArb = fc.array(
  fc.array(
    fc.record({
      month: fc.integer({ min: 0, max: 14 }),
      day: fc.integer({ min: 1, max: 3 }),
      partner: fc.constantFrom('a', 'b'),
    }),
    { maxLength: 8 },
  ),
  { minLength: 1, maxLength: 12 },
);

describe('KPI counters', () => {
  it('count distinct active, retained and repeat members of any period exactly (fast-check vs brute force)', () => {
    const base = '2027-01';
    fc.assert(
      fc.property(
        purchasesArb,
        fc.integer({ min: 0, max: 14 }),
        fc.integer({ min: 1, max: 6 }),
        (members, startOffset, length) => {
          const byMonth = new Map<string, KpiCounters>();
          const add = (month: string, counters: Record<string, number>) => {
            const into = byMonth.get(month) ?? {};
            for (const [name, value] of Object.entries(counters))
              into[name] = (into[name] ?? 0n) + BigInt(value);
            byMonth.set(month, into);
          };
          const days = members.map((purchases) =>
            purchases
              .map((p) => ({ day: `${monthsAfter(base, p.month)}-0${p.day}`, partner: p.partner }))
              .sort((x, y) => x.day.localeCompare(y.day)),
          );
          for (const purchases of days) {
            let activity: Record<string, string> | undefined;
            for (const purchase of purchases) {
              const recorded = recordPurchaseActivity(
                activity,
                purchase.day,
                purchaseGroups(purchase.partner, null),
              );
              activity = recorded.activity;
              add(purchase.day.slice(0, 7), recorded.counters);
            }
          }
          const first = monthsAfter(base, startOffset);
          const period = Array.from({ length }, (_, k) => monthsAfter(first, k));
          const before = Array.from({ length }, (_, k) => monthsAfter(first, k - length));
          for (const group of ['all', 'p:a']) {
            const inGroup = days.map((purchases) =>
              purchases.filter((p) => group === 'all' || `p:${p.partner}` === group),
            );
            const activeIn = (months: string[]) =>
              inGroup.filter((purchases) => purchases.some((p) => months.includes(p.day.slice(0, 7))));
            const counts = groupCounts(byMonth, group, first, length);
            expect(counts.activeMembers).toBe(BigInt(activeIn(period).length));
            expect(counts.previousActiveMembers).toBe(BigInt(activeIn(before).length));
            expect(counts.retainedMembers).toBe(
              BigInt(activeIn(period).filter((purchases) => activeIn(before).includes(purchases)).length),
            );
            const repeat = period.reduce(
              (total, month) =>
                total +
                inGroup.filter(
                  (purchases) =>
                    new Set(purchases.filter((p) => p.day.startsWith(month)).map((p) => p.day)).size >= 2,
                ).length,
              0,
            );
            expect(counts.repeatMemberMonths).toBe(BigInt(repeat));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rates have 4 decimal places; NPS is promoters minus detractors in percent', () => {
    expect(rate(1n, 3n)).toBe(0.3333);
    expect(rate(2n, 3n)).toBe(0.6667);
    expect(rate(1n, 0n)).toBeNull();
    expect(netPromoterScore(10n, 6n, 1n)).toBe(50);
    expect(netPromoterScore(3n, 0n, 1n)).toBe(-33.3);
    expect(netPromoterScore(0n, 0n, 0n)).toBeNull();
  });
});
