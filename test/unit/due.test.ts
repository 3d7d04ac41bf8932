import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueDates, expireDue, lotsToNotice, settleDue } from '../../lambdas/domain/due.ts';
import {
  emptyMemberPoints,
  type Hold,
  isExpired,
  type MemberPoints,
  NEVER,
  sum,
} from '../../lambdas/domain/member-ledger.ts';
import { applyHold, applyReversal } from '../../lambdas/domain/movements.ts';
import type { TierPolicy } from '../../lambdas/domain/tiers.ts';
import { tiers } from '../support/tiers.ts';

const tierPolicy: TierPolicy = { tierWindowMonths: 12, tiers };
const now = '2026-11-23T10:00:00.000Z';

function position(overrides: Partial<MemberPoints> = {}): MemberPoints {
  return { ...emptyMemberPoints('member', '2026-01-01T00:00:00.000Z'), ...overrides };
}

function hold(points: number, lots: Hold['lots'], expiresAt: string): Hold {
  return { points, lots, expiresAt, rewardUnit: 'rwd_1', partnerId: 'p1' };
}

const lotTotal = (points: MemberPoints) => Object.values(points.lots).reduce((a, b) => a + b, 0);
const pendingTotal = (points: MemberPoints) => Object.values(points.pendingLots).reduce((a, b) => a + b, 0);

describe('due', () => {
  describe('settleDue: maturation', () => {
    const K1 = '2026-12-08T00:00:00.000Z|2027-12-01';
    const K2 = '2026-12-09T00:00:00.000Z|never';
    const pending = () =>
      position({
        available: 10,
        lots: { '2027-12-01': 10 },
        pending: 120,
        pendingLots: { [K1]: 50, [K2]: 70 },
      });

    it('moves pending lots whose availableAt has come into their posted lots', () => {
      // Prepare
      const before = pending();

      // Act
      const matured = settleDue(before, '2026-12-08T00:00:00.000Z');

      // Assess
      expect(matured.maturedPoints).toBe(50);
      expect(matured.points).toEqual(
        position({
          available: 60,
          lots: { '2027-12-01': 60 },
          pending: 70,
          pendingLots: { [K2]: 70 },
        }),
      );
      expect(before).toEqual(pending());
    });

    it('leaves a pending lot until the instant it becomes available', () => {
      const matured = settleDue(pending(), '2026-12-07T23:59:59.999Z');
      expect(matured.maturedPoints).toBe(0);
      expect(matured.points).toEqual(pending());
    });

    it('matures every lot that is due, each into its own expiry lot', () => {
      const matured = settleDue(pending(), '2027-01-01T00:00:00.000Z');
      expect(matured.maturedPoints).toBe(120);
      expect(matured.points.lots).toEqual({ '2027-12-01': 60, never: 70 });
      expect(matured.points.available).toBe(130);
      expect(matured.points.pending).toBe(0);
      expect(matured.points.pendingLots).toEqual({});
    });

    it('pays a debt with the matured points first', () => {
      const before = position({ available: -30, pending: 50, pendingLots: { [K1]: 50 } });
      const matured = settleDue(before, '2026-12-08T00:00:00.000Z');
      expect(matured.maturedPoints).toBe(50);
      expect(matured.points.available).toBe(20);
      expect(matured.points.lots).toEqual({ '2027-12-01': 20 });
    });
  });

  describe('expireDue', () => {
    it('takes out every lot whose expiry date has come, soonest first', () => {
      const before = position({ available: 35, lots: { '2026-12-01': 20, '2026-11-01': 10, never: 5 } });
      const { points, expired } = expireDue(before, '2026-12-01T00:00:00.000Z');
      expect(expired).toEqual([
        { expiryKey: '2026-11-01', points: 10 },
        { expiryKey: '2026-12-01', points: 20 },
      ]);
      expect(points.lots).toEqual({ never: 5 });
      expect(points.available).toBe(5);
    });
  });

  describe('settleDue', () => {
    it('expires lots whose expiry date has come and lists them soonest first', () => {
      // Prepare
      const before = position({
        available: 42,
        lots: { '2026-12-01': 20, '2026-11-01': 10, never: 7, '2026-10-01': 5 },
      });

      // Act
      const settled = settleDue(before, '2026-11-15T12:00:00.000Z');

      // Assess
      expect(settled).toEqual({
        points: position({ available: 27, lots: { '2026-12-01': 20, never: 7 } }),
        releasedHolds: [],
        expired: [
          { expiryKey: '2026-10-01', points: 5 },
          { expiryKey: '2026-11-01', points: 10 },
        ],
        expiredPoints: 15,
        maturedPoints: 0,
      });
    });

    it('expires a lot from the first instant of its expiry date, not before', () => {
      const before = position({ available: 20, lots: { '2026-12-01': 20 } });
      expect(settleDue(before, '2026-11-30T23:59:59.999Z').expiredPoints).toBe(0);
      expect(settleDue(before, '2026-12-01T00:00:00.000Z').expired).toEqual([
        { expiryKey: '2026-12-01', points: 20 },
      ]);
    });

    it('never expires never-expiring points', () => {
      const before = position({ available: 20, lots: { never: 20 } });
      const settled = settleDue(before, '2199-12-31T23:59:59.999Z');
      expect(settled.expired).toEqual([]);
      expect(settled.points).toEqual(before);
    });

    it('matures pending points, reporting how many', () => {
      const before = position({
        pending: 50,
        pendingLots: { '2026-12-08T00:00:00.000Z|2027-12-01': 50 },
      });
      const settled = settleDue(before, '2026-12-10T00:00:00.000Z');
      expect(settled.maturedPoints).toBe(50);
      expect(settled.expired).toEqual([]);
      expect(settled.points).toEqual(position({ available: 50, lots: { '2027-12-01': 50 } }));
    });

    it('expires pending points that mature after their expiry date in the same settlement', () => {
      // A pending period longer than the time to expiry: the points are gone the moment they mature.
      const before = position({ pending: 40, pendingLots: { '2027-01-22T00:00:00.000Z|2027-01-01': 40 } });
      const settled = settleDue(before, '2027-01-25T00:00:00.000Z');
      expect(settled.maturedPoints).toBe(40);
      expect(settled.expired).toEqual([{ expiryKey: '2027-01-01', points: 40 }]);
      expect(settled.points).toEqual(position());
    });

    it('releases expired holds before expiring lots: a hold over an expiry date comes back and expires', () => {
      // Prepare: 30 held (20 of a lot gone on 2026-12-01, 10 expiring 2027-06-01), hold over on 2026-11-30
      const overdue = hold(
        30,
        [
          { expiryKey: '2026-12-01', points: 20 },
          { expiryKey: '2027-06-01', points: 10 },
        ],
        '2026-11-30T10:00:00.000Z',
      );
      const before = position({
        available: 10,
        lots: { '2027-06-01': 10 },
        held: 30,
        holds: { red_1: overdue },
      });

      // Act
      const settled = settleDue(before, '2026-12-02T00:00:00.000Z');

      // Assess
      expect(settled.releasedHolds).toEqual([{ redemptionId: 'red_1', hold: overdue }]);
      expect(settled.expired).toEqual([{ expiryKey: '2026-12-01', points: 20 }]);
      expect(settled.expiredPoints).toBe(20);
      expect(settled.points).toEqual(position({ available: 20, lots: { '2027-06-01': 20 } }));
    });

    it('releases a hold at the instant it expires, and keeps one not yet expired even over an expiry date', () => {
      // Prepare
      const lots = [{ expiryKey: '2026-12-01', points: 20 }];
      const before = position({
        held: 40,
        holds: {
          red_due: hold(20, lots, '2026-12-02T00:00:00.000Z'),
          red_open: hold(20, lots, '2026-12-02T00:00:00.001Z'),
        },
      });

      // Act
      const settled = settleDue(before, '2026-12-02T00:00:00.000Z');

      // Assess: the open hold keeps its lot (held points are not expired while held)
      expect(settled.releasedHolds.map((released) => released.redemptionId)).toEqual(['red_due']);
      expect(settled.expired).toEqual([{ expiryKey: '2026-12-01', points: 20 }]);
      expect(settled.points.holds).toEqual({ red_open: hold(20, lots, '2026-12-02T00:00:00.001Z') });
      expect(settled.points.held).toBe(20);
      expect(settled.points.available).toBe(0);
      expect(settled.points.lots).toEqual({});
    });

    it('pays a debt with the points of an expired hold before they would expire', () => {
      // Prepare: a reversal put the member in debt while 100 points were held; without the hold it
      // would have taken 30 of those very points, so paying the debt with them changes nothing.
      const held = applyHold(
        position({ available: 100, lots: { '2026-12-01': 100 } }),
        'red_1',
        100,
        '2026-11-30T23:50:00.000Z',
        null,
        null,
      );
      const reversed = applyReversal(
        held,
        { pendingKey: null, expiresAt: '2026-12-01T00:00:00.000Z', occurredAt: '2026-11-01T00:00:00.000Z' },
        30,
        '2026-11-30T23:00:00.000Z',
        { expiryMonths: 12, pendingDays: 0, allowNegativeBalance: true, ...tierPolicy },
      ).points;

      // Act
      const settled = settleDue(reversed, '2026-12-01T00:05:00.000Z');

      // Assess
      expect(reversed.available).toBe(-30);
      expect(settled.expired).toEqual([{ expiryKey: '2026-12-01', points: 70 }]);
      expect(settled.points.available).toBe(0);
      expect(settled.points.lots).toEqual({});
    });

    it('settles a debt in the order things fell due, whether or not a job ran in between', () => {
      // Prepare: a debt of 30; a hold over on 2026-11-30 10:00 (its lot expires 2026-12-01); 100
      // pending points available on 2026-12-01. In time order, the released hold pays the debt
      // (its points are still valid on 30 Nov), then its remaining 70 expire, then 100 mature.
      const before = position({
        available: -30,
        held: 100,
        holds: { red_1: hold(100, [{ expiryKey: '2026-12-01', points: 100 }], '2026-11-30T10:00:00.000Z') },
        pending: 100,
        pendingLots: { '2026-12-01T00:00:00.000Z|2027-12-01': 100 },
      });

      // Act: once with the hold job on time, once with nothing run until 2 December
      const jobOnTime = settleDue(
        settleDue(before, '2026-11-30T10:00:00.000Z').points,
        '2026-12-02T00:00:00.000Z',
      );
      const settledOnce = settleDue(before, '2026-12-02T00:00:00.000Z');

      // Assess
      expect(jobOnTime.points.available).toBe(100);
      expect(jobOnTime.points.lots).toEqual({ '2027-12-01': 100 });
      expect(jobOnTime.expired).toEqual([{ expiryKey: '2026-12-01', points: 70 }]);
      // Settling once matures everything first, so the pending points pay the debt and all 100 held
      // points expire: the member ends with 70, not 100, only because no job ran on 30 November.
      expect(settledOnce.points).toEqual(jobOnTime.points);
      expect(settledOnce.expired).toEqual([{ expiryKey: '2026-12-01', points: 70 }]);
    });

    it('matures pending lots in the order they became available, not the order they were earned', () => {
      // Prepare: a debt of 30; 100 pending points available on 2026-12-20 (expiring 2027-12-01),
      // then a backdated purchase recorded later whose 100 points were available on 2026-12-10
      // (expiring 2027-01-01). In time order the 2026-12-10 points pay the debt.
      const before = position({
        available: -30,
        pending: 200,
        pendingLots: {
          '2026-12-20T00:00:00.000Z|2027-12-01': 100,
          '2026-12-10T00:00:00.000Z|2027-01-01': 100,
        },
      });

      // Act
      const jobOnTime = settleDue(
        settleDue(before, '2026-12-15T00:00:00.000Z').points,
        '2027-01-05T00:00:00.000Z',
      );
      const settledOnce = settleDue(before, '2027-01-05T00:00:00.000Z');

      // Assess
      expect(jobOnTime.points).toEqual(position({ available: 100, lots: { '2027-12-01': 100 } }));
      expect(jobOnTime.expired).toEqual([{ expiryKey: '2027-01-01', points: 70 }]);
      // Settling once takes the pending lots in insertion order: the 2026-12-20 points pay the
      // debt and all 100 of the 2027-01-01 points expire (the member ends with 70).
      expect(settledOnce.points).toEqual(jobOnTime.points);
      expect(settledOnce.expired).toEqual([{ expiryKey: '2027-01-01', points: 70 }]);
    });

    it('is a no-op when nothing is due, and does not mutate its input', () => {
      const before = position({
        available: 10,
        lots: { '2027-06-01': 10 },
        held: 5,
        holds: { red_1: hold(5, [{ expiryKey: '2027-06-01', points: 5 }], '2026-11-23T10:30:00.000Z') },
        pending: 7,
        pendingLots: { '2026-12-08T00:00:00.000Z|never': 7 },
      });
      const copy = structuredClone(before);
      const settled = settleDue(before, now);
      expect(settled).toEqual({
        points: copy,
        releasedHolds: [],
        expired: [],
        expiredPoints: 0,
        maturedPoints: 0,
      });
      settleDue(before, '2030-01-01T00:00:00.000Z');
      expect(before).toEqual(copy);
    });
  });

  describe('lotsToNotice', () => {
    const lots = () =>
      position({
        available: 95,
        lots: { '2027-02-01': 40, never: 5, '2027-01-01': 30, '2026-12-01': 20 },
      });

    it('lists lots expiring within noticeDays after asOf, soonest first', () => {
      expect(lotsToNotice(lots(), now, 30)).toEqual([{ expiryKey: '2026-12-01', points: 20 }]);
      expect(lotsToNotice(lots(), now, 70)).toEqual([
        { expiryKey: '2026-12-01', points: 20 },
        { expiryKey: '2027-01-01', points: 30 },
        { expiryKey: '2027-02-01', points: 40 },
      ]);
    });

    it('includes a lot expiring exactly on the horizon day', () => {
      // 2026-11-23 + 39 days = 2027-01-01; + 38 days = 2026-12-31
      expect(lotsToNotice(lots(), now, 39)).toEqual([
        { expiryKey: '2026-12-01', points: 20 },
        { expiryKey: '2027-01-01', points: 30 },
      ]);
      expect(lotsToNotice(lots(), now, 38)).toEqual([{ expiryKey: '2026-12-01', points: 20 }]);
    });

    it('skips lots already noticed', () => {
      const noticed = { ...lots(), noticedLots: ['2026-12-01'] };
      expect(lotsToNotice(noticed, now, 70)).toEqual([
        { expiryKey: '2027-01-01', points: 30 },
        { expiryKey: '2027-02-01', points: 40 },
      ]);
      expect(
        lotsToNotice({ ...lots(), noticedLots: ['2026-12-01', '2027-01-01', '2027-02-01'] }, now, 70),
      ).toEqual([]);
    });

    it('notices a lot that arrives later, expiring before lots already noticed', () => {
      // e.g. a transfer brings points expiring 2026-12-01 after 2027-01-01 was noticed
      const points = { ...lots(), noticedLots: ['2027-01-01'] };
      expect(lotsToNotice(points, now, 39)).toEqual([{ expiryKey: '2026-12-01', points: 20 }]);
    });

    it('skips never-expiring lots and lots gone by asOf', () => {
      expect(lotsToNotice(lots(), '2026-12-01T08:00:00.000Z', 31)).toEqual([
        { expiryKey: '2027-01-01', points: 30 },
      ]);
      expect(lotsToNotice(position({ available: 5, lots: { never: 5 } }), now, 365)).toEqual([]);
      expect(lotsToNotice(lots(), now, 0)).toEqual([]);
    });
  });

  describe('dueDates', () => {
    const busy = () =>
      position({
        available: 150,
        lots: { never: 100, '2027-12-01': 30, '2027-06-01': 20 },
        pending: 75,
        pendingLots: { '2026-12-09T00:00:00.000Z|2027-12-01': 70, '2026-12-08T00:00:00.000Z|never': 5 },
        noticedLots: ['2027-06-01'],
        qualifying: { '2026-03': 600, '2026-10': 700 },
        tier: { code: 'silver', since: '2026-10-15T00:00:00.000Z' },
      });

    it('has nothing due for a new member', () => {
      expect(dueDates(position(), now, tierPolicy)).toEqual({
        expire: null,
        notice: null,
        mature: null,
        review: null,
        warn: null,
      });
    });

    it('gives the soonest lot, the soonest lot not noticed, the soonest maturity and the tier review', () => {
      expect(dueDates(busy(), now, tierPolicy)).toEqual({
        expire: '2027-06-01',
        notice: '2027-12-01',
        mature: '2026-12-08T00:00:00.000Z',
        review: '2027-03-01',
        warn: '2027-03-01',
      });
    });

    it('no longer asks for a warning once it was sent for that review date', () => {
      const warned = { ...busy(), tierWarnedFor: '2027-03-01' };
      expect(dueDates(warned, now, tierPolicy)).toMatchObject({ review: '2027-03-01', warn: null });
      const warnedEarlier = { ...busy(), tierWarnedFor: '2027-02-01' };
      expect(dueDates(warnedEarlier, now, tierPolicy)).toMatchObject({
        review: '2027-03-01',
        warn: '2027-03-01',
      });
    });

    it('ignores never-expiring points and needs no notice once every lot was noticed', () => {
      const neverOnly = position({ available: 5, lots: { never: 5 } });
      expect(dueDates(neverOnly, now, tierPolicy)).toMatchObject({ expire: null, notice: null });
      const allNoticed = { ...busy(), noticedLots: ['2027-06-01', '2027-12-01'] };
      expect(dueDates(allNoticed, now, tierPolicy)).toMatchObject({ expire: '2027-06-01', notice: null });
      const noneNoticed = { ...busy(), noticedLots: [] };
      expect(dueDates(noneNoticed, now, tierPolicy)).toMatchObject({ notice: '2027-06-01' });
    });

    it('has nothing to expire for a member in debt', () => {
      expect(dueDates(position({ available: -10 }), now, tierPolicy)).toMatchObject({
        expire: null,
        notice: null,
      });
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const keys = ['2026-10-01', '2026-11-01', '2026-12-01', '2027-01-01', '2027-03-01', NEVER];
const availableAts = ['2026-11-20T00:00:00.000Z', '2026-12-01T00:00:00.000Z', '2027-01-10T00:00:00.000Z'];
const holdExpiries = ['2026-11-10T09:00:00.000Z', '2026-11-30T23:50:00.000Z', '2027-01-05T12:00:00.000Z'];
const instants = fc
  .integer({ min: Date.parse('2026-10-15T00:00:00.000Z'), max: Date.parse('2027-04-15T00:00:00.000Z') })
  .map((ms) => new Date(ms).toISOString());
const lotsArb = fc.dictionary(fc.constantFrom(...keys), fc.integer({ min: 1, max: 500 }));

/** A consistent position with lots, pending lots and holds; in debt (no lots) when `debt` > 0. */
const positionArb = fc
  .record({
    lots: lotsArb,
    pendingLots: fc.dictionary(
      fc.tuple(fc.constantFrom(...availableAts), fc.constantFrom(...keys)).map(([at, key]) => `${at}|${key}`),
      fc.integer({ min: 1, max: 500 }),
    ),
    holds: fc.array(fc.tuple(lotsArb, fc.constantFrom(...holdExpiries)), { maxLength: 4 }),
    debt: fc.oneof(
      { weight: 2, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 200 }) },
    ),
  })
  .map(({ lots, pendingLots, holds, debt }) => {
    const points = position({ pendingLots, pending: Object.values(pendingLots).reduce((a, b) => a + b, 0) });
    if (debt > 0) points.available = -debt;
    else {
      points.lots = lots;
      points.available = Object.values(lots).reduce((a, b) => a + b, 0);
    }
    holds.forEach(([held, expiresAt], index) => {
      const heldLots = Object.entries(held)
        .map(([expiryKey, value]) => ({ expiryKey, points: value }))
        .sort((a, b) =>
          a.expiryKey === NEVER ? 1 : b.expiryKey === NEVER ? -1 : a.expiryKey.localeCompare(b.expiryKey),
        );
      if (heldLots.length === 0) return;
      points.holds[`red_${index}`] = hold(sum(heldLots), heldLots, expiresAt);
      points.held += sum(heldLots);
    });
    return points;
  });

describe('due (properties)', () => {
  it('leaves nothing due and loses exactly the expired points', () => {
    fc.assert(
      fc.property(positionArb, instants, (before, at) => {
        const settled = settleDue(before, at);
        const after = settled.points;
        // nothing due any more
        expect(Object.keys(after.lots).every((key) => !isExpired(key, at))).toBe(true);
        expect(Object.values(after.holds).every((held) => held.expiresAt > at)).toBe(true);
        expect(Object.keys(after.pendingLots).every((key) => key.split('|')[0]! > at)).toBe(true);
        // conservation
        expect(after.available + after.pending + after.held).toBe(
          before.available + before.pending + before.held - settled.expiredPoints,
        );
        expect(settled.expiredPoints).toBe(sum(settled.expired));
        expect(settled.maturedPoints).toBe(before.pending - after.pending);
        expect(after.held).toBe(before.held - settled.releasedHolds.reduce((t, r) => t + r.hold.points, 0));
        // invariants
        expect(lotTotal(after)).toBe(Math.max(after.available, 0));
        if (after.available < 0) expect(after.lots).toEqual({});
        expect(Object.values(after.lots).every((lot) => lot > 0)).toBe(true);
        expect(pendingTotal(after)).toBe(after.pending);
        expect(Object.values(after.holds).reduce((t, h) => t + sum(h.lots), 0)).toBe(after.held);
        // expired soonest first, each once
        const expiredKeys = settled.expired.map((lot) => lot.expiryKey);
        expect(expiredKeys).toEqual([...new Set(expiredKeys)].sort());
        // settling again at the same instant changes nothing
        expect(settleDue(after, at)).toEqual({
          points: after,
          releasedHolds: [],
          expired: [],
          expiredPoints: 0,
          maturedPoints: 0,
        });
      }),
    );
  });

  it('settles without a debt to the same position whether or not a job ran in between', () => {
    fc.assert(
      fc.property(positionArb, instants, instants, (before, a, b) => {
        fc.pre(before.available >= 0);
        const [first, second] = a <= b ? [a, b] : [b, a];
        const once = settleDue(before, second);
        const step = settleDue(before, first);
        const twice = settleDue(step.points, second);
        expect(twice.points).toEqual(once.points);
        expect(step.expiredPoints + twice.expiredPoints).toBe(once.expiredPoints);
        expect(step.maturedPoints + twice.maturedPoints).toBe(once.maturedPoints);
        expect(
          [...step.releasedHolds, ...twice.releasedHolds].map((released) => released.redemptionId).sort(),
        ).toEqual(once.releasedHolds.map((released) => released.redemptionId).sort());
      }),
    );
  });

  it('notices each lot once when the notice job records what it sent', () => {
    fc.assert(
      fc.property(
        lotsArb,
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 60 }),
        (lots, steps, noticeDays) => {
          let points = position({ lots, available: Object.values(lots).reduce((a, b) => a + b, 0) });
          let asOf = '2026-10-15T06:00:00.000Z';
          const noticed: string[] = [];
          for (const days of steps) {
            asOf = new Date(Date.parse(asOf) + days * 86_400_000).toISOString();
            const batch = lotsToNotice(points, asOf, noticeDays);
            for (const lot of batch) {
              expect(lot.expiryKey > asOf.slice(0, 10)).toBe(true);
              expect(lot.points).toBe(lots[lot.expiryKey]);
              noticed.push(lot.expiryKey);
            }
            points = {
              ...points,
              noticedLots: [...points.noticedLots, ...batch.map((lot) => lot.expiryKey)],
            };
            expect(dueDates(points, asOf, { tierWindowMonths: 12, tiers }).notice).toBe(
              Object.keys(points.lots)
                .filter((key) => key !== NEVER && !points.noticedLots.includes(key))
                .sort()[0] ?? null,
            );
          }
          expect(noticed).toEqual([...new Set(noticed)].sort());
        },
      ),
    );
  });
});
