import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, InsufficientPointsError, ValidationError } from '../../lambdas/domain/errors.ts';
import { MAX_BALANCE } from '../../lambdas/domain/member-ledger.ts';
import { defaultProgram } from '../../lambdas/schemas/program.ts';
import { listTransactions } from '../../lambdas/services/history.ts';
import { changePartner } from '../../lambdas/services/partners.ts';
import { replaceProgram } from '../../lambdas/services/program.ts';
import type { Store } from '../../lambdas/store/client.ts';
import { keys } from '../../lambdas/store/keys.ts';
import { admin, contextFor, parse, partnerPrincipal, snapshotTable } from '../support/fixtures.ts';
import { createTestPartner, ledgerCalls } from '../support/ledger.ts';
import { createTestStore } from '../support/table.ts';

/** Time, bounds and odd inputs of the ledger: expiry, pending periods, clock skew, overflow. */
let store: Store;
let calls: ReturnType<typeof ledgerCalls>;
const grocer = partnerPrincipal('grocer');

beforeAll(async () => {
  store = await createTestStore('rules');
  calls = ledgerCalls(store, grocer);
  await createTestPartner(store, 'grocer', { categoryMultipliers: { fresh: 2 } });
  await replaceProgram(contextFor(store, admin), { ...defaultProgram, expiryMonths: 1 });
});

const history = async (memberId: string) =>
  parse(await listTransactions(contextFor(store, admin), memberId, { limit: 100 })).items as {
    type: string;
    points: number;
    breakdown: { rule: string; points: number }[];
  }[];

describe('expiry', () => {
  it('never spends expired points: the next change records an expire entry first', async () => {
    const memberId = await calls.newMember('2026-01-01T00:00:00.000Z');
    // Earned in January with 1 expiry month: gone from 2026-03-01.
    await calls.earn(memberId, { amountMinor: 10_000 }, { now: '2026-01-10T12:00:00.000Z' });
    await calls.earn(memberId, { amountMinor: 5_000 }, { now: '2026-02-10T12:00:00.000Z' });
    await expect(calls.redeem(memberId, 120, { now: '2026-03-05T00:00:00.000Z' })).rejects.toBeInstanceOf(
      InsufficientPointsError,
    );
    const redeemed = parse(await calls.redeem(memberId, 50, { now: '2026-03-05T00:00:00.000Z' }));
    expect(redeemed.balances).toMatchObject({ available: 0, lifetimeEarned: 150, lifetimeRedeemed: 50 });
    const entries = await history(memberId);
    expect(entries.map((e) => [e.type, e.points])).toEqual([
      ['redeem', -50],
      ['expire', -100],
      ['earn', 50],
      ['earn', 100],
    ]);
    expect(entries[1]?.breakdown).toEqual([{ rule: 'lot:2026-03-01', points: -100 }]);
    // The ledger sums to the balance.
    expect(entries.reduce((sum, e) => sum + e.points, 0)).toBe(0);
  });

  it('refuses a backdated earn whose points would already have expired, writing nothing', async () => {
    const memberId = await calls.newMember();
    const before = await snapshotTable(store);
    await expect(
      calls.earn(memberId, { occurredAt: new Date(Date.now() - 90 * 86_400_000).toISOString() }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(await snapshotTable(store)).toBe(before);
  });
});

describe('pending and clock skew', () => {
  it('posts at once when the till clock is a little ahead and there is no pending period', async () => {
    const memberId = await calls.newMember();
    const occurredAt = new Date(Date.now() + 2 * 60_000).toISOString();
    const earned = parse(await calls.earn(memberId, { occurredAt }));
    expect(earned.transaction).toMatchObject({ status: 'posted', occurredAt });
    expect(earned.balances.available).toBe(100);
  });

  it('makes pending points available once their pending period has passed', async () => {
    await replaceProgram(contextFor(store, admin), { ...defaultProgram, expiryMonths: 12, pendingDays: 14 });
    try {
      const memberId = await calls.newMember('2026-05-01T00:00:00.000Z');
      const earned = parse(
        await calls.earn(memberId, { amountMinor: 3_000 }, { now: '2026-05-01T10:00:00.000Z' }),
      );
      expect(earned.transaction).toMatchObject({
        status: 'pending',
        availableAt: '2026-05-16T00:00:00.000Z',
      });
      expect(earned.balances).toMatchObject({ available: 0, pending: 30 });
      await expect(calls.redeem(memberId, 30, { now: '2026-05-15T23:59:59.000Z' })).rejects.toBeInstanceOf(
        InsufficientPointsError,
      );
      expect((await calls.member(memberId, '2026-05-16T00:00:00.000Z')).balances).toMatchObject({
        available: 30,
        pending: 0,
      });
      const redeemed = parse(await calls.redeem(memberId, 30, { now: '2026-05-16T00:00:00.000Z' }));
      expect(redeemed.balances).toMatchObject({ available: 0, pending: 0 });
    } finally {
      await replaceProgram(contextFor(store, admin), { ...defaultProgram, expiryMonths: 1 });
    }
  });
});

describe('bounds and odd input', () => {
  it('ignores a category named like an Object.prototype member', async () => {
    const memberId = await calls.newMember();
    for (const category of ['constructor', 'to-string', 'hasownproperty']) {
      const earned = parse(await calls.earn(memberId, { amountMinor: 1_000, category }));
      expect(earned.transaction.points).toBe(10);
    }
  });

  it('answers 4xx instead of overflowing when amounts and multipliers are huge', async () => {
    await createTestPartner(store, 'whale', { categoryMultipliers: { big: 1000 } });
    await changePartner(contextFor(store, admin), 'whale', {
      earnRule: { pointsPerUnit: 1000, unitMinor: 1 },
    });
    const whale = partnerPrincipal('whale');
    const memberId = await calls.newMember();
    const before = await snapshotTable(store);
    await expect(
      calls.earn(memberId, { amountMinor: 1_000_000_000_000, category: 'big' }, { principal: whale }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(await snapshotTable(store)).toBe(before);
    // 1e9 points per earn: after a thousand of them the lifetime total would pass the maximum.
    await calls.earn(memberId, { amountMinor: 1_000_000 }, { principal: whale });
    expect((await calls.member(memberId)).balances.available).toBe(1_000_000_000);
  });

  it('refuses a redemption worth more than the largest amount of money', async () => {
    await replaceProgram(contextFor(store, admin), { ...defaultProgram, pointValueMinor: 1_000_000 });
    try {
      const memberId = await calls.newMember();
      await expect(calls.redeem(memberId, 1_000_000_000_000)).rejects.toBeInstanceOf(ValidationError);
    } finally {
      await replaceProgram(contextFor(store, admin), { ...defaultProgram, expiryMonths: 1 });
    }
  });

  it('refuses an earn that would take lifetime points past the maximum with 409', async () => {
    const memberId = await calls.newMember();
    await calls.earn(memberId, { amountMinor: 1_000 });
    // Arrange a member just under the ceiling directly: reaching it through earns takes ~1,000 calls.
    await store.db.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: keys.member(memberId),
        UpdateExpression: 'SET points.lifetimeEarned = :nearly',
        ExpressionAttributeValues: { ':nearly': MAX_BALANCE - 5 },
      }),
    );
    const before = await snapshotTable(store);
    await expect(calls.earn(memberId, { amountMinor: 1_000 })).rejects.toBeInstanceOf(ConflictError);
    expect(await snapshotTable(store)).toBe(before);
  });
});
