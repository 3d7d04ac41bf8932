import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { COUNTER_PARTITIONS, COUNTER_SHARDS } from '../../lambdas/config/capacity.ts';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  OutOfStockError,
  ValidationError,
} from '../../lambdas/domain/errors.ts';
import { changePartner } from '../../lambdas/services/partners.ts';
import { redeemPoints } from '../../lambdas/services/redeem.ts';
import { settlementReport } from '../../lambdas/services/reports.ts';
import { changeReward, createReward, listCatalogue } from '../../lambdas/services/rewards.ts';
import type { Store } from '../../lambdas/store/client.ts';
import { admin, contextFor, parse, partnerPrincipal, snapshotTable } from '../support/fixtures.ts';
import { createTestPartner, ledgerCalls } from '../support/ledger.ts';
import { createTestStore } from '../support/table.ts';

let store: Store;
let calls: ReturnType<typeof ledgerCalls>;
const grocer = partnerPrincipal('grocer');
const fuel = partnerPrincipal('fuel');

beforeAll(async () => {
  store = await createTestStore('coalition');
  calls = ledgerCalls(store, grocer);
  await createTestPartner(store, 'grocer');
  await createTestPartner(store, 'fuel');
});

/** The outbox items recorded for a reward (the publisher turns each into one event). */
const outOfStockEvents = (rewardId: string) =>
  store.db.send(
    new ScanCommand({
      TableName: store.tableName,
      FilterExpression: 'entity = :event AND #event.#data.rewardId = :reward',
      ExpressionAttributeNames: { '#event': 'event', '#data': 'data' },
      ExpressionAttributeValues: { ':event': 'event', ':reward': rewardId },
    }),
  );

async function newReward(principal = fuel, fields: { inventory?: number | null; costPoints?: number } = {}) {
  const body = {
    name: 'Car wash',
    costPoints: 40,
    valueMinor: 500,
    inventory: null,
    active: true,
    ...fields,
  };
  return parse(await createReward(contextFor(store, principal), body)) as {
    id: string;
    inventory: number | null;
  };
}

describe('rewards', () => {
  it('redeems a reward offered by another partner than the one where the points were earned', async () => {
    const memberId = await calls.newMember();
    await calls.earn(memberId, { amountMinor: 10_000 }); // 100 points at the grocer
    const reward = await newReward(fuel, { inventory: 3 });
    const redeemed = parse(
      await calls.redeem(memberId, 0, { principal: fuel, body: { points: undefined, rewardId: reward.id } }),
    );
    expect(redeemed.redemption).toMatchObject({
      partnerId: 'fuel',
      points: 40,
      valueMinor: 500,
      rewardId: reward.id,
    });
    expect(redeemed.balances.available).toBe(60);
    const entries = await calls.member(memberId);
    expect(entries.balances.lifetimeRedeemed).toBe(40);
  });

  it('hides a partner’s rewards from other partners, for reading and for redeeming', async () => {
    const reward = await newReward(fuel);
    const memberId = await calls.newMember();
    await calls.earn(memberId, { amountMinor: 10_000 });
    await expect(
      calls.redeem(memberId, 0, { principal: grocer, body: { points: undefined, rewardId: reward.id } }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      changeReward(contextFor(store, grocer), reward.id, { active: false }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses inactive rewards with 409 and out-of-stock ones with 409 out-of-stock', async () => {
    const memberId = await calls.newMember();
    await calls.earn(memberId, { amountMinor: 50_000 });
    const inactive = await newReward(fuel);
    await changeReward(contextFor(store, fuel), inactive.id, { active: false });
    const empty = await newReward(fuel, { inventory: 0 });
    const redeemReward = (rewardId: string) =>
      calls.redeem(memberId, 0, { principal: fuel, body: { points: undefined, rewardId } });
    await expect(redeemReward(inactive.id)).rejects.toBeInstanceOf(ConflictError);
    await expect(redeemReward(empty.id)).rejects.toBeInstanceOf(OutOfStockError);
  });

  it('never oversells: 20 parallel redemptions of a reward with 5 in stock → exactly 5 succeed', async () => {
    const reward = await newReward(fuel, { inventory: 5 });
    const members = await Promise.all(Array.from({ length: 20 }, () => calls.newMember()));
    for (const memberId of members) await calls.earn(memberId, { amountMinor: 10_000 });
    const results = await Promise.allSettled(
      members.map((memberId) =>
        calls.redeem(memberId, 0, { principal: fuel, body: { points: undefined, rewardId: reward.id } }),
      ),
    );
    const succeeded = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(succeeded).toHaveLength(5);
    expect(refused).toHaveLength(15);
    for (const r of refused) expect(r.reason).toBeInstanceOf(OutOfStockError);
    const after = await changeReward(contextFor(store, fuel), reward.id, { name: 'Car wash (sold out)' });
    expect(parse(after).inventory).toBe(0);
    // reward.out_of_stock is recorded exactly once, as an outbox item for the event publisher.
    const events = await outOfStockEvents(reward.id);
    expect(events.Items).toHaveLength(1);
    expect(events.Items?.[0]?.event).toMatchObject({
      type: 'reward.out_of_stock',
      partnerId: 'fuel',
      version: 1,
    });
  });

  it('rejects a rewardId together with points, and an admin naming another partner than the reward’s', async () => {
    const reward = await newReward(fuel);
    const memberId = await calls.newMember();
    await calls.earn(memberId, { amountMinor: 10_000 });
    const before = await snapshotTable(store);
    await expect(
      calls.redeem(memberId, 0, {
        principal: admin,
        body: { points: undefined, rewardId: reward.id, partnerId: 'grocer' },
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(await snapshotTable(store)).toBe(before);
    const byAdmin = parse(
      await calls.redeem(memberId, 0, { principal: admin, body: { points: undefined, rewardId: reward.id } }),
    );
    expect(byAdmin.redemption.partnerId).toBe('fuel');
  });
});

describe('settlement', () => {
  it('reproduces a worked example by hand, with rates fixed at the time of each movement', async () => {
    const local = await createTestStore('settlement');
    const c = ledgerCalls(local, partnerPrincipal('alpha'));
    await createTestPartner(local, 'alpha');
    await createTestPartner(local, 'beta');
    await changePartner(contextFor(local, admin), 'alpha', {
      fundingRateMinor: 2,
      reimbursementRateMinor: 1,
    });
    await changePartner(contextFor(local, admin), 'beta', { fundingRateMinor: 1, reimbursementRateMinor: 3 });
    const alpha = partnerPrincipal('alpha');
    const beta = partnerPrincipal('beta');
    const inNovember = { now: '2026-11-10T12:00:00.000Z' };
    const memberId = await c.newMember('2026-10-01T00:00:00.000Z');

    // October: outside the report's period.
    await c.earn(memberId, { amountMinor: 70_000 }, { principal: alpha, now: '2026-10-20T12:00:00.000Z' });
    // November at alpha: 100 points issued (funding 100 × 2 = 200), 30 redeemed (reimbursement 30 × 1 = 30).
    await c.earn(memberId, { amountMinor: 10_000 }, { principal: alpha, ...inNovember });
    await c.redeem(memberId, 30, { principal: alpha, ...inNovember });
    // November at beta: 50 issued (funding 50), 60 redeemed (reimbursement 60 × 3 = 180): points earned at alpha spent at beta.
    await c.earn(memberId, { amountMinor: 5_000 }, { principal: beta, ...inNovember });
    await c.redeem(memberId, 60, { principal: beta, ...inNovember });
    // alpha's rate rises to 5: only later issuance pays it. 10 points → 50.
    await changePartner(contextFor(local, admin), 'alpha', { fundingRateMinor: 5 });
    await c.earn(memberId, { amountMinor: 1_000 }, { principal: alpha, now: '2026-11-30T23:59:00.000Z' });
    // December: outside again.
    await c.redeem(memberId, 10, { principal: beta, now: '2026-12-01T00:00:00.000Z' });

    const november = { from: '2026-11-01', to: '2026-11-30', format: 'json' as const };
    const report = parse(await settlementReport(contextFor(local, { ...admin, role: 'finance' }), november));
    expect(report).toEqual({
      from: '2026-11-01',
      to: '2026-11-30',
      currency: 'USD',
      partners: [
        {
          partnerId: 'alpha',
          name: 'Partner alpha',
          issuedPoints: 110,
          campaignPoints: 0,
          reversedPoints: 0,
          owedToCoalitionMinor: 250,
          redeemedPoints: 30,
          refundedPoints: 0,
          owedToPartnerMinor: 30,
          netMinor: 220,
        },
        {
          partnerId: 'beta',
          name: 'Partner beta',
          issuedPoints: 50,
          campaignPoints: 0,
          reversedPoints: 0,
          owedToCoalitionMinor: 50,
          redeemedPoints: 60,
          refundedPoints: 0,
          owedToPartnerMinor: 180,
          netMinor: -130,
        },
      ],
      totals: {
        issuedPoints: 160,
        campaignPoints: 0,
        reversedPoints: 0,
        owedToCoalitionMinor: 300,
        redeemedPoints: 90,
        refundedPoints: 0,
        owedToPartnerMinor: 210,
        netMinor: 90,
      },
    });

    // A partner sees its own line only, and never another's.
    const alphaOnly = parse(await settlementReport(contextFor(local, alpha), november));
    expect(alphaOnly.partners.map((p: { partnerId: string }) => p.partnerId)).toEqual(['alpha']);
    await expect(
      settlementReport(contextFor(local, alpha), { ...november, partnerId: 'beta' }),
    ).rejects.toThrow(/own settlement/);

    // The whole autumn: October's 700 points at rate 2 and December's 10 redeemed at beta come in.
    const autumn = parse(
      await settlementReport(contextFor(local, admin), {
        from: '2026-10-01',
        to: '2026-12-31',
        format: 'json',
      }),
    );
    expect(autumn.totals).toMatchObject({
      issuedPoints: 860,
      owedToCoalitionMinor: 1_700,
      redeemedPoints: 100,
      refundedPoints: 0,
      owedToPartnerMinor: 240,
    });

    const csv = await settlementReport(contextFor(local, admin), { ...november, format: 'csv' });
    expect(csv.contentType).toBe('text/csv; charset=utf-8');
    expect(csv.body.split('\r\n')).toEqual([
      'partnerId,name,currency,from,to,issuedPoints,campaignPoints,reversedPoints,owedToCoalitionMinor,redeemedPoints,refundedPoints,owedToPartnerMinor,netMinor',
      '"alpha","Partner alpha",USD,2026-11-01,2026-11-30,110,0,0,250,30,0,30,220',
      '"beta","Partner beta",USD,2026-11-01,2026-11-30,50,0,0,50,60,0,180,-130',
      '"TOTAL","",USD,2026-11-01,2026-11-30,160,0,0,300,90,0,210,90',
      '',
    ]);
  });

  it('reads counters, never the ledger: one item per counter shard, partner and day, over several partitions', async () => {
    const local = await createTestStore('settlement-shards');
    const c = ledgerCalls(local, partnerPrincipal('alpha'));
    await createTestPartner(local, 'alpha');
    const members = await Promise.all(Array.from({ length: 40 }, () => c.newMember()));
    await Promise.all(
      members.map((memberId) => c.earn(memberId, { amountMinor: 100, orderRef: randomUUID() })),
    );
    const today = new Date().toISOString().slice(0, 10);
    const month = today.slice(0, 7);
    const shards = await local.db.send(
      new ScanCommand({
        TableName: local.tableName,
        FilterExpression: 'begins_with(pk, :prefix)',
        ExpressionAttributeValues: { ':prefix': `AGG#alpha#${month}#` },
        ConsistentRead: true,
      }),
    );
    const items = shards.Items ?? [];
    // 40 members over 64 shards: one item per shard a member landed on, all of today, on every partition.
    expect(new Set(items.map((item) => item.sk)).size).toBe(items.length);
    expect(items.length).toBeGreaterThan(16);
    expect(items.length).toBeLessThanOrEqual(Math.min(40, COUNTER_SHARDS));
    expect(new Set(items.map((item) => item.pk)).size).toBe(COUNTER_PARTITIONS);
    expect(items.every((item) => String(item.sk).startsWith(`${today}#`))).toBe(true);
    expect(items.reduce((sum, item) => sum + Number(item.issuedPoints ?? 0), 0)).toBe(40);
    const report = parse(
      await settlementReport(contextFor(local, admin), { from: today, to: today, format: 'json' }),
    );
    expect(report.totals.issuedPoints).toBe(40);
  });
});

describe('catalogue listing', () => {
  it('lists the whole catalogue for an admin, one partner’s part on request, and pages through it', async () => {
    const local = await createTestStore('catalogue');
    await createTestPartner(local, 'alpha');
    await createTestPartner(local, 'beta');
    for (const [partnerId, name] of [
      ['alpha', 'A1'],
      ['beta', 'B1'],
      ['alpha', 'A2'],
    ] as const) {
      await createReward(contextFor(local, admin), {
        partnerId,
        name,
        costPoints: 10,
        valueMinor: 1,
        inventory: null,
        active: name !== 'A2',
      });
    }
    const all = parse(await listCatalogue(contextFor(local, admin), { limit: 25 }));
    expect(all.items.map((r: { name: string }) => r.name).sort()).toEqual(['A1', 'A2', 'B1']);
    const alphaActive = parse(
      await listCatalogue(contextFor(local, admin), { limit: 25, partnerId: 'alpha', active: 'true' }),
    );
    expect(alphaActive.items.map((r: { name: string }) => r.name)).toEqual(['A1']);
    const page1 = parse(await listCatalogue(contextFor(local, admin), { limit: 2 }));
    const page2 = parse(
      await listCatalogue(contextFor(local, admin), { limit: 2, cursor: page1.nextCursor }),
    );
    expect([...page1.items, ...page2.items]).toHaveLength(3);
    expect(page2.nextCursor).toBeNull();
    await expect(
      listCatalogue(contextFor(local, partnerPrincipal('beta')), { limit: 25, partnerId: 'alpha' }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    const asBeta = parse(await listCatalogue(contextFor(local, partnerPrincipal('beta')), { limit: 25 }));
    expect(asBeta.items.map((r: { name: string }) => r.name)).toEqual(['B1']);
  });
});

describe('edges of coalition money and stock', () => {
  it('refuses a settlement whose figures pass 2^53 with 422, instead of failing or rounding', async () => {
    const local = await createTestStore('settlement-huge');
    await createTestPartner(local, 'big');
    await changePartner(contextFor(local, admin), 'big', {
      earnRule: { pointsPerUnit: 1000, unitMinor: 1 },
      fundingRateMinor: 1000,
    });
    const c = ledgerCalls(local, partnerPrincipal('big'));
    // Each earn: 10⁹ minor × 1000 = 10¹² points, funding 10¹⁵; ten of them pass 2^53 ≈ 9.007 × 10¹⁵.
    for (let i = 0; i < 10; i++) await c.earn(await c.newMember(), { amountMinor: 1_000_000_000 });
    const today = new Date().toISOString().slice(0, 10);
    await expect(
      settlementReport(contextFor(local, admin), { from: today, to: today, format: 'json' }),
    ).rejects.toThrow(/exceeds 2\^53/);
  });

  it('records reward.out_of_stock when a PATCH takes stock to 0, once', async () => {
    const reward = await newReward(fuel, { inventory: 4 });
    await changeReward(contextFor(store, fuel), reward.id, { inventory: 0 });
    await changeReward(contextFor(store, fuel), reward.id, { inventory: 0 });
    const events = await outOfStockEvents(reward.id);
    expect(events.Items).toHaveLength(1);
  });

  it('asks an admin to name the partner of a points redemption, so every redemption has one', async () => {
    const memberId = await calls.newMember();
    await calls.earn(memberId, { amountMinor: 10_000 });
    await expect(calls.redeem(memberId, 5, { principal: admin })).rejects.toBeInstanceOf(ValidationError);
    const redeemed = parse(
      await calls.redeem(memberId, 5, { principal: admin, body: { partnerId: 'grocer' } }),
    );
    expect(redeemed.redemption.partnerId).toBe('grocer');
  });

  it('stops retrying at the request deadline with 429, having written nothing', async () => {
    const memberId = await calls.newMember();
    const before = await snapshotTable(store);
    const body = { points: 1 };
    const ctx = {
      ...contextFor(store, grocer, { idempotencyKey: randomUUID(), body }),
      deadline: Date.now() - 1,
    };
    await expect(redeemPoints(ctx, memberId, body)).rejects.toMatchObject({ status: 429 });
    expect(await snapshotTable(store)).toBe(before);
  });
});

describe('catalogue filter', () => {
  it('fills a page of active rewards even when inactive ones come first', async () => {
    const local = await createTestStore('catalogue-filter');
    await createTestPartner(local, 'alpha');
    for (let i = 0; i < 8; i++) {
      await createReward(contextFor(local, admin), {
        partnerId: 'alpha',
        name: `R${i}`,
        costPoints: 1,
        valueMinor: 1,
        inventory: null,
        active: i >= 6,
      });
    }
    const page = parse(await listCatalogue(contextFor(local, admin), { limit: 2, active: 'true' }));
    expect(page.items.map((r: { name: string }) => r.name)).toEqual(['R6', 'R7']);
  });
});

describe('restock', () => {
  it('adds units atomically, keeping units sold meanwhile sold', async () => {
    const reward = await newReward(fuel, { inventory: 3 });
    const members = await Promise.all([calls.newMember(), calls.newMember()]);
    for (const memberId of members) await calls.earn(memberId, { amountMinor: 10_000 });
    const redeemOne = (memberId: string) =>
      calls.redeem(memberId, 0, { principal: fuel, body: { points: undefined, rewardId: reward.id } });
    await Promise.all([
      ...members.map(redeemOne),
      changeReward(contextFor(store, fuel), reward.id, { restock: 10 }),
    ]);
    const after = parse(await changeReward(contextFor(store, fuel), reward.id, { name: 'Car wash' }));
    expect(after.inventory).toBe(11);
  });

  it('refuses to restock unlimited stock with 409', async () => {
    const reward = await newReward(fuel, { inventory: null });
    await expect(changeReward(contextFor(store, fuel), reward.id, { restock: 5 })).rejects.toBeInstanceOf(
      ConflictError,
    );
  });
});
