import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyMemberPoints, type MemberPoints } from '../../lambdas/domain/member-ledger.ts';
import {
  addQualifying,
  currentTier,
  qualifyingPoints,
  reviewTier,
  type TierPolicy,
  tierFor,
  tierProgress,
  tierReviewDate,
  upgradeTier,
} from '../../lambdas/domain/tiers.ts';
import { dayOf, monthOf, startOfMonthAfter } from '../../lambdas/domain/time.ts';
import { tiers } from '../support/tiers.ts';

const policy: TierPolicy = { tierWindowMonths: 12, tiers };
const now = '2026-11-23T10:00:00.000Z';
const since = '2026-06-01T00:00:00.000Z';

function member(tier: string, qualifying: Record<string, number>): MemberPoints {
  return { ...emptyMemberPoints(tier, since), qualifying };
}

describe('tiers', () => {
  describe('qualifyingPoints', () => {
    const points = member('member', {
      '2025-11': 100,
      '2025-12': 200,
      '2026-06': 300,
      '2026-11': 400,
      '2026-12': 50,
    });

    it('counts the months of the window that ends with the month of `at`', () => {
      expect(qualifyingPoints(points, now, 12)).toBe(900); // 2025-12 … 2026-11
      expect(qualifyingPoints(points, now, 1)).toBe(400);
      expect(qualifyingPoints(points, now, 24)).toBe(1000);
      expect(qualifyingPoints(points, '2026-12-01T00:00:00.000Z', 12)).toBe(750); // 2026-01 … 2026-12
    });

    it('is 0 without qualifying points', () => {
      expect(qualifyingPoints(member('member', {}), now, 12)).toBe(0);
    });
  });

  describe('tierFor', () => {
    it('reaches a tier from its threshold on, and the highest one reached', () => {
      expect(tierFor(0, tiers).code).toBe('member');
      expect(tierFor(999, tiers).code).toBe('member');
      expect(tierFor(1000, tiers).code).toBe('silver');
      expect(tierFor(4999, tiers).code).toBe('silver');
      expect(tierFor(5000, tiers).code).toBe('gold');
      expect(tierFor(1_000_000, tiers).code).toBe('gold');
    });

    it('needs at least one tier', () => {
      expect(() => tierFor(0, [])).toThrow('a program has at least one tier');
    });
  });

  describe('currentTier', () => {
    it("is the member's tier, or the entry tier when the program removed it", () => {
      expect(currentTier(member('silver', {}), tiers).code).toBe('silver');
      expect(currentTier(member('platinum', {}), tiers).code).toBe('member');
    });
  });

  describe('addQualifying', () => {
    it('adds points to the month of the purchase and prunes months that left the window', () => {
      const points = member('member', { '2025-10': 50, '2026-05': 100 });
      addQualifying(points, 30, '2026-05-10T00:00:00.000Z', now, 12);
      expect(points.qualifying).toEqual({ '2026-05': 130 });
    });

    it('ignores a purchase from before the window', () => {
      const points = member('member', { '2025-10': 50, '2026-05': 100 });
      addQualifying(points, 40, '2025-11-30T23:59:59.999Z', now, 12);
      expect(points.qualifying).toEqual({ '2026-05': 100 });
    });

    it('does not record a month for 0 points', () => {
      const points = member('member', { '2026-05': 100 });
      addQualifying(points, 0, now, now, 12);
      expect(points.qualifying).toEqual({ '2026-05': 100 });
    });

    it('takes points away without going below 0', () => {
      const points = member('member', { '2026-05': 100 });
      addQualifying(points, -150, '2026-05-10T00:00:00.000Z', now, 12);
      expect(points.qualifying).toEqual({ '2026-05': 0 });
    });
  });

  describe('upgradeTier', () => {
    it('moves the member up when the window reaches a higher tier', () => {
      const points = member('member', { '2026-11': 1000 });
      expect(upgradeTier(points, now, policy)).toEqual({ from: 'member', to: 'silver' });
      expect(points.tier).toEqual({ code: 'silver', since: now });
    });

    it('skips tiers on the way up', () => {
      const points = member('member', { '2026-04': 3000, '2026-11': 3000 });
      expect(upgradeTier(points, now, policy)).toEqual({ from: 'member', to: 'gold' });
      expect(points.tier).toEqual({ code: 'gold', since: now });
    });

    it('never moves a member down, nor sideways', () => {
      const gold = member('gold', { '2026-11': 10 });
      expect(upgradeTier(gold, now, policy)).toBeNull();
      expect(gold.tier).toEqual({ code: 'gold', since });
      const silver = member('silver', { '2026-11': 1200 });
      expect(upgradeTier(silver, now, policy)).toBeNull();
      expect(silver.tier).toEqual({ code: 'silver', since });
    });

    it('counts only the window ending now', () => {
      const points = member('member', { '2025-10': 2000 });
      expect(upgradeTier(points, now, policy)).toBeNull();
    });

    it('replaces a tier the program removed with the tier the window reaches', () => {
      const points = member('platinum', { '2026-11': 1000 });
      expect(upgradeTier(points, now, policy)).toEqual({ from: 'platinum', to: 'silver' });
      expect(points.tier).toEqual({ code: 'silver', since: now });
    });
  });

  describe('tierReviewDate', () => {
    it('is the first month start at which the window falls below the current tier', () => {
      // 5500 until 2026-03 leaves the window: on 2027-03-01 only 2500 remain
      const gold = member('gold', { '2026-03': 3000, '2026-08': 2500 });
      expect(tierReviewDate(gold, now, policy)).toBe('2027-03-01');
    });

    it('waits while later months still reach the tier', () => {
      const silver = member('silver', { '2026-01': 1000, '2026-11': 1000 });
      expect(tierReviewDate(silver, now, policy)).toBe('2027-11-01');
    });

    it('is the next month start when the window is already below the tier', () => {
      expect(tierReviewDate(member('silver', { '2026-11': 500 }), now, policy)).toBe('2026-12-01');
    });

    it('comes a full window after a tier reached within the current month', () => {
      const silver = member('silver', { '2026-11': 1000 });
      expect(tierReviewDate(silver, now, policy)).toBe('2027-11-01');
      expect(tierReviewDate(silver, now, { tiers, tierWindowMonths: 3 })).toBe('2027-02-01');
      expect(tierReviewDate(silver, now, { tiers, tierWindowMonths: 1 })).toBe('2026-12-01');
    });

    it('counts from the month start after `at`, even at the first instant of a month', () => {
      const silver = member('silver', { '2026-01': 1000 });
      expect(tierReviewDate(silver, '2026-12-01T00:00:00.000Z', policy)).toBe('2027-01-01');
    });

    it('is null in the entry tier, whatever the points', () => {
      expect(tierReviewDate(member('member', { '2026-11': 6000 }), now, policy)).toBeNull();
      // A removed tier is reviewed next month, which puts the member on a tier that exists.
      expect(tierReviewDate(member('platinum', { '2026-11': 6000 }), now, policy)).toBe('2026-12-01');
    });
  });

  describe('tierProgress', () => {
    it('shows what keeping the top tier takes, and no next tier', () => {
      const gold = member('gold', { '2026-03': 3000, '2026-08': 2500 });
      expect(tierProgress(gold, now, policy)).toEqual({
        qualifyingPoints: 5500,
        review: { on: '2027-03-01', pointsToKeep: 2500, countingFrom: '2026-04-01' },
        next: null,
      });
    });

    it('shows what keeping the tier takes and what the next one needs', () => {
      const silver = member('silver', { '2026-03': 600, '2026-10': 700 });
      expect(tierProgress(silver, now, policy)).toEqual({
        qualifyingPoints: 1300,
        review: { on: '2027-03-01', pointsToKeep: 300, countingFrom: '2026-04-01' },
        next: { code: 'gold', pointsNeeded: 3700 },
      });
    });

    it('has no review in the entry tier', () => {
      expect(tierProgress(member('member', { '2026-11': 400 }), now, policy)).toEqual({
        qualifyingPoints: 400,
        review: null,
        next: { code: 'silver', pointsNeeded: 600 },
      });
    });

    it('needs 0 points for a next tier the window already reaches', () => {
      const silver = member('silver', { '2026-11': 6000 });
      expect(tierProgress(silver, now, policy)).toEqual({
        qualifyingPoints: 6000,
        review: { on: '2027-11-01', pointsToKeep: 1000, countingFrom: '2026-12-01' },
        next: { code: 'gold', pointsNeeded: 0 },
      });
    });

    it('says from when points count when the review is a full window away (this month no longer will)', () => {
      // Prepare: silver reached this month; its review is 12 months out, when 2026-11 leaves the window
      const silver = member('silver', { '2026-11': 1000 });
      expect(tierProgress(silver, now, policy).review).toEqual({
        on: '2027-11-01',
        pointsToKeep: 1000,
        countingFrom: '2026-12-01',
      });

      // Act: the member earns the points shown, this month
      const earnedNow = structuredClone(silver);
      addQualifying(earnedNow, 1000, now, now, 12);

      // Assess: the same points are still asked for, and the review still downgrades
      expect(tierProgress(earnedNow, now, policy).review).toEqual({
        on: '2027-11-01',
        pointsToKeep: 1000,
        countingFrom: '2026-12-01',
      });
      expect(reviewTier(structuredClone(earnedNow), '2027-11-01T00:00:00.000Z', policy)).toEqual({
        from: 'silver',
        to: 'member',
      });

      // ... whereas the same points earned next month keep the tier past that date
      const nextMonth = '2026-12-10T00:00:00.000Z';
      const earnedLater = structuredClone(silver);
      addQualifying(earnedLater, 1000, nextMonth, nextMonth, 12);
      expect(tierReviewDate(earnedLater, nextMonth, policy)).toBe('2027-12-01');
      expect(reviewTier(earnedLater, '2027-11-01T00:00:00.000Z', policy)).toBeNull();
    });
  });

  describe('reviewTier', () => {
    const gold = () => member('gold', { '2026-03': 3000, '2026-08': 2500 });

    it('moves a member down to the tier the window still reaches', () => {
      const points = gold();
      expect(reviewTier(points, '2027-03-01T00:00:00.000Z', policy)).toEqual({ from: 'gold', to: 'silver' });
      expect(points.tier).toEqual({ code: 'silver', since: '2027-03-01T00:00:00.000Z' });
    });

    it('moves a member down several tiers when the window reaches none of them', () => {
      const points = gold();
      expect(reviewTier(points, '2027-09-01T00:00:00.000Z', policy)).toEqual({ from: 'gold', to: 'member' });
      expect(points.tier).toEqual({ code: 'member', since: '2027-09-01T00:00:00.000Z' });
    });

    it('keeps a member whose window still reaches the tier', () => {
      const points = gold();
      expect(reviewTier(points, '2027-02-01T00:00:00.000Z', policy)).toBeNull();
      expect(points.tier).toEqual({ code: 'gold', since });
    });

    it('never moves a member up', () => {
      const points = member('silver', { '2026-11': 6000 });
      expect(reviewTier(points, now, policy)).toBeNull();
      expect(points.tier).toEqual({ code: 'silver', since });
    });

    it('moves a member off a tier the program removed, to the tier the window reaches', () => {
      const points = member('platinum', {});
      expect(reviewTier(points, now, policy)).toEqual({ from: 'platinum', to: 'member' });
      expect(points.tier).toEqual({ code: 'member', since: now });
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/** The months of the window ending now (2025-12 … 2026-11). */
const windowMonths = Array.from({ length: 12 }, (_, i) => monthOf(startOfMonthAfter(now, -i)));
const tieredArb = fc
  .record({
    tier: fc.constantFrom('silver', 'gold'),
    qualifying: fc.dictionary(fc.constantFrom(...windowMonths), fc.integer({ min: 0, max: 3000 }), {
      maxKeys: 12,
    }),
  })
  .map(({ tier, qualifying }) => member(tier, qualifying));

describe('tiers (properties)', () => {
  it('reviews nobody down before the review date, and down on it', () => {
    fc.assert(
      fc.property(tieredArb, (points) => {
        const review = tierReviewDate(points, now, policy);
        expect(review).not.toBeNull();
        const reviewAt = `${review}T00:00:00.000Z`;
        expect(review! > dayOf(now)).toBe(true);
        expect(review! <= dayOf(startOfMonthAfter(now, policy.tierWindowMonths))).toBe(true);
        for (let months = 1; dayOf(startOfMonthAfter(now, months)) < review!; months++) {
          expect(reviewTier(structuredClone(points), startOfMonthAfter(now, months), policy)).toBeNull();
        }
        const reviewed = structuredClone(points);
        expect(reviewTier(reviewed, reviewAt, policy)).toEqual({
          from: points.tier.code,
          to: tierFor(qualifyingPoints(points, reviewAt, 12), tiers).code,
        });
      }),
    );
  });

  it('keeps the tier with exactly review.pointsToKeep earned now, when this month is still in the window on the review date', () => {
    fc.assert(
      fc.property(tieredArb, (points) => {
        const progress = tierProgress(points, now, policy);
        const review = progress.review!;
        fc.pre(review.on < dayOf(startOfMonthAfter(now, policy.tierWindowMonths)));
        const reviewAt = `${review.on}T00:00:00.000Z`;
        expect(review.pointsToKeep).toBeGreaterThan(0);

        const enough = structuredClone(points);
        addQualifying(enough, review.pointsToKeep, now, now, 12);
        expect(reviewTier(enough, reviewAt, policy)).toBeNull();

        const short = structuredClone(points);
        addQualifying(short, review.pointsToKeep - 1, now, now, 12);
        expect(reviewTier(short, reviewAt, policy)).not.toBeNull();
      }),
    );
  });

  it('upgrades to the higher of the current tier and the tier the window reaches', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('member', 'silver', 'gold'),
        fc.dictionary(fc.constantFrom(...windowMonths), fc.integer({ min: 0, max: 4000 })),
        (tier, qualifying) => {
          const points = member(tier, qualifying);
          const before = currentTier(points, tiers);
          const reached = tierFor(qualifyingPoints(points, now, 12), tiers);
          const changed = upgradeTier(points, now, policy);
          const after = currentTier(points, tiers);
          expect(after.minQualifyingPoints).toBe(
            Math.max(before.minQualifyingPoints, reached.minQualifyingPoints),
          );
          expect(changed).toEqual(after.code === before.code ? null : { from: before.code, to: after.code });
        },
      ),
    );
  });
});
