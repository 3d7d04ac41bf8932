import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InsufficientPointsError } from '../../lambdas/domain/errors.ts';
import {
  balancesOf,
  emptyMemberPoints,
  expiryKeyFor,
  type LedgerPolicy,
  NEVER,
} from '../../lambdas/domain/member-ledger.ts';
import { applyEarn, applyRedemption } from '../../lambdas/domain/movements.ts';
import { qualifyingPoints } from '../../lambdas/domain/tiers.ts';
import { tiers } from '../support/tiers.ts';

const policy: LedgerPolicy = { expiryMonths: 12, pendingDays: 0, tierWindowMonths: 12, tiers };
const now = '2026-11-23T10:00:00.000Z';
const fresh = () => emptyMemberPoints('member', '2026-01-01T00:00:00.000Z');

describe('member ledger', () => {
  describe('expiryKeyFor', () => {
    it('expires points earned in month M on the first day of month M+E+1', () => {
      expect(expiryKeyFor('2026-11-23T10:00:00.000Z', 12)).toBe('2027-12-01');
      expect(expiryKeyFor('2026-01-31T23:59:59.000Z', 1)).toBe('2026-03-01');
      expect(expiryKeyFor('2026-11-23T10:00:00.000Z', null)).toBe(NEVER);
    });
  });

  describe('applyEarn', () => {
    it('posts points into the lot of their expiry month', () => {
      const applied = applyEarn(fresh(), 120, now, now, policy);
      expect(applied.status).toBe('posted');
      expect(applied.expiresAt).toBe('2027-12-01T00:00:00.000Z');
      expect(applied.points.lots).toEqual({ '2027-12-01': 120 });
      expect(balancesOf(applied.points)).toEqual({
        available: 120,
        pending: 0,
        reserved: 0,
        lifetimeEarned: 120,
        lifetimeRedeemed: 0,
        expiringNext: { points: 120, on: '2027-12-01' },
      });
    });

    it('holds points as pending until pendingDays after the purchase', () => {
      const applied = applyEarn(fresh(), 50, now, now, { ...policy, pendingDays: 14 });
      expect(applied.status).toBe('pending');
      expect(applied.availableAt).toBe('2026-12-08T00:00:00.000Z');
      expect(applied.points.available).toBe(0);
      expect(applied.points.pending).toBe(50);
    });

    it('posts a backdated purchase at once when its pending period is already over', () => {
      const applied = applyEarn(fresh(), 50, '2026-10-01T00:00:00.000Z', now, { ...policy, pendingDays: 14 });
      expect(applied.status).toBe('posted');
      expect(applied.points.available).toBe(50);
    });

    it('upgrades the tier when qualifying points in the window reach a threshold, never downgrades', () => {
      const silver = applyEarn(fresh(), 1000, now, now, policy);
      expect(silver.tierChanged).toEqual({ from: 'member', to: 'silver' });
      expect(silver.points.tier).toEqual({ code: 'silver', since: now });
      const more = applyEarn(silver.points, 10, now, now, policy);
      expect(more.tierChanged).toBeNull();
      expect(more.points.tier.code).toBe('silver');
    });

    it('does not count purchases older than the tier window towards the tier', () => {
      const old = applyEarn(fresh(), 2000, '2025-06-01T00:00:00.000Z', now, policy);
      expect(qualifyingPoints(old.points, now, 12)).toBe(0);
      expect(old.points.tier.code).toBe('member');
    });
  });

  describe('applyRedemption', () => {
    it('spends the soonest-expiring lot first and never-expiring points last', () => {
      let points = applyEarn(fresh(), 100, now, now, { ...policy, expiryMonths: null }).points;
      points = applyEarn(points, 30, now, now, policy).points; // expires 2027-12-01
      points = applyEarn(points, 20, '2026-05-05T00:00:00.000Z', now, policy).points; // expires 2027-06-01
      const redeemed = applyRedemption(points, 40);
      expect(redeemed.consumed).toEqual([
        { expiryKey: '2027-06-01', points: 20 },
        { expiryKey: '2027-12-01', points: 20 },
      ]);
      expect(redeemed.points.lots).toEqual({ never: 100, '2027-12-01': 10 });
      expect(redeemed.points.available).toBe(110);
      expect(redeemed.points.lifetimeRedeemed).toBe(40);
    });

    it('refuses to overdraw with insufficient-points', () => {
      const points = applyEarn(fresh(), 10, now, now, policy).points;
      expect(() => applyRedemption(points, 11)).toThrow(InsufficientPointsError);
    });
  });

  it('keeps available = Σ lots ≥ 0 through any sequence of earns and redemptions (property)', () => {
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('earn' as const),
        points: fc.integer({ min: 0, max: 5000 }),
        month: fc.integer({ min: 0, max: 30 }),
      }),
      fc.record({ kind: fc.constant('redeem' as const), points: fc.integer({ min: 1, max: 5000 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        let points = fresh();
        let earned = 0;
        let redeemed = 0;
        for (const s of steps) {
          if (s.kind === 'earn') {
            const occurredAt = new Date(Date.UTC(2024, s.month, 15)).toISOString();
            points = applyEarn(points, s.points, occurredAt, now, policy).points;
            earned += s.points;
          } else if (s.points <= points.available) {
            points = applyRedemption(points, s.points).points;
            redeemed += s.points;
          } else {
            expect(() => applyRedemption(points, s.points)).toThrow(InsufficientPointsError);
          }
          const lots = Object.values(points.lots).reduce((a, b) => a + b, 0);
          expect(points.available).toBe(lots);
          expect(points.available).toBeGreaterThanOrEqual(0);
          expect(Object.values(points.lots).every((lot) => lot > 0)).toBe(true);
        }
        expect(points.available).toBe(earned - redeemed);
        expect(points.lifetimeEarned).toBe(earned);
        expect(points.lifetimeRedeemed).toBe(redeemed);
      }),
    );
  });
});

describe('pending lots', () => {
  it('keep one lot per day however many purchases a member makes in it', () => {
    const policy: LedgerPolicy = { expiryMonths: 12, pendingDays: 30, tierWindowMonths: 12, tiers };
    let points = emptyMemberPoints('member', '2026-01-01T00:00:00.000Z');
    for (let minute = 0; minute < 600; minute++) {
      const at = new Date(Date.UTC(2026, 10, 23, 8, minute)).toISOString();
      points = applyEarn(points, 1, at, at, policy).points;
    }
    expect(Object.keys(points.pendingLots)).toEqual(['2026-12-24T00:00:00.000Z|2027-12-01']);
    expect(points.pending).toBe(600);
  });
});
