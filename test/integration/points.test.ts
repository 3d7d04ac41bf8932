import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  ForbiddenError,
  IdempotencyKeyReusedError,
  InsufficientPointsError,
  NotFoundError,
  ValidationError,
} from '../../lambdas/domain/errors.ts';
import { listTransactions } from '../../lambdas/services/history.ts';
import { changePartner, createPartner } from '../../lambdas/services/partners.ts';
import type { Store } from '../../lambdas/store/client.ts';
import { admin, contextFor, parse, partnerPrincipal, snapshotTable } from '../support/fixtures.ts';
import { ledgerCalls } from '../support/ledger.ts';
import { createTestStore } from '../support/table.ts';

let store: Store;
const grocer = partnerPrincipal('grocer');
const fuel = partnerPrincipal('fuel');

let calls: ReturnType<typeof ledgerCalls>;
const newMember = () => calls.newMember();
const earn = (...args: Parameters<typeof calls.earn>) => calls.earn(...args);
const redeem = (...args: Parameters<typeof calls.redeem>) => calls.redeem(...args);

async function balanceOf(memberId: string): Promise<number> {
  return (await calls.member(memberId)).balances.available;
}

beforeAll(async () => {
  store = await createTestStore('points');
  calls = ledgerCalls(store, grocer);
  const partner = {
    earnRule: { pointsPerUnit: 1, unitMinor: 100 },
    fundingRateMinor: 1,
    reimbursementRateMinor: 1,
    status: 'active' as const,
  };
  await createPartner(contextFor(store, admin), {
    id: 'grocer',
    name: 'Grocer',
    categoryMultipliers: { fresh: 2 },
    ...partner,
  });
  await createPartner(contextFor(store, admin), { id: 'fuel', name: 'Fuel', ...partner });
});

describe('earn', () => {
  it('credits floor(amount / unit × multipliers) and returns the new balances', async () => {
    const memberId = await newMember();
    const response = await earn(memberId, { amountMinor: 12_345, category: 'fresh' });
    expect(response.status).toBe(201);
    const body = parse(response);
    expect(body.transaction).toMatchObject({
      type: 'earn',
      points: 246,
      status: 'posted',
      partnerId: 'grocer',
    });
    expect(body.transaction.breakdown).toEqual([
      { rule: 'base', points: 123 },
      { rule: 'category:fresh', points: 123 },
    ]);
    expect(body.balances).toMatchObject({ available: 246, lifetimeEarned: 246 });
    expect(await balanceOf(memberId)).toBe(246);
  });

  it('replays the same body with the same key without writing again', async () => {
    const memberId = await newMember();
    const key = randomUUID();
    const body = { orderRef: `o-${randomUUID()}` };
    const first = await earn(memberId, body, { key });
    const before = await snapshotTable(store);
    const second = await earn(memberId, body, { key });
    expect(second).toEqual({ ...first, replayed: true });
    expect(await snapshotTable(store)).toBe(before);
  });

  it('rejects the same key with another body with 422 and writes nothing', async () => {
    const memberId = await newMember();
    const key = randomUUID();
    await earn(memberId, { orderRef: 'k-1' }, { key });
    const before = await snapshotTable(store);
    await expect(earn(memberId, { orderRef: 'k-2' }, { key })).rejects.toBeInstanceOf(
      IdempotencyKeyReusedError,
    );
    expect(await snapshotTable(store)).toBe(before);
  });

  it('refuses a second earn for the same order at the same partner (409), but not at another partner', async () => {
    const memberId = await newMember();
    await earn(memberId, { orderRef: 'order-1' });
    const before = await snapshotTable(store);
    await expect(earn(memberId, { orderRef: 'order-1' })).rejects.toBeInstanceOf(ConflictError);
    expect(await snapshotTable(store)).toBe(before);
    await expect(earn(memberId, { orderRef: 'order-1' }, { principal: fuel })).resolves.toMatchObject({
      status: 201,
    });
  });

  it('rejects another currency, an unknown member, a future date and a foreign partnerId, writing nothing', async () => {
    const memberId = await newMember();
    const before = await snapshotTable(store);
    await expect(earn(memberId, { currency: 'EUR' })).rejects.toBeInstanceOf(ValidationError);
    await expect(earn('mem_01ARZ3NDEKTSV4RRFFQ69G5FAV', {})).rejects.toBeInstanceOf(NotFoundError);
    const future = new Date(Date.now() + 10 * 60_000).toISOString();
    await expect(earn(memberId, { occurredAt: future })).rejects.toBeInstanceOf(ValidationError);
    await expect(earn(memberId, { partnerId: 'fuel' })).rejects.toBeInstanceOf(ForbiddenError);
    expect(await snapshotTable(store)).toBe(before);
  });

  it('refuses earns at a suspended partner with 403', async () => {
    await createPartner(contextFor(store, admin), {
      id: 'paused',
      name: 'Paused',
      earnRule: { pointsPerUnit: 1, unitMinor: 100 },
      fundingRateMinor: 1,
      reimbursementRateMinor: 1,
      status: 'active',
    });
    await changePartner(contextFor(store, admin), 'paused', { status: 'suspended' });
    const memberId = await newMember();
    await expect(earn(memberId, {}, { principal: partnerPrincipal('paused') })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
  });

  it('writes one ledger entry and answers 20 identical bodies to 20 parallel earns with one key', async () => {
    const memberId = await newMember();
    const key = randomUUID();
    const body = { orderRef: `o-${randomUUID()}`, amountMinor: 5_000 };
    const responses = await Promise.all(Array.from({ length: 20 }, () => earn(memberId, body, { key })));
    expect(new Set(responses.map((r) => r.body)).size).toBe(1);
    expect(responses.every((r) => r.status === 201)).toBe(true);
    expect(responses.filter((r) => !r.replayed)).toHaveLength(1);
    const history = parse(await listTransactions(contextFor(store, admin), memberId, { limit: 100 }));
    expect(history.items).toHaveLength(1);
    expect(await balanceOf(memberId)).toBe(50);
  });
});

describe('redeem', () => {
  it('captures a redemption and lowers the balance', async () => {
    const memberId = await newMember();
    await earn(memberId, { amountMinor: 50_000 });
    const response = await redeem(memberId, 120, { principal: fuel });
    const body = parse(response);
    expect(response.status).toBe(201);
    expect(body.redemption).toMatchObject({
      status: 'captured',
      points: 120,
      valueMinor: 120,
      currency: 'USD',
      partnerId: 'fuel',
    });
    expect(body.redemption.id).toMatch(/^red_/);
    expect(body.balances).toMatchObject({ available: 380, lifetimeRedeemed: 120 });
  });

  it('refuses to overspend with 409 insufficient-points and writes nothing', async () => {
    const memberId = await newMember();
    await earn(memberId, { amountMinor: 1_000 });
    const before = await snapshotTable(store);
    await expect(redeem(memberId, 11)).rejects.toBeInstanceOf(InsufficientPointsError);
    expect(await snapshotTable(store)).toBe(before);
  });

  it('replays a redemption even after the balance no longer covers it', async () => {
    const memberId = await newMember();
    await earn(memberId, { amountMinor: 1_000 });
    const key = randomUUID();
    const first = await redeem(memberId, 10, { key });
    expect(await balanceOf(memberId)).toBe(0);
    await expect(redeem(memberId, 10, { key })).resolves.toEqual({ ...first, replayed: true });
  });

  it('lets exactly 10 of 64 parallel 10-point redemptions against 100 points succeed (balance 0)', async () => {
    const memberId = await newMember();
    await earn(memberId, { amountMinor: 10_000 });
    expect(await balanceOf(memberId)).toBe(100);
    const results = await Promise.allSettled(Array.from({ length: 64 }, () => redeem(memberId, 10)));
    const succeeded = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(succeeded).toHaveLength(10);
    expect(refused).toHaveLength(54);
    for (const r of refused)
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(InsufficientPointsError);
    expect(await balanceOf(memberId)).toBe(0);
    const history = parse(
      await listTransactions(contextFor(store, admin), memberId, { limit: 100, type: 'redeem' }),
    );
    expect(history.items).toHaveLength(10);
  });
});

describe('history', () => {
  it('lists newest first, paginates with a cursor, and shows a partner only its own entries', async () => {
    const memberId = await newMember();
    await earn(memberId, { amountMinor: 100 });
    await earn(memberId, { amountMinor: 200 }, { principal: fuel });
    await earn(memberId, { amountMinor: 300 });
    const page1 = parse(await listTransactions(contextFor(store, admin), memberId, { limit: 2 }));
    expect(page1.items.map((t: { points: number }) => t.points)).toEqual([3, 2]);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = parse(
      await listTransactions(contextFor(store, admin), memberId, { limit: 2, cursor: page1.nextCursor }),
    );
    expect(page2.items.map((t: { points: number }) => t.points)).toEqual([1]);
    expect(page2.nextCursor).toBeNull();

    const grocerView = parse(await listTransactions(contextFor(store, grocer), memberId, { limit: 10 }));
    expect(grocerView.items.map((t: { partnerId: string }) => t.partnerId)).toEqual(['grocer', 'grocer']);
  });

  it('rejects a cursor from another member with 400', async () => {
    const a = await newMember();
    const b = await newMember();
    for (const n of [1, 2]) await earn(a, { amountMinor: n * 100 });
    const page = parse(await listTransactions(contextFor(store, admin), a, { limit: 1 }));
    await expect(
      listTransactions(contextFor(store, admin), b, { limit: 1, cursor: page.nextCursor }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      listTransactions(contextFor(store, admin), a, { limit: 1, cursor: 'garbage' }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});
