import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  ForbiddenError,
  GoneError,
  InsufficientPointsError,
  NotFoundError,
  ValidationError,
} from '../../lambdas/domain/errors.ts';
import { defaultProgram, type Program } from '../../lambdas/schemas/program.ts';
import { replaceProgram } from '../../lambdas/services/program.ts';
import { settlementReport } from '../../lambdas/services/reports.ts';
import { createReward } from '../../lambdas/services/rewards.ts';
import type { Store } from '../../lambdas/store/client.ts';
import { keys } from '../../lambdas/store/keys.ts';
import { admin, contextFor, parse, partnerPrincipal, snapshotTable } from '../support/fixtures.ts';
import { createTestPartner, ledgerCalls } from '../support/ledger.ts';
import { createTestStore } from '../support/table.ts';

/**
 * The points lifecycle on DynamoDB Local, through the use cases: holds, refunds, returns,
 * adjustments, transfers, activities, erasure, tiers and the jobs. Each test sets its own clock.
 */
let store: Store;
let calls: ReturnType<typeof ledgerCalls>;
const grocer = partnerPrincipal('grocer');
const fuel = partnerPrincipal('fuel');

const program = (changes: Partial<Program> = {}) =>
  replaceProgram(contextFor(store, admin), { ...defaultProgram, expiryMonths: 12, ...changes });

beforeAll(async () => {
  store = await createTestStore('lifecycle');
  calls = ledgerCalls(store, grocer);
  await createTestPartner(store, 'grocer');
  await createTestPartner(store, 'fuel');
  await program();
});

const at = (iso: string) => ({ now: iso });
/** A reward of the partner's, at `costPoints`, with `inventory` units in stock. */
const newReward = (principal: typeof grocer, name: string, costPoints: number, inventory: number) =>
  createReward(contextFor(store, principal), { name, costPoints, valueMinor: 500, inventory, active: true });
const balances = async (memberId: string, now?: string) => (await calls.member(memberId, now)).balances;

/** Σ ledger = available + pending + reserved: the first invariant, after every step of a test. */
async function expectLedgerBalanced(memberId: string) {
  const entries = await calls.history(memberId);
  const total = entries.reduce((sum, entry) => sum + entry.points, 0);
  const raw = (
    await store.db.send(new GetCommand({ TableName: store.tableName, Key: keys.member(memberId) }))
  ).Item;
  const points = raw?.points as {
    available: number;
    pending: number;
    held: number;
    lots: Record<string, number>;
  };
  expect(total).toBe(points.available + points.pending + points.held);
  const lots = Object.values(points.lots).reduce((sum, value) => sum + value, 0);
  expect(lots).toBe(Math.max(0, points.available));
}

describe('holds', () => {
  it('reserve points, and a capture spends part of them while the rest goes back', async () => {
    const memberId = await calls.newMember();
    await calls.earn(memberId, { amountMinor: 50_000 });
    const held = parse(await calls.hold(memberId, 300, { body: { orderRef: 'cart-1' } }));
    expect(held.redemption).toMatchObject({
      status: 'held',
      points: 300,
      capturedPoints: 0,
      transactionId: null,
    });
    expect(Date.parse(held.redemption.holdExpiresAt) - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(held.balances).toMatchObject({ available: 200, reserved: 300 });
    await expectLedgerBalanced(memberId);

    const captured = parse(await calls.capture(held.redemption.id, 120));
    expect(captured.redemption).toMatchObject({ status: 'captured', capturedPoints: 120 });
    expect(captured.redemption.transactionId).toMatch(/^txn_/);
    expect(captured.balances).toMatchObject({ available: 380, reserved: 0, lifetimeRedeemed: 120 });
    expect((await calls.history(memberId)).map((e) => [e.type, e.points])).toEqual([
      ['redeem', -120],
      ['earn', 500],
    ]);
    await expectLedgerBalanced(memberId);
  });

  it('answer 409 with the current status: capture after release, release after capture', async () => {
    const memberId = await calls.newMember();
    await calls.earn(memberId, { amountMinor: 10_000 });
    const first = parse(await calls.hold(memberId, 10)).redemption.id;
    await calls.release(first);
    // A second release (a till retrying with a new key) answers the same, and gives nothing back twice.
    expect(parse(await calls.release(first)).redemption.status).toBe('released');
    await expect(calls.capture(first)).rejects.toThrow(/is released; only a held redemption can be captured/);
    const second = parse(await calls.hold(memberId, 10)).redemption.id;
    await calls.capture(second);
    const refused = calls.release(second);
    await expect(refused).rejects.toBeInstanceOf(ConflictError);
    await expect(refused).rejects.toThrow(/is captured/);
    expect(await balances(memberId)).toMatchObject({ available: 90, reserved: 0 });
  });

  it('refuse capturing more than held, and capturing part of a reward', async () => {
    const memberId = await calls.newMember();
    await calls.earn(memberId, { amountMinor: 10_000 });
    const id = parse(await calls.hold(memberId, 10)).redemption.id;
    await expect(calls.capture(id, 11)).rejects.toBeInstanceOf(ValidationError);
    const reward = parse(await newReward(grocer, 'Mug', 20, 3));
    const rewardHold = parse(
      await calls.hold(memberId, 0, { body: { points: undefined, rewardId: reward.id } }),
    );
    await expect(calls.capture(rewardHold.redemption.id, 5)).rejects.toBeInstanceOf(ValidationError);
  });

  it('are released with their reward unit by the next change of the member once expired, exactly once', async () => {
    await program({ holdExpiryMinutes: 30 });
    const memberId = await calls.newMember('2026-04-01T09:00:00.000Z');
    await calls.earn(memberId, { amountMinor: 10_000 }, at('2026-04-01T09:00:00.000Z'));
    const reward = parse(await newReward(grocer, 'Cap', 40, 1));
    const held = parse(
      await calls.hold(memberId, 0, {
        body: { points: undefined, rewardId: reward.id },
        now: '2026-04-01T10:00:00.000Z',
      }),
    );
    expect(held.redemption.holdExpiresAt).toBe('2026-04-01T10:30:00.000Z');
    expect(await stockOf(reward.id)).toBe(0);
    // Reads show an expired hold as released before anything is written.
    expect(await balances(memberId, '2026-04-01T10:31:00.000Z')).toMatchObject({
      available: 100,
      reserved: 0,
    });
    expect((await calls.redemption(held.redemption.id, '2026-04-01T10:31:00.000Z')).status).toBe('released');
    await expect(
      calls.capture(held.redemption.id, undefined, at('2026-04-01T10:31:00.000Z')),
    ).rejects.toThrow(/is released/);
    // The next change records the release: the unit is back in stock, the hold off the books.
    await calls.earn(memberId, { amountMinor: 100 }, at('2026-04-01T10:32:00.000Z'));
    expect(await stockOf(reward.id)).toBe(1);
    expect(await storedStatus(held.redemption.id)).toBe('released');
    // The job then finds nothing left to release.
    const job = await calls.job('release-expired-holds', '2026-04-01T11:00:00.000Z');
    expect(await stockOf(reward.id)).toBe(1);
    expect(job).toMatchObject({ job: 'release-expired-holds', complete: true });
    await expectLedgerBalanced(memberId);
  });

  it('are released by the release-expired-holds job when the member does nothing', async () => {
    const memberId = await calls.newMember('2026-04-02T09:00:00.000Z');
    await calls.earn(memberId, { amountMinor: 10_000 }, at('2026-04-02T09:00:00.000Z'));
    const id = parse(await calls.hold(memberId, 60, at('2026-04-02T09:05:00.000Z'))).redemption.id;
    const before = await calls.job('release-expired-holds', '2026-04-02T09:20:00.000Z');
    expect(await storedStatus(id)).toBe('held');
    const after = await calls.job('release-expired-holds', '2026-04-02T09:40:00.000Z');
    expect(after.changed).toBe(before.changed + 1);
    expect(await storedStatus(id)).toBe('released');
    expect(await balances(memberId, '2026-04-02T09:41:00.000Z')).toMatchObject({
      available: 100,
      reserved: 0,
    });
    // A second run for the same day changes nothing.
    expect(await calls.job('release-expired-holds', '2026-04-02T09:45:00.000Z')).toMatchObject({
      changed: after.changed,
    });
  });
});

describe('refunds', () => {
  it('give points back to the lots they came from, cumulatively never more than captured', async () => {
    const memberId = await calls.newMember('2026-01-05T00:00:00.000Z');
    await calls.earn(memberId, { amountMinor: 10_000 }, at('2026-01-05T10:00:00.000Z')); // lot 2027-02-01
    await calls.earn(memberId, { amountMinor: 10_000 }, at('2026-02-05T10:00:00.000Z')); // lot 2027-03-01
    const redeemed = parse(await calls.redeem(memberId, 150, at('2026-02-06T10:00:00.000Z'))).redemption;
    expect((await balances(memberId, '2026-02-06T10:00:00.000Z')).expiringNext).toEqual({
      points: 50,
      on: '2027-03-01',
    });
    // Refunds undo the spending in reverse: the later-expiring lot is refilled first.
    const first = parse(
      await calls.refund(redeemed.id, { points: 60, reason: 'damaged' }, at('2026-02-07T10:00:00.000Z')),
    );
    expect(first.transaction).toMatchObject({
      type: 'refund',
      points: 60,
      reason: 'damaged',
      relatedTransactionId: redeemed.transactionId,
    });
    expect(first.transaction.breakdown).toEqual([
      { rule: 'lot:2027-03-01', points: 50 },
      { rule: 'lot:2027-02-01', points: 10 },
    ]);
    expect(first.redemption).toMatchObject({ status: 'captured', refundedPoints: 60 });
    await expect(calls.refund(redeemed.id, { points: 91 }, at('2026-02-07T11:00:00.000Z'))).rejects.toThrow(
      /Only 90 of the 150 points/,
    );
    const rest = parse(await calls.refund(redeemed.id, {}, at('2026-02-07T12:00:00.000Z')));
    expect(rest.redemption).toMatchObject({ status: 'refunded', refundedPoints: 150 });
    expect(rest.balances).toMatchObject({ available: 200, lifetimeRedeemed: 0 });
    await expect(calls.refund(redeemed.id, {}, at('2026-02-07T13:00:00.000Z'))).rejects.toThrow(
      /is refunded/,
    );
    await expectLedgerBalanced(memberId);
  });

  it('give points whose lot has expired back as a fresh lot (expiring as if earned today)', async () => {
    const memberId = await calls.newMember('2026-01-05T00:00:00.000Z');
    await calls.earn(memberId, { amountMinor: 5_000 }, at('2026-01-05T10:00:00.000Z')); // lot 2027-02-01
    const redeemed = parse(await calls.redeem(memberId, 50, at('2026-01-06T10:00:00.000Z'))).redemption;
    const refunded = parse(await calls.refund(redeemed.id, {}, at('2027-03-10T10:00:00.000Z')));
    expect(refunded.transaction.breakdown).toEqual([{ rule: 'lot:2028-04-01', points: 50 }]);
    expect(refunded.balances).toMatchObject({
      available: 50,
      expiringNext: { points: 50, on: '2028-04-01' },
    });
  });

  it('put a refunded reward unit back in stock and net the reimbursement as charged', async () => {
    const memberId = await calls.newMember();
    await calls.earn(memberId, { amountMinor: 10_000 }, { principal: fuel });
    const reward = parse(await newReward(fuel, 'Wash', 30, 2));
    const today = new Date().toISOString().slice(0, 10);
    const settled = async () =>
      parse(await settlementReport(contextFor(store, fuel), { from: today, to: today, format: 'json' }))
        .partners[0];
    const before = await settled();
    const redemption = parse(
      await calls.redeem(memberId, 0, { principal: fuel, body: { points: undefined, rewardId: reward.id } }),
    ).redemption;
    expect(await stockOf(reward.id)).toBe(1);
    await calls.refund(redemption.id, {}, { principal: fuel });
    expect(await stockOf(reward.id)).toBe(2);
    const after = await settled();
    expect(after.redeemedPoints - before.redeemedPoints).toBe(30);
    expect(after.refundedPoints - before.refundedPoints).toBe(30);
    expect(after.owedToPartnerMinor).toBe(before.owedToPartnerMinor);
  });
});

describe('returns (reversals of earns)', () => {
  it('take points back by amount in proportion, floored, so parts never add up to more than the earn', async () => {
    const memberId = await calls.newMember();
    const earned = parse(await calls.earn(memberId, { amountMinor: 1_000, orderRef: 'r-prop' })).transaction; // 10 points
    const parts = [333, 333, 334];
    const reversed: number[] = [];
    for (const amountMinor of parts) {
      reversed.push(-parse(await calls.reverse(earned.id, { amountMinor })).transaction.points);
    }
    expect(reversed).toEqual([3, 3, 4]);
    await expect(calls.reverse(earned.id, { amountMinor: 1 })).rejects.toThrow(
      /Only 0 of the 1000 minor units/,
    );
    await expect(calls.reverse(earned.id, {})).rejects.toThrow(/already fully reversed/);
    expect(await balances(memberId)).toMatchObject({ available: 0, lifetimeEarned: 0 });
    await expectLedgerBalanced(memberId);
  });

  it('cancel pending points first', async () => {
    await program({ pendingDays: 14 });
    try {
      const memberId = await calls.newMember('2026-06-01T00:00:00.000Z');
      await calls.adjust(memberId, { points: 100, reason: 'welcome' }, at('2026-06-01T00:00:00.000Z'));
      const earned = parse(
        await calls.earn(memberId, { amountMinor: 5_000 }, at('2026-06-01T10:00:00.000Z')),
      ).transaction;
      const reversal = parse(await calls.reverse(earned.id, { points: 20 }, at('2026-06-02T10:00:00.000Z')));
      expect(reversal.reversal).toMatchObject({
        requestedPoints: 20,
        reversedPoints: 20,
        cancelledPendingPoints: 20,
        shortfallPoints: 0,
      });
      expect(reversal.balances).toMatchObject({ available: 100, pending: 30 });
      await expectLedgerBalanced(memberId);
    } finally {
      await program();
    }
  });

  it('report the shortfall when the points were spent and no negative balance is allowed', async () => {
    const memberId = await calls.newMember();
    const earned = parse(
      await calls.earn(memberId, { amountMinor: 10_000, orderRef: 'r-short' }),
    ).transaction;
    await calls.redeem(memberId, 80);
    const reversal = parse(await calls.reverse(earned.id, {}));
    expect(reversal.reversal).toMatchObject({
      requestedPoints: 100,
      reversedPoints: 20,
      shortfallPoints: 80,
    });
    expect(reversal.transaction.points).toBe(-20);
    expect(reversal.balances.available).toBe(0);
    await expect(calls.reverse(earned.id, {})).rejects.toThrow(/already fully reversed/);
    await expectLedgerBalanced(memberId);
  });

  it('take the balance negative where the program allows it; later earns pay the debt first', async () => {
    await program({ allowNegativeBalance: true });
    try {
      const memberId = await calls.newMember();
      const earned = parse(
        await calls.earn(memberId, { amountMinor: 10_000, orderRef: 'r-neg' }),
      ).transaction;
      await calls.redeem(memberId, 80);
      const reversal = parse(await calls.reverse(earned.id, {}));
      expect(reversal.reversal).toMatchObject({ reversedPoints: 100, shortfallPoints: 0 });
      expect(reversal.balances.available).toBe(-80);
      await expect(calls.redeem(memberId, 1)).rejects.toBeInstanceOf(InsufficientPointsError);
      const paid = parse(await calls.earn(memberId, { amountMinor: 10_000 }));
      expect(paid.balances).toMatchObject({ available: 20, expiringNext: { points: 20 } });
      await expectLedgerBalanced(memberId);
    } finally {
      await program();
    }
  });

  it('work from the order reference alone, and net the funding as charged', async () => {
    const memberId = await calls.newMember();
    await calls.earn(memberId, { amountMinor: 4_000, orderRef: 'till-77' }, { principal: fuel });
    const reversal = parse(await calls.reverseOrder('till-77', { amountMinor: 1_000 }, { principal: fuel }));
    expect(reversal.transaction).toMatchObject({
      type: 'reverse',
      points: -10,
      orderRef: 'till-77',
      partnerId: 'fuel',
    });
    // Another partner's order of the same reference is not this one.
    await expect(calls.reverseOrder('till-77', {}, { principal: grocer })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(
      calls.reverseOrder('till-77', { partnerId: 'fuel' }, { principal: admin }),
    ).resolves.toMatchObject({ status: 201 });
  });

  it('refuse reversing anything but an earn, and another partner’s earn', async () => {
    const memberId = await calls.newMember();
    const earned = parse(await calls.earn(memberId, { amountMinor: 1_000 })).transaction;
    const redeemed = parse(await calls.redeem(memberId, 5)).redemption;
    await expect(calls.reverse(redeemed.transactionId)).rejects.toBeInstanceOf(ConflictError);
    await expect(calls.reverse(earned.id, {}, { principal: fuel })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('adjustments, transfers and activities', () => {
  it('adjust with a reason and the acting key, never overdrawing without a negative balance', async () => {
    const memberId = await calls.newMember();
    const credited = parse(await calls.adjust(memberId, { points: 40, reason: 'goodwill' }));
    expect(credited.transaction).toMatchObject({
      type: 'adjust',
      points: 40,
      reason: 'goodwill',
      actorKeyId: 'key_admin',
      partnerId: null,
    });
    await expect(calls.adjust(memberId, { points: -41, reason: 'fix' })).rejects.toBeInstanceOf(
      InsufficientPointsError,
    );
    expect(parse(await calls.adjust(memberId, { points: -40, reason: 'fix' })).balances.available).toBe(0);
  });

  it('transfer lots with their expiry dates, both sides in one transaction', async () => {
    const from = await calls.newMember('2026-01-01T00:00:00.000Z');
    const to = await calls.newMember('2026-01-01T00:00:00.000Z');
    await calls.earn(from, { amountMinor: 3_000 }, at('2026-01-10T10:00:00.000Z')); // lot 2027-02-01
    await calls.earn(from, { amountMinor: 5_000 }, at('2026-03-10T10:00:00.000Z')); // lot 2027-04-01
    const sent = parse(
      await calls.transfer(from, { toMemberId: to, points: 50 }, at('2026-03-11T10:00:00.000Z')),
    );
    expect(sent.transaction).toMatchObject({ type: 'transfer_out', points: -50 });
    expect(sent.transfer.toMemberId).toBe(to);
    const received = await calls.history(to);
    expect(received[0]).toMatchObject({ id: sent.transfer.inTransactionId, type: 'transfer_in', points: 50 });
    expect(received[0]?.breakdown).toEqual([
      { rule: 'lot:2027-02-01', points: 30 },
      { rule: 'lot:2027-04-01', points: 20 },
    ]);
    expect((await balances(to, '2026-03-11T10:00:00.000Z')).expiringNext).toEqual({
      points: 30,
      on: '2027-02-01',
    });
    await expectLedgerBalanced(from);
    await expectLedgerBalanced(to);
    await expect(calls.transfer(from, { toMemberId: from, points: 1 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await program({ transfersEnabled: false });
    try {
      await expect(calls.transfer(from, { toMemberId: to, points: 1 })).rejects.toBeInstanceOf(
        ForbiddenError,
      );
    } finally {
      await program();
    }
  });

  it('award an activity once per (member, type, ref), with the survey score kept for NPS', async () => {
    const memberId = await calls.newMember();
    const review = parse(await calls.activity(memberId, { type: 'review', ref: 'rev-1' }));
    expect(review.transaction).toMatchObject({
      type: 'activity',
      points: 50,
      partnerId: 'grocer',
      orderRef: 'rev-1',
    });
    await expect(calls.activity(memberId, { type: 'review', ref: 'rev-1' })).rejects.toBeInstanceOf(
      ConflictError,
    );
    await calls.activity(memberId, { type: 'survey', ref: 'nps-2026-q1', score: 9 });
    await expect(calls.activity(memberId, { type: 'dance', ref: 'x' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(calls.activity(memberId, { type: 'review', ref: 'rev-2', score: 3 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    const aggregates = await store.db.send(
      new ScanCommand({
        TableName: store.tableName,
        FilterExpression: 'surveyResponses > :z',
        ExpressionAttributeValues: { ':z': 0 },
      }),
    );
    expect(
      aggregates.Items?.reduce((sum, item) => sum + Number(item.surveyPromoters), 0),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe('erasure', () => {
  it('forfeits the balance, removes personal data and refs, keeps the ledger, and refuses later writes with 410', async () => {
    const memberId = parse(
      await (await import('../../lambdas/services/members.ts')).enrolMember(contextFor(store, grocer), {
        externalRef: 'erase-me',
        email: 'gone@example.com',
        name: 'Gone Soon',
      }),
    ).id;
    await calls.earn(memberId, { amountMinor: 7_000 });
    const held = parse(await calls.hold(memberId, 20)).redemption.id;
    const erased = await calls.erase(memberId);
    expect(erased).toMatchObject({ status: 'erased', email: null, name: null, externalRef: null });
    expect(erased.balances).toMatchObject({ available: 0, pending: 0, reserved: 0 });
    expect((await calls.history(memberId)).map((e) => [e.type, e.points])).toEqual([
      ['forfeit', -70],
      ['earn', 70],
    ]);
    expect(await storedStatus(held)).toBe('released');
    const guard = await store.db.send(
      new GetCommand({ TableName: store.tableName, Key: keys.externalRef('grocer', 'erase-me') }),
    );
    expect(guard.Item).toBeUndefined();
    await expect(calls.earn(memberId, {})).rejects.toBeInstanceOf(GoneError);
    const before = await snapshotTable(store);
    expect(await calls.erase(memberId)).toMatchObject({ status: 'erased' });
    expect(await snapshotTable(store)).toBe(before);
  });
});

/** Jobs work table-wide: their tests run on a table of their own, so counts are theirs alone. */
async function ownTable(changes: Partial<Program> = {}) {
  const own = await createTestStore('jobs');
  await createTestPartner(own, 'grocer');
  await replaceProgram(contextFor(own, admin), { ...defaultProgram, expiryMonths: 12, ...changes });
  return { own, jobCalls: ledgerCalls(own, grocer) };
}

describe('tiers', () => {
  const tiers = [
    { code: 'member', name: 'Member', minQualifyingPoints: 0, earnMultiplier: 1 },
    { code: 'silver', name: 'Silver', minQualifyingPoints: 100, earnMultiplier: 1 },
    { code: 'gold', name: 'Gold', minQualifyingPoints: 300, earnMultiplier: 1 },
  ];

  it('go up at once, come down only in the review, warning ahead of it, and show what keeping them takes', async () => {
    const { own, jobCalls: calls } = await ownTable({
      tiers,
      tierWindowMonths: 3,
      tierDowngradeWarningDays: 10,
    });
    {
      const memberId = await calls.newMember('2026-01-01T00:00:00.000Z');
      const earned = parse(
        await calls.earn(memberId, { amountMinor: 35_000 }, at('2026-01-15T10:00:00.000Z')),
      );
      expect(earned.transaction.points).toBe(350);
      const view = await calls.member(memberId, '2026-01-20T00:00:00.000Z');
      // January's points leave a 3-month window on April 1: that is when gold is reviewed.
      expect(view.tier).toMatchObject({
        code: 'gold',
        since: '2026-01-15T10:00:00.000Z',
        qualifyingPoints: 350,
        review: { on: '2026-04-01', pointsToKeep: 300 },
        next: null,
      });
      // Before the warning window: nothing to do.
      expect(await calls.job('tier-review', '2026-03-01T00:00:00.000Z')).toMatchObject({ changed: 0 });
      // Ten days ahead: one warning, once.
      const warned = await calls.job('tier-review', '2026-03-25T00:00:00.000Z');
      expect(warned.changed).toBe(1);
      expect(await calls.job('tier-review', '2026-03-26T00:00:00.000Z')).toMatchObject({ changed: 0 });
      expect(await outboxOf('tier.downgrade_warning', memberId, own)).toEqual([
        expect.objectContaining({ tier: 'gold', reviewOn: '2026-04-01', downgradeTo: 'member' }),
      ]);
      // March earns keep silver, not gold.
      await calls.earn(memberId, { amountMinor: 15_000 }, at('2026-03-28T10:00:00.000Z'));
      expect((await calls.member(memberId, '2026-03-29T00:00:00.000Z')).tier.code).toBe('gold');
      const reviewed = await calls.job('tier-review', '2026-04-02T00:00:00.000Z');
      expect(reviewed.changed).toBeGreaterThanOrEqual(1);
      const after = await calls.member(memberId, '2026-04-02T00:00:00.000Z');
      expect(after.tier).toMatchObject({
        code: 'silver',
        since: '2026-04-02T00:00:00.000Z',
        qualifyingPoints: 150,
      });
      expect(await outboxOf('tier.changed', memberId, own)).toEqual([
        expect.objectContaining({ previous: 'member', current: 'gold', direction: 'up' }),
        expect.objectContaining({ previous: 'gold', current: 'silver', direction: 'down' }),
      ]);
    }
  });
});

describe('expiry job', () => {
  it('expires what is due, sends one notice per lot ahead of time, and is idempotent per day', async () => {
    const { own, jobCalls: calls } = await ownTable({ expiryMonths: 1, expiryNoticeDays: 10 });
    {
      const memberId = await calls.newMember('2030-01-01T00:00:00.000Z');
      await calls.earn(memberId, { amountMinor: 4_000 }, at('2030-01-10T10:00:00.000Z')); // lot 2030-03-01
      await calls.earn(memberId, { amountMinor: 2_000 }, at('2030-02-10T10:00:00.000Z')); // lot 2030-04-01
      const noticed = await calls.job('expire-points', '2030-02-20T00:00:00.000Z');
      expect(noticed.changed).toBe(1);
      expect(await outboxOf('points.expiring', memberId, own)).toEqual([
        expect.objectContaining({ points: 40, expiresAt: '2030-03-01T00:00:00.000Z' }),
      ]);
      expect(await calls.job('expire-points', '2030-02-20T12:00:00.000Z')).toMatchObject({
        changed: noticed.changed,
      });
      const expired = await calls.job('expire-points', '2030-03-01T00:00:00.000Z');
      expect(expired.changed).toBe(1);
      expect((await calls.history(memberId)).map((e) => [e.type, e.points])).toEqual([
        ['expire', -40],
        ['earn', 20],
        ['earn', 40],
      ]);
      // Rerunning the day adds nothing; the next lot's notice comes in its own window.
      expect(await calls.job('expire-points', '2030-03-01T06:00:00.000Z')).toMatchObject({ changed: 1 });
      await calls.job('expire-points', '2030-03-25T00:00:00.000Z');
      expect(await outboxOf('points.expiring', memberId, own)).toHaveLength(2);
    }
  });

  it('refuses an asOf in the future', async () => {
    await expect(
      calls.job('expire-points', '2099-01-01T00:00:00.000Z', new Date().toISOString()),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});

async function stockOf(rewardId: string): Promise<number | null> {
  const { Item } = await store.db.send(
    new GetCommand({ TableName: store.tableName, Key: keys.reward(rewardId), ConsistentRead: true }),
  );
  return (Item?.reward as { inventory: number | null } | undefined)?.inventory ?? null;
}

async function storedStatus(redemptionId: string): Promise<string> {
  const { Item } = await store.db.send(
    new GetCommand({ TableName: store.tableName, Key: keys.redemption(redemptionId), ConsistentRead: true }),
  );
  return String((Item?.redemption as { status: string } | undefined)?.status);
}

/** The data of the outbox events of one type about one member, oldest first. */
async function outboxOf(
  type: string,
  memberId: string,
  on: Store = store,
): Promise<Record<string, unknown>[]> {
  const { Items } = await on.db.send(
    new ScanCommand({
      TableName: on.tableName,
      FilterExpression: 'entity = :event AND #e.#type = :type AND #e.memberId = :member',
      ExpressionAttributeNames: { '#e': 'event', '#type': 'type' },
      ExpressionAttributeValues: { ':event': 'event', ':type': type, ':member': memberId },
      ConsistentRead: true,
    }),
  );
  return (Items ?? [])
    .map((item) => item.event as { id: string; data: Record<string, unknown> })
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((event) => event.data);
}
