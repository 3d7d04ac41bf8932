import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expireDue, settleDue } from '../../lambdas/domain/due.ts';
import { ConflictError, InsufficientPointsError } from '../../lambdas/domain/errors.ts';
import {
  credit,
  emptyMemberPoints,
  expiryKeyFor,
  expiryKeyOf,
  isExpired,
  type LedgerPolicy,
  type LotPoints,
  lotsInSpendingOrder,
  type MemberPoints,
  NEVER,
  spend,
  sum,
  takeFromLots,
} from '../../lambdas/domain/member-ledger.ts';
import {
  applyAdjustment,
  applyCapture,
  applyCredit,
  applyEarn,
  applyHold,
  applyRedemption,
  applyRefund,
  applyRelease,
  applyReversal,
  applyTransferIn,
  applyTransferOut,
  type EarnReversed,
  forfeitAll,
  MAX_OPEN_HOLDS,
  pendingKeyOf,
} from '../../lambdas/domain/movements.ts';
import { currentTier } from '../../lambdas/domain/tiers.ts';
import { addDays } from '../../lambdas/domain/time.ts';
import { tiers } from '../support/tiers.ts';

const policy: LedgerPolicy = { expiryMonths: 12, pendingDays: 0, tierWindowMonths: 12, tiers };
const strict = { ...policy, allowNegativeBalance: false };
const lenient = { ...policy, allowNegativeBalance: true };
const now = '2026-11-23T10:00:00.000Z';
const holdExpiry = '2026-11-23T10:30:00.000Z';

/** A position built by hand: the fields given, the rest as a new member's. */
function position(overrides: Partial<MemberPoints> = {}): MemberPoints {
  return { ...emptyMemberPoints('member', '2026-01-01T00:00:00.000Z'), ...overrides };
}

/** 150 points: 20 expiring 2027-06-01, 30 expiring 2027-12-01, 100 that never expire. */
const wallet = () => position({ available: 150, lots: { '2027-06-01': 20, '2027-12-01': 30, never: 100 } });

/** `wallet()` with 40 points held for `red_1` (the 20 of 2027-06-01 and 20 of 2027-12-01). */
const withHold = () => applyHold(wallet(), 'red_1', 40, holdExpiry, 'rwd_1', 'p1');

const lotSum = (points: MemberPoints) => Object.values(points.lots).reduce((a, b) => a + b, 0);

describe('movements', () => {
  describe('credit', () => {
    it('adds points to the lot of their expiry key, creating or growing it', () => {
      // Prepare
      const points = wallet();

      // Act
      credit(points, '2027-06-01', 5);
      credit(points, '2028-01-01', 7);

      // Assess
      expect(points.lots).toEqual({ '2027-06-01': 25, '2027-12-01': 30, never: 100, '2028-01-01': 7 });
      expect(points.available).toBe(162);
    });

    it('pays a debt first and puts only what is left over into the lot', () => {
      // Prepare
      const points = position({ available: -50 });

      // Act
      credit(points, '2027-12-01', 30);

      // Assess
      expect(points.available).toBe(-20);
      expect(points.lots).toEqual({});

      // Act
      credit(points, '2027-12-01', 80);

      // Assess
      expect(points.available).toBe(60);
      expect(points.lots).toEqual({ '2027-12-01': 60 });
    });

    it('pays a debt of exactly the amount without creating an empty lot', () => {
      const points = position({ available: -30 });
      credit(points, NEVER, 30);
      expect(points.available).toBe(0);
      expect(points.lots).toEqual({});
    });

    it('ignores zero and negative amounts', () => {
      const points = wallet();
      credit(points, '2027-06-01', 0);
      credit(points, '2027-06-01', -5);
      expect(points).toEqual(wallet());
    });
  });

  describe('takeFromLots', () => {
    it('takes the soonest-expiring lots first and never-expiring points last', () => {
      // Prepare
      const points = wallet();

      // Act
      const taken = takeFromLots(points, 60);

      // Assess
      expect(taken).toEqual([
        { expiryKey: '2027-06-01', points: 20 },
        { expiryKey: '2027-12-01', points: 30 },
        { expiryKey: NEVER, points: 10 },
      ]);
      expect(points.lots).toEqual({ never: 90 });
      expect(points.available).toBe(150); // the caller moves available
    });

    it('takes from the preferred lot first, then soonest-expiring first', () => {
      const points = wallet();
      const taken = takeFromLots(points, 40, '2027-12-01');
      expect(taken).toEqual([
        { expiryKey: '2027-12-01', points: 30 },
        { expiryKey: '2027-06-01', points: 10 },
      ]);
      expect(points.lots).toEqual({ '2027-06-01': 10, never: 100 });
    });

    it('can prefer the never-expiring lot', () => {
      const points = wallet();
      const taken = takeFromLots(points, 110, NEVER);
      expect(taken).toEqual([
        { expiryKey: NEVER, points: 100 },
        { expiryKey: '2027-06-01', points: 10 },
      ]);
      expect(points.lots).toEqual({ '2027-06-01': 10, '2027-12-01': 30 });
    });

    it('ignores a preferred lot the member does not have', () => {
      const points = wallet();
      const taken = takeFromLots(points, 25, '2028-01-01');
      expect(taken).toEqual([
        { expiryKey: '2027-06-01', points: 20 },
        { expiryKey: '2027-12-01', points: 5 },
      ]);
    });

    it('takes at most what the lots hold, and nothing for 0', () => {
      const points = wallet();
      expect(takeFromLots(points, 0)).toEqual([]);
      expect(points.lots).toEqual(wallet().lots);
      const taken = takeFromLots(points, 500);
      expect(sum(taken)).toBe(150);
      expect(points.lots).toEqual({});
    });

    it('skips empty lots', () => {
      const points = position({ available: 10, lots: { '2027-01-01': 0, '2027-02-01': 10 } });
      expect(takeFromLots(points, 10)).toEqual([{ expiryKey: '2027-02-01', points: 10 }]);
    });
  });

  describe('spend', () => {
    it('spends FIFO by expiry and lowers available by what was spent', () => {
      const points = wallet();
      const taken = spend(points, 35);
      expect(taken).toEqual([
        { expiryKey: '2027-06-01', points: 20 },
        { expiryKey: '2027-12-01', points: 15 },
      ]);
      expect(points.available).toBe(115);
      expect(points.lots).toEqual({ '2027-12-01': 15, never: 100 });
    });

    it('spends every point there is', () => {
      const points = wallet();
      expect(sum(spend(points, 150))).toBe(150);
      expect(points.available).toBe(0);
      expect(points.lots).toEqual({});
    });

    it('refuses to overdraw with insufficient-points (409), touching nothing', () => {
      // Prepare
      const points = wallet();

      // Act
      let error: unknown;
      try {
        spend(points, 151);
      } catch (caught) {
        error = caught;
      }

      // Assess
      expect(error).toBeInstanceOf(InsufficientPointsError);
      expect(error).toMatchObject({
        status: 409,
        type: 'insufficient-points',
        message: 'The member has 150 points available; 151 were requested.',
      });
      expect(points).toEqual(wallet());
    });

    it('reports 0 available to a member in debt', () => {
      const points = position({ available: -20 });
      expect(() => spend(points, 1)).toThrow('The member has 0 points available; 1 were requested.');
    });

    it('fails loudly when the lots hold less than available (a corrupt position)', () => {
      const points = position({ available: 50, lots: { '2027-12-01': 40 } });
      expect(() => spend(points, 50)).toThrow('lots hold less than available for a member (short by 10)');
    });
  });

  describe('applyCredit', () => {
    it('posts points now as a lot expiring like points earned today, into lifetime when asked', () => {
      const applied = applyCredit(wallet(), 50, now, policy, { lifetime: true });
      expect(applied.expiresAt).toBe('2027-12-01T00:00:00.000Z');
      expect(applied.points.lots).toEqual({ '2027-06-01': 20, '2027-12-01': 80, never: 100 });
      expect(applied.points.available).toBe(200);
      expect(applied.points.lifetimeEarned).toBe(50);
      expect(applyCredit(wallet(), 50, now, policy, { lifetime: false }).points.lifetimeEarned).toBe(0);
    });
  });

  describe('applyHold', () => {
    it('moves points from available to held, remembering the lots they came from', () => {
      // Prepare
      const before = wallet();

      // Act
      const points = applyHold(before, 'red_1', 40, holdExpiry, 'rwd_1', 'p1');

      // Assess
      expect(points.available).toBe(110);
      expect(points.held).toBe(40);
      expect(points.lots).toEqual({ '2027-12-01': 10, never: 100 });
      expect(points.holds).toEqual({
        red_1: {
          points: 40,
          lots: [
            { expiryKey: '2027-06-01', points: 20 },
            { expiryKey: '2027-12-01', points: 20 },
          ],
          expiresAt: holdExpiry,
          rewardUnit: 'rwd_1',
          partnerId: 'p1',
        },
      });
      expect(points.lifetimeRedeemed).toBe(0);
      expect(before).toEqual(wallet());
    });

    it('cannot reserve held points twice', () => {
      const points = withHold();
      expect(() => applyHold(points, 'red_2', 111, holdExpiry, null, null)).toThrow(
        'The member has 110 points available; 111 were requested.',
      );
      expect(applyHold(points, 'red_2', 110, holdExpiry, null, null).available).toBe(0);
    });

    it(`allows at most ${MAX_OPEN_HOLDS} open holds`, () => {
      // Prepare
      let points = position({ available: 100, lots: { never: 100 } });
      for (let i = 0; i < MAX_OPEN_HOLDS; i++)
        points = applyHold(points, `red_${i}`, 1, holdExpiry, null, null);

      // Act
      let error: unknown;
      try {
        applyHold(points, 'red_extra', 1, holdExpiry, null, null);
      } catch (caught) {
        error = caught;
      }

      // Assess
      expect(MAX_OPEN_HOLDS).toBe(50);
      expect(Object.keys(points.holds)).toHaveLength(50);
      expect(points.held).toBe(50);
      expect(points.available).toBe(50);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({
        status: 409,
        message: 'The member already has 50 open holds; capture or release one first.',
      });
      const afterRelease = applyHold(applyRelease(points, 'red_0'), 'red_extra', 1, holdExpiry, null, null);
      expect(Object.keys(afterRelease.holds)).toHaveLength(50);
      expect(afterRelease.held).toBe(50);
    });
  });

  describe('applyCapture', () => {
    it('captures a hold in full: its lots are spent, nothing is released', () => {
      const applied = applyCapture(withHold(), 'red_1', 40);
      expect(applied.consumed).toEqual([
        { expiryKey: '2027-06-01', points: 20 },
        { expiryKey: '2027-12-01', points: 20 },
      ]);
      expect(applied.released).toBe(0);
      expect(applied.points).toEqual(
        position({ available: 110, lots: { '2027-12-01': 10, never: 100 }, lifetimeRedeemed: 40 }),
      );
    });

    it('spends the soonest-expiring held lots in a partial capture and credits the rest back', () => {
      const applied = applyCapture(withHold(), 'red_1', 25);
      expect(applied.consumed).toEqual([
        { expiryKey: '2027-06-01', points: 20 },
        { expiryKey: '2027-12-01', points: 5 },
      ]);
      expect(applied.released).toBe(15);
      expect(applied.points).toEqual(
        position({ available: 125, lots: { '2027-12-01': 25, never: 100 }, lifetimeRedeemed: 25 }),
      );
    });

    it('gives back part of the first held lot and all of the later ones', () => {
      const applied = applyCapture(withHold(), 'red_1', 5);
      expect(applied.consumed).toEqual([{ expiryKey: '2027-06-01', points: 5 }]);
      expect(applied.released).toBe(35);
      expect(applied.points.lots).toEqual({ '2027-06-01': 15, '2027-12-01': 30, never: 100 });
      expect(applied.points.available).toBe(145);
    });

    it('pays a debt with the released points first', () => {
      // Prepare: the member fell into debt (a reversal) while the hold was open
      const held = withHold();
      const before = { ...held, available: -10, lots: {} };

      // Act
      const applied = applyCapture(before, 'red_1', 25);

      // Assess
      expect(applied.points.available).toBe(5);
      expect(applied.points.lots).toEqual({ '2027-12-01': 5 });
      expect(applied.points.held).toBe(0);
    });

    it('leaves other holds alone', () => {
      const points = applyHold(withHold(), 'red_2', 10, holdExpiry, null, 'p2');
      const applied = applyCapture(points, 'red_1', 40);
      expect(Object.keys(applied.points.holds)).toEqual(['red_2']);
      expect(applied.points.held).toBe(10);
    });

    it('refuses an unknown hold', () => {
      expect(() => applyCapture(wallet(), 'red_x', 1)).toThrow('no open hold red_x on the member');
    });
  });

  describe('applyRelease', () => {
    it('gives the points back to the lots they came from', () => {
      const released = applyRelease(withHold(), 'red_1');
      expect(released).toEqual(wallet());
    });

    it('gives back a lot whose expiry passed while held with its original key', () => {
      // Prepare: 30 points of a lot gone since 2026-12-01 were held across that date
      const before = position({
        available: 0,
        held: 30,
        holds: {
          red_1: {
            points: 30,
            lots: [{ expiryKey: '2026-12-01', points: 30 }],
            expiresAt: '2026-12-01T05:00:00.000Z',
            rewardUnit: null,
            partnerId: null,
          },
        },
      });

      // Act
      const released = applyRelease(before, 'red_1');

      // Assess: back as it was (the next settlement expires it)
      expect(released.lots).toEqual({ '2026-12-01': 30 });
      expect(released.available).toBe(30);
      expect(released.held).toBe(0);
      expect(released.holds).toEqual({});
    });

    it('pays a debt first', () => {
      const before = { ...withHold(), available: -15, lots: {} };
      const released = applyRelease(before, 'red_1');
      expect(released.available).toBe(25);
      expect(released.lots).toEqual({ '2027-12-01': 20, '2027-06-01': 5 });
    });

    it('refuses an unknown hold', () => {
      expect(() => applyRelease(wallet(), 'red_x')).toThrow('no open hold red_x on the member');
    });
  });

  describe('applyRefund', () => {
    // Redeeming 60 of wallet() consumed these lots, soonest first.
    const consumed: LotPoints[] = [
      { expiryKey: '2027-06-01', points: 20 },
      { expiryKey: '2027-12-01', points: 30 },
      { expiryKey: NEVER, points: 10 },
    ];
    const redeemed = () => applyRedemption(wallet(), 60).points;

    it('is what the redemption recorded', () => {
      const applied = applyRedemption(wallet(), 60);
      expect(applied.consumed).toEqual(consumed);
      expect(applied.points).toEqual(position({ available: 90, lots: { never: 90 }, lifetimeRedeemed: 60 }));
    });

    it('gives everything back to the lots it came from, latest-expiring first', () => {
      const applied = applyRefund(redeemed(), consumed, 0, 60, now, policy);
      expect(applied.returned).toEqual([
        { expiryKey: NEVER, points: 10 },
        { expiryKey: '2027-12-01', points: 30 },
        { expiryKey: '2027-06-01', points: 20 },
      ]);
      expect(applied.points).toEqual(wallet());
    });

    it('refunds part from the latest-expiring consumed lots', () => {
      const applied = applyRefund(redeemed(), consumed, 0, 25, now, policy);
      expect(applied.returned).toEqual([
        { expiryKey: NEVER, points: 10 },
        { expiryKey: '2027-12-01', points: 15 },
      ]);
      expect(applied.points.lots).toEqual({ never: 100, '2027-12-01': 15 });
      expect(applied.points.available).toBe(115);
      expect(applied.points.lifetimeRedeemed).toBe(35);
    });

    it('continues a partial refund where the earlier ones stopped (alreadyRefunded)', () => {
      // Prepare
      const first = applyRefund(redeemed(), consumed, 0, 25, now, policy);

      // Act
      const second = applyRefund(first.points, consumed, 25, 20, now, policy);
      const third = applyRefund(second.points, consumed, 45, 15, now, policy);

      // Assess
      expect(second.returned).toEqual([
        { expiryKey: '2027-12-01', points: 15 },
        { expiryKey: '2027-06-01', points: 5 },
      ]);
      expect(second.points.lots).toEqual({ never: 100, '2027-12-01': 30, '2027-06-01': 5 });
      expect(second.points.lifetimeRedeemed).toBe(15);
      expect(third.returned).toEqual([{ expiryKey: '2027-06-01', points: 15 }]);
      expect(third.points).toEqual(wallet());
    });

    it('skips a lot refunded exactly to its boundary', () => {
      const applied = applyRefund(redeemed(), consumed, 10, 30, now, policy);
      expect(applied.returned).toEqual([{ expiryKey: '2027-12-01', points: 30 }]);
    });

    it('gives an expired lot back as a fresh lot expiring as points earned today would', () => {
      // 2027-06-01 has passed on 2027-07-10; points earned then expire on 2028-08-01.
      const applied = applyRefund(redeemed(), consumed, 0, 60, '2027-07-10T08:00:00.000Z', policy);
      expect(expiryKeyFor('2027-07-10T08:00:00.000Z', 12)).toBe('2028-08-01');
      expect(applied.returned).toEqual([
        { expiryKey: NEVER, points: 10 },
        { expiryKey: '2027-12-01', points: 30 },
        { expiryKey: '2028-08-01', points: 20 },
      ]);
      expect(applied.points.lots).toEqual({ never: 100, '2027-12-01': 30, '2028-08-01': 20 });
    });

    it('treats a lot as expired from the first instant of its expiry day', () => {
      const onTheDay = applyRefund(redeemed(), consumed, 40, 20, '2027-06-01T00:00:00.000Z', policy);
      expect(onTheDay.returned).toEqual([{ expiryKey: '2028-07-01', points: 20 }]);
      const dayBefore = applyRefund(redeemed(), consumed, 40, 20, '2027-05-31T23:59:59.999Z', policy);
      expect(dayBefore.returned).toEqual([{ expiryKey: '2027-06-01', points: 20 }]);
    });

    it('gives expired points back as never-expiring when the program no longer expires points', () => {
      const applied = applyRefund(redeemed(), consumed, 40, 20, '2027-07-10T08:00:00.000Z', {
        expiryMonths: null,
      });
      expect(applied.returned).toEqual([{ expiryKey: NEVER, points: 20 }]);
      expect(applied.points.lots).toEqual({ never: 110 });
    });

    it('lists expired lots that land in the same fresh lot on one line', () => {
      const before = position({ lifetimeRedeemed: 20 });
      const twoOld: LotPoints[] = [
        { expiryKey: '2027-01-01', points: 10 },
        { expiryKey: '2027-02-01', points: 10 },
      ];
      const applied = applyRefund(before, twoOld, 0, 20, '2027-03-15T00:00:00.000Z', policy);
      expect(applied.returned).toEqual([{ expiryKey: '2028-04-01', points: 20 }]);
      expect(applied.points.lots).toEqual({ '2028-04-01': 20 });
      expect(applied.points.available).toBe(20);
    });

    it('pays a debt first', () => {
      const before = position({ available: -15, lifetimeRedeemed: 40 });
      const applied = applyRefund(before, [{ expiryKey: '2027-12-01', points: 40 }], 0, 40, now, policy);
      expect(applied.points.available).toBe(25);
      expect(applied.points.lots).toEqual({ '2027-12-01': 25 });
      expect(applied.points.lifetimeRedeemed).toBe(0);
    });

    it('refuses to refund more than the redemption consumed', () => {
      const points = redeemed();
      expect(() => applyRefund(points, consumed, 0, 61, now, policy)).toThrow(
        'refund exceeds what the redemption consumed',
      );
      expect(() => applyRefund(points, consumed, 50, 11, now, policy)).toThrow(
        'refund exceeds what the redemption consumed',
      );
      expect(applyRefund(points, consumed, 50, 10, now, policy).returned).toEqual([
        { expiryKey: '2027-06-01', points: 10 },
      ]);
      expect(points).toEqual(redeemed());
    });
  });

  describe('applyReversal', () => {
    const K1 = '2026-12-08T00:00:00.000Z|2027-12-01';
    const K2 = '2026-12-09T00:00:00.000Z|2027-12-01';
    const reversalAt = '2026-11-25T12:00:00.000Z';
    /** 300 posted (100 expiring 2027-06-01, 200 2027-12-01), 50 + 70 pending on two days. */
    const mixed = () =>
      position({
        available: 300,
        pending: 120,
        lifetimeEarned: 420,
        lots: { '2027-06-01': 100, '2027-12-01': 200 },
        pendingLots: { [K1]: 50, [K2]: 70 },
        qualifying: { '2026-11': 420 },
      });
    const pendingEarn: EarnReversed = {
      pendingKey: K1,
      expiresAt: '2027-12-01T00:00:00.000Z',
      occurredAt: '2026-11-24T09:00:00.000Z',
    };
    const postedEarn: EarnReversed = { ...pendingEarn, pendingKey: null };

    it('cancels pending points of the earn first, then takes the rest from its lot', () => {
      const applied = applyReversal(mixed(), pendingEarn, 80, reversalAt, strict);
      expect(applied).toMatchObject({ reversed: 80, fromPending: 50, shortfall: 0 });
      expect(applied.points).toEqual(
        position({
          available: 270,
          pending: 70,
          lifetimeEarned: 340,
          lots: { '2027-06-01': 100, '2027-12-01': 170 },
          pendingLots: { [K2]: 70 },
          qualifying: { '2026-11': 340 },
        }),
      );
    });

    it('cancels only part of the pending lot when less is reversed', () => {
      const applied = applyReversal(mixed(), pendingEarn, 20, reversalAt, strict);
      expect(applied).toMatchObject({ reversed: 20, fromPending: 20, shortfall: 0 });
      expect(applied.points.pendingLots).toEqual({ [K1]: 30, [K2]: 70 });
      expect(applied.points.pending).toBe(100);
      expect(applied.points.lots).toEqual(mixed().lots);
      expect(applied.points.available).toBe(300);
    });

    it("never cancels another earn's pending points", () => {
      const applied = applyReversal(mixed(), pendingEarn, 200, reversalAt, strict);
      expect(applied.fromPending).toBe(50);
      expect(applied.points.pendingLots).toEqual({ [K2]: 70 });
      expect(applied.points.pending).toBe(70);
      expect(applied.points.lots).toEqual({ '2027-06-01': 100, '2027-12-01': 50 });
      expect(applied.points.available).toBe(150);
    });

    it('takes from the lots when the pending lot has matured meanwhile', () => {
      const before = { ...mixed(), pendingLots: { [K2]: 70 }, pending: 70 };
      const applied = applyReversal(before, pendingEarn, 30, reversalAt, strict);
      expect(applied.fromPending).toBe(0);
      expect(applied.points.lots).toEqual({ '2027-06-01': 100, '2027-12-01': 170 });
      expect(applied.points.pendingLots).toEqual({ [K2]: 70 });
    });

    it("takes the earn's own lot first, then soonest-expiring first", () => {
      const before = position({
        available: 180,
        lots: { '2027-06-01': 100, '2027-12-01': 30, never: 50 },
        lifetimeEarned: 180,
      });
      const applied = applyReversal(before, postedEarn, 60, reversalAt, strict);
      expect(applied).toMatchObject({ reversed: 60, fromPending: 0, shortfall: 0 });
      expect(applied.points.lots).toEqual({ '2027-06-01': 70, never: 50 });
      expect(applied.points.available).toBe(120);
      expect(applied.points.lifetimeEarned).toBe(120);
    });

    it('takes never-expiring points first for an earn that never expires', () => {
      const before = position({ available: 180, lots: { '2027-06-01': 100, '2027-12-01': 30, never: 50 } });
      const applied = applyReversal(before, { ...postedEarn, expiresAt: null }, 60, reversalAt, strict);
      expect(applied.points.lots).toEqual({ '2027-06-01': 90, '2027-12-01': 30 });
    });

    it('takes what is left and reports the shortfall without a negative balance', () => {
      const before = position({
        available: 30,
        lots: { '2027-12-01': 30 },
        lifetimeEarned: 500,
        qualifying: { '2026-11': 500 },
      });
      const applied = applyReversal(before, postedEarn, 100, reversalAt, strict);
      expect(applied).toMatchObject({ reversed: 30, fromPending: 0, shortfall: 70 });
      expect(applied.points.available).toBe(0);
      expect(applied.points.lots).toEqual({});
      expect(applied.points.lifetimeEarned).toBe(470);
      // qualifying points of the purchase go in full, shortfall or not
      expect(applied.points.qualifying).toEqual({ '2026-11': 400 });
    });

    it('runs into debt for what was already spent where a negative balance is allowed', () => {
      const before = position({
        available: 30,
        lots: { '2027-12-01': 30 },
        lifetimeEarned: 500,
        qualifying: { '2026-11': 500 },
      });
      const applied = applyReversal(before, postedEarn, 100, reversalAt, lenient);
      expect(applied).toMatchObject({ reversed: 100, fromPending: 0, shortfall: 0 });
      expect(applied.points.available).toBe(-70);
      expect(applied.points.lots).toEqual({});
      expect(applied.points.lifetimeEarned).toBe(400);
      expect(applied.points.qualifying).toEqual({ '2026-11': 400 });
    });

    it('deepens an existing debt, or takes nothing without a negative balance', () => {
      const before = position({ available: -20, lifetimeEarned: 100 });
      const lenientApplied = applyReversal(before, postedEarn, 10, reversalAt, lenient);
      expect(lenientApplied).toMatchObject({ reversed: 10, shortfall: 0 });
      expect(lenientApplied.points.available).toBe(-30);
      const strictApplied = applyReversal(before, postedEarn, 10, reversalAt, strict);
      expect(strictApplied).toMatchObject({ reversed: 0, shortfall: 10 });
      expect(strictApplied.points.available).toBe(-20);
      expect(strictApplied.points.lifetimeEarned).toBe(100);
    });

    it('never takes held points', () => {
      const before = applyHold(wallet(), 'red_1', 150, holdExpiry, null, null);
      const applied = applyReversal(before, postedEarn, 40, reversalAt, strict);
      expect(applied).toMatchObject({ reversed: 0, shortfall: 40 });
      expect(applied.points.held).toBe(150);
      expect(applied.points.holds).toEqual(before.holds);
    });

    it("reduces the qualifying points of the earn's month, not below 0", () => {
      const before = position({
        available: 500,
        lots: { never: 500 },
        qualifying: { '2026-09': 300, '2026-11': 50 },
      });
      const september = applyReversal(
        before,
        { ...postedEarn, occurredAt: '2026-09-10T00:00:00.000Z' },
        100,
        reversalAt,
        strict,
      );
      expect(september.points.qualifying).toEqual({ '2026-09': 200, '2026-11': 50 });
      const november = applyReversal(before, postedEarn, 100, reversalAt, strict);
      expect(november.points.qualifying).toEqual({ '2026-09': 300, '2026-11': 0 });
    });

    it('leaves qualifying points alone for a purchase outside the window, pruning old months', () => {
      const before = position({
        available: 500,
        lots: { never: 500 },
        qualifying: { '2025-10': 300, '2026-11': 400 },
      });
      const applied = applyReversal(
        before,
        { ...postedEarn, occurredAt: '2025-10-10T00:00:00.000Z' },
        100,
        reversalAt,
        strict,
      );
      expect(applied.points.qualifying).toEqual({ '2026-11': 400 });
    });

    it('does not downgrade the tier (only the review does)', () => {
      const silver = position({
        available: 1000,
        lots: { never: 1000 },
        qualifying: { '2026-11': 1000 },
        tier: { code: 'silver', since: now },
      });
      const applied = applyReversal(silver, postedEarn, 500, reversalAt, strict);
      expect(applied.points.qualifying).toEqual({ '2026-11': 500 });
      expect(applied.points.tier).toEqual({ code: 'silver', since: now });
    });

    it('reverses a pending earn made through applyEarn entirely from its pending lot', () => {
      // Prepare
      const pendingPolicy = { ...policy, pendingDays: 14 };
      const earned = applyEarn(wallet(), 80, now, now, pendingPolicy);
      const earn: EarnReversed = {
        pendingKey: pendingKeyOf(earned.availableAt, expiryKeyOf(earned.expiresAt)),
        expiresAt: earned.expiresAt,
        occurredAt: now,
      };

      // Act
      const applied = applyReversal(earned.points, earn, 80, reversalAt, strict);

      // Assess
      expect(earn.pendingKey).toBe('2026-12-08T00:00:00.000Z|2027-12-01');
      expect(applied).toMatchObject({ reversed: 80, fromPending: 80, shortfall: 0 });
      expect(applied.points.pending).toBe(0);
      expect(applied.points.pendingLots).toEqual({});
      expect(applied.points.lots).toEqual(wallet().lots);
      expect(applied.points.lifetimeEarned).toBe(0);
      expect(applied.points.qualifying).toEqual({ '2026-11': 0 });
    });
  });

  describe('applyAdjustment', () => {
    it('credits a positive correction as a fresh lot, outside lifetime earned', () => {
      const applied = applyAdjustment(wallet(), 50, now, strict);
      expect(applied.expiresAt).toBe('2027-12-01T00:00:00.000Z');
      expect(applied.points.lots).toEqual({ '2027-06-01': 20, '2027-12-01': 80, never: 100 });
      expect(applied.points.available).toBe(200);
      expect(applied.points.lifetimeEarned).toBe(0);
    });

    it('credits a never-expiring lot when the program does not expire points', () => {
      const applied = applyAdjustment(wallet(), 50, now, { ...strict, expiryMonths: null });
      expect(applied.expiresAt).toBeNull();
      expect(applied.points.lots).toEqual({ '2027-06-01': 20, '2027-12-01': 30, never: 150 });
    });

    it('pays a debt with a positive correction first', () => {
      const applied = applyAdjustment(position({ available: -30 }), 50, now, lenient);
      expect(applied.points.available).toBe(20);
      expect(applied.points.lots).toEqual({ '2027-12-01': 20 });
    });

    it('takes a negative correction FIFO by expiry', () => {
      const applied = applyAdjustment(wallet(), -60, now, strict);
      expect(applied.expiresAt).toBeNull();
      expect(applied.points.lots).toEqual({ never: 90 });
      expect(applied.points.available).toBe(90);
      expect(applied.points.lifetimeRedeemed).toBe(0);
    });

    it('refuses a debit beyond available without a negative balance', () => {
      const points = wallet();
      expect(() => applyAdjustment(points, -151, now, strict)).toThrow(InsufficientPointsError);
      expect(() => applyAdjustment(points, -151, now, strict)).toThrow(
        'The member has 150 points available; 151 were requested.',
      );
      expect(points).toEqual(wallet());
    });

    it('debits into a debt where a negative balance is allowed', () => {
      const applied = applyAdjustment(wallet(), -151, now, lenient);
      expect(applied.points.available).toBe(-1);
      expect(applied.points.lots).toEqual({});
      const deeper = applyAdjustment(applied.points, -5, now, lenient);
      expect(deeper.points.available).toBe(-6);
      expect(deeper.points.lots).toEqual({});
    });
  });

  describe('applyTransferOut', () => {
    it('takes points FIFO and hands their lots over, outside lifetime totals', () => {
      const out = applyTransferOut(wallet(), 60);
      expect(out.lots).toEqual([
        { expiryKey: '2027-06-01', points: 20 },
        { expiryKey: '2027-12-01', points: 30 },
        { expiryKey: NEVER, points: 10 },
      ]);
      expect(out.points).toEqual(position({ available: 90, lots: { never: 90 } }));
    });

    it('refuses to send more than available', () => {
      expect(() => applyTransferOut(wallet(), 151)).toThrow(InsufficientPointsError);
    });
  });

  describe('applyTransferIn', () => {
    const sent: LotPoints[] = [
      { expiryKey: '2027-06-01', points: 20 },
      { expiryKey: '2027-12-01', points: 30 },
      { expiryKey: NEVER, points: 10 },
    ];

    it('credits each lot with its own expiry date', () => {
      const received = applyTransferIn(position({ available: 5, lots: { '2027-12-01': 5 } }), sent);
      expect(received).toEqual(
        position({ available: 65, lots: { '2027-06-01': 20, '2027-12-01': 35, never: 10 } }),
      );
    });

    it("pays the receiver's debt first, from the soonest-expiring lot sent", () => {
      const received = applyTransferIn(position({ available: -25 }), sent);
      expect(received.available).toBe(35);
      expect(received.lots).toEqual({ '2027-12-01': 25, never: 10 });
    });
  });

  describe('forfeitAll', () => {
    it('forfeits available and pending points, keeping lifetime totals and tier', () => {
      const before = position({
        ...wallet(),
        pending: 70,
        pendingLots: { '2026-12-09T00:00:00.000Z|2027-12-01': 70 },
        qualifying: { '2026-11': 1220 },
        lifetimeEarned: 1220,
        lifetimeRedeemed: 1000,
        tier: { code: 'silver', since: now },
      });
      const { points, forfeited } = forfeitAll(before);
      expect(forfeited).toBe(220);
      expect(points).toEqual(
        position({
          lifetimeEarned: 1220,
          lifetimeRedeemed: 1000,
          tier: { code: 'silver', since: now },
        }),
      );
    });

    it('forgives a debt: the forfeited total is what the member had, net of it', () => {
      const { points, forfeited } = forfeitAll(
        position({ available: -30, pending: 50, pendingLots: { '2026-12-09T00:00:00.000Z|never': 50 } }),
      );
      expect(forfeited).toBe(20);
      expect(points.available).toBe(0);
      expect(points.pending).toBe(0);
    });

    it('refuses while holds are open', () => {
      expect(() => forfeitAll(withHold())).toThrow('release holds before forfeiting');
      const released = applyRelease(withHold(), 'red_1');
      expect(forfeitAll(released).forfeited).toBe(150);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const lotKeys = ['2027-01-01', '2027-02-01', '2027-06-01', '2027-12-01', '2028-03-01', NEVER];
const lotsArb = fc.dictionary(fc.constantFrom(...lotKeys), fc.integer({ min: 1, max: 1000 }), {
  maxKeys: lotKeys.length,
});
const positionArb = lotsArb.map((lots) =>
  position({ lots, available: Object.values(lots).reduce((a, b) => a + b, 0) }),
);

describe('movements (properties)', () => {
  it('spends soonest-expiring first: every lot before the last one taken is emptied, none after is touched', () => {
    fc.assert(
      fc.property(positionArb, fc.nat(), (before, seed) => {
        fc.pre(before.available > 0);
        const requested = 1 + (seed % before.available);
        const points = structuredClone(before);
        const taken = spend(points, requested);
        const order = lotsInSpendingOrder(before.lots);
        expect(taken.map((lot) => lot.expiryKey)).toEqual(order.slice(0, taken.length));
        for (const lot of taken.slice(0, -1)) expect(lot.points).toBe(before.lots[lot.expiryKey]);
        for (const key of order.slice(taken.length)) expect(points.lots[key]).toBe(before.lots[key]);
        expect(sum(taken)).toBe(requested);
        expect(points.available).toBe(before.available - requested);
      }),
    );
  });

  it('releasing a hold gives back exactly the position before it', () => {
    fc.assert(
      fc.property(positionArb, fc.nat(), (before, seed) => {
        fc.pre(before.available > 0);
        const held = applyHold(before, 'red_1', 1 + (seed % before.available), holdExpiry, null, null);
        expect(applyRelease(held, 'red_1')).toEqual(before);
      }),
    );
  });

  it('capturing part of a hold is the same as redeeming that part directly', () => {
    fc.assert(
      fc.property(positionArb, fc.nat(), fc.nat(), (before, holdSeed, captureSeed) => {
        fc.pre(before.available > 0);
        const holdPoints = 1 + (holdSeed % before.available);
        const captured = 1 + (captureSeed % holdPoints);
        const held = applyHold(before, 'red_1', holdPoints, holdExpiry, null, null);
        const capture = applyCapture(held, 'red_1', captured);
        const redemption = applyRedemption(before, captured);
        expect(capture.points).toEqual(redemption.points);
        expect(capture.consumed).toEqual(redemption.consumed);
        expect(capture.released).toBe(holdPoints - captured);
      }),
    );
  });

  it('refunding a redemption in any chunks gives back what one full refund does', () => {
    fc.assert(
      fc.property(
        positionArb,
        fc.nat(),
        fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 8 }),
        fc.constantFrom(now, '2027-03-10T00:00:00.000Z', '2027-07-10T00:00:00.000Z'),
        (before, seed, chunks, refundAt) => {
          fc.pre(before.available > 0);
          const requested = 1 + (seed % before.available);
          const redemption = applyRedemption(before, requested);
          let points = redemption.points;
          let refunded = 0;
          for (const chunk of chunks) {
            const amount = Math.min(chunk, requested - refunded);
            if (amount === 0) break;
            points = applyRefund(points, redemption.consumed, refunded, amount, refundAt, policy).points;
            refunded += amount;
          }
          const rest = requested - refunded;
          if (rest > 0)
            points = applyRefund(points, redemption.consumed, refunded, rest, refundAt, policy).points;
          const whole = applyRefund(redemption.points, redemption.consumed, 0, requested, refundAt, policy);
          expect(points).toEqual(whole.points);
          expect(sum(whole.returned)).toBe(requested);
          if (refundAt === now) expect(whole.points).toEqual(before);
          expect(() => applyRefund(points, redemption.consumed, requested, 1, refundAt, policy)).toThrow(
            'refund exceeds what the redemption consumed',
          );
        },
      ),
    );
  });

  it('keeps every invariant and conserves points through any sequence of movements', () => {
    const points1 = fc.integer({ min: 1, max: 600 });
    const op = fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), hours: fc.nat(24 * 50) }) },
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant('earn' as const),
          points: points1,
          daysBack: fc.nat(20),
          pendingDays: fc.constantFrom(0, 0, 3, 14),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('credit' as const), points: points1 }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('redeem' as const), points: points1 }) },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('hold' as const),
          points: points1,
          minutes: fc.integer({ min: 1, max: 60 * 24 * 20 }),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({ kind: fc.constant('capture' as const), pick: fc.nat(), share: fc.nat() }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
      {
        weight: 2,
        arbitrary: fc.record({ kind: fc.constant('refund' as const), pick: fc.nat(), share: fc.nat() }),
      },
      {
        weight: 2,
        arbitrary: fc.record({ kind: fc.constant('reverse' as const), pick: fc.nat(), share: fc.nat() }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('adjust' as const),
          delta: fc.integer({ min: -600, max: 600 }).filter((delta) => delta !== 0),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('transferOut' as const), points: points1 }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('transferIn' as const),
          lots: fc.array(fc.record({ months: fc.option(fc.nat(14), { nil: null }), points: points1 }), {
            minLength: 1,
            maxLength: 3,
          }),
        }),
      },
      { weight: 1, arbitrary: fc.constant({ kind: 'forfeit' as const }) },
    );

    fc.assert(
      fc.property(
        fc.array(op, { minLength: 20, maxLength: 80, size: 'max' }),
        fc.constantFrom(1, 2, 12, null),
        fc.boolean(),
        fc.integer({ min: 0, max: 364 }),
        (ops, expiryMonths, allowNegativeBalance, startDay) => {
          const program = { ...policy, expiryMonths, allowNegativeBalance };
          let at = addDays('2026-01-01T09:30:00.000Z', startDay);
          let points = emptyMemberPoints('member', at);
          // What came in and went out, as the ledger entries would record it.
          let inflow = 0;
          let outflow = 0;
          let earned = 0;
          let reversedTotal = 0;
          let redeemed = 0;
          let refunded = 0;
          let holdSeq = 0;
          const earns: (EarnReversed & { points: number; requested: number })[] = [];
          const redemptions: { consumed: LotPoints[]; captured: number; refunded: number }[] = [];

          for (const step of ops) {
            if (step.kind === 'advance') {
              at = new Date(Date.parse(at) + step.hours * 3_600_000).toISOString();
              continue;
            }
            // Every change first brings the position up to now, as the member-change service does.
            const settled = settleDue(points, at);
            points = settled.points;
            outflow += settled.expiredPoints;
            expect(Object.keys(points.lots).every((key) => !isExpired(key, at))).toBe(true);
            expect(Object.values(points.holds).every((hold) => hold.expiresAt > at)).toBe(true);
            expect(Object.keys(points.pendingLots).every((key) => key.split('|')[0]! > at)).toBe(true);
            const tierBefore = currentTier(points, tiers).minQualifyingPoints;

            switch (step.kind) {
              case 'earn': {
                const occurredAt = addDays(at, -step.daysBack);
                const applied = applyEarn(points, step.points, occurredAt, at, {
                  ...program,
                  pendingDays: step.pendingDays,
                });
                points = applied.points;
                inflow += step.points;
                earned += step.points;
                earns.push({
                  points: step.points,
                  requested: 0,
                  pendingKey:
                    applied.status === 'pending'
                      ? pendingKeyOf(applied.availableAt, expiryKeyOf(applied.expiresAt))
                      : null,
                  expiresAt: applied.expiresAt,
                  occurredAt,
                });
                break;
              }
              case 'credit':
                points = applyCredit(points, step.points, at, program, { lifetime: true }).points;
                inflow += step.points;
                earned += step.points;
                break;
              case 'redeem': {
                if (step.points > points.available) {
                  expect(() => applyRedemption(points, step.points)).toThrow(InsufficientPointsError);
                  break;
                }
                const applied = applyRedemption(points, step.points);
                expect(sum(applied.consumed)).toBe(step.points);
                expect(applied.consumed.map((lot) => lot.expiryKey)).toEqual(
                  lotsInSpendingOrder(points.lots).slice(0, applied.consumed.length),
                );
                points = applied.points;
                outflow += step.points;
                redeemed += step.points;
                redemptions.push({ consumed: applied.consumed, captured: step.points, refunded: 0 });
                break;
              }
              case 'hold': {
                const id = `red_${holdSeq++}`;
                const expiresAt = new Date(Date.parse(at) + step.minutes * 60_000).toISOString();
                if (Object.keys(points.holds).length >= MAX_OPEN_HOLDS) {
                  expect(() => applyHold(points, id, step.points, expiresAt, null, null)).toThrow(
                    ConflictError,
                  );
                } else if (step.points > points.available) {
                  expect(() => applyHold(points, id, step.points, expiresAt, null, null)).toThrow(
                    InsufficientPointsError,
                  );
                } else {
                  points = applyHold(points, id, step.points, expiresAt, null, null);
                }
                break;
              }
              case 'capture': {
                const ids = Object.keys(points.holds);
                const id = ids[step.pick % Math.max(ids.length, 1)];
                if (id === undefined) break;
                const hold = points.holds[id]!;
                const captured = 1 + (step.share % hold.points);
                const applied = applyCapture(points, id, captured);
                expect(sum(applied.consumed)).toBe(captured);
                expect(applied.released).toBe(hold.points - captured);
                points = applied.points;
                outflow += captured;
                redeemed += captured;
                redemptions.push({ consumed: applied.consumed, captured, refunded: 0 });
                break;
              }
              case 'release': {
                const ids = Object.keys(points.holds);
                const id = ids[step.pick % Math.max(ids.length, 1)];
                if (id !== undefined) points = applyRelease(points, id);
                break;
              }
              case 'refund': {
                const open = redemptions.filter((r) => r.refunded < r.captured);
                const redemption = open[step.pick % Math.max(open.length, 1)];
                if (!redemption) break;
                const amount = 1 + (step.share % (redemption.captured - redemption.refunded));
                const applied = applyRefund(
                  points,
                  redemption.consumed,
                  redemption.refunded,
                  amount,
                  at,
                  program,
                );
                expect(sum(applied.returned)).toBe(amount);
                expect(applied.returned.every((lot) => !isExpired(lot.expiryKey, at))).toBe(true);
                points = applied.points;
                redemption.refunded += amount;
                inflow += amount;
                refunded += amount;
                break;
              }
              case 'reverse': {
                const open = earns.filter((earn) => earn.requested < earn.points);
                const earn = open[step.pick % Math.max(open.length, 1)];
                if (!earn) break;
                const requested = 1 + (step.share % (earn.points - earn.requested));
                const pendingLot = earn.pendingKey === null ? 0 : (points.pendingLots[earn.pendingKey] ?? 0);
                const availableBefore = points.available;
                const applied = applyReversal(points, earn, requested, at, program);
                expect(applied.reversed + applied.shortfall).toBe(requested);
                expect(applied.fromPending).toBe(Math.min(requested, pendingLot));
                if (allowNegativeBalance) expect(applied.shortfall).toBe(0);
                else
                  expect(applied.shortfall).toBe(
                    Math.max(0, requested - applied.fromPending - Math.max(0, availableBefore)),
                  );
                points = applied.points;
                earn.requested += requested;
                outflow += applied.reversed;
                reversedTotal += applied.reversed;
                break;
              }
              case 'adjust': {
                if (step.delta < 0 && -step.delta > points.available && !allowNegativeBalance) {
                  expect(() => applyAdjustment(points, step.delta, at, program)).toThrow(
                    InsufficientPointsError,
                  );
                  break;
                }
                points = applyAdjustment(points, step.delta, at, program).points;
                if (step.delta > 0) inflow += step.delta;
                else outflow -= step.delta;
                break;
              }
              case 'transferOut': {
                if (step.points > points.available) {
                  expect(() => applyTransferOut(points, step.points)).toThrow(InsufficientPointsError);
                  break;
                }
                const out = applyTransferOut(points, step.points);
                expect(sum(out.lots)).toBe(step.points);
                points = out.points;
                outflow += step.points;
                break;
              }
              case 'transferIn': {
                const lots = step.lots.map((lot) => ({
                  expiryKey: lot.months === null ? NEVER : expiryKeyFor(at, lot.months),
                  points: lot.points,
                }));
                points = applyTransferIn(points, lots);
                inflow += sum(lots);
                break;
              }
              case 'forfeit': {
                // Erasure releases the holds first.
                for (const id of Object.keys(points.holds)) points = applyRelease(points, id);
                const applied = forfeitAll(points);
                points = applied.points;
                outflow += applied.forfeited;
                break;
              }
            }

            // Lots a movement gave back whose expiry has passed expire in the same transaction.
            const late = expireDue(points, at);
            points = late.points;
            outflow += sum(late.expired);

            // Invariants
            const lots = Object.values(points.lots);
            expect(lotSum(points)).toBe(Math.max(points.available, 0));
            if (points.available < 0) expect(lots).toEqual([]);
            if (!allowNegativeBalance) expect(points.available).toBeGreaterThanOrEqual(0);
            expect(lots.every((lot) => Number.isInteger(lot) && lot > 0)).toBe(true);
            const holds = Object.values(points.holds);
            expect(holds.length).toBeLessThanOrEqual(MAX_OPEN_HOLDS);
            expect(holds.reduce((total, hold) => total + hold.points, 0)).toBe(points.held);
            expect(holds.reduce((total, hold) => total + sum(hold.lots), 0)).toBe(points.held);
            expect(holds.every((hold) => hold.lots.every((lot) => lot.points > 0))).toBe(true);
            expect(Object.values(points.pendingLots).reduce((a, b) => a + b, 0)).toBe(points.pending);
            expect(Object.values(points.pendingLots).every((lot) => lot > 0)).toBe(true);
            expect(Object.values(points.qualifying).every((value) => value >= 0)).toBe(true);
            // Conservation: the position holds exactly what came in less what went out.
            expect(points.available + points.pending + points.held).toBe(inflow - outflow);
            expect(points.lifetimeEarned).toBe(earned - reversedTotal);
            expect(points.lifetimeRedeemed).toBe(redeemed - refunded);
            // Movements move a tier up or leave it; only the review moves it down.
            expect(currentTier(points, tiers).minQualifyingPoints).toBeGreaterThanOrEqual(tierBefore);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
