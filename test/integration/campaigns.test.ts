import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ForbiddenError, NotFoundError, ValidationError } from '../../lambdas/domain/errors.ts';
import { createCampaignBody, updateCampaignBody } from '../../lambdas/schemas/campaigns.ts';
import { createPlanBody } from '../../lambdas/schemas/subscriptions.ts';
import {
  changeCampaign,
  createCampaign,
  listCampaignsFor,
  readCampaign,
} from '../../lambdas/services/campaigns.ts';
import { BUDGET_EXHAUSTED } from '../../lambdas/services/earn.ts';
import { liabilityReport, rollForwardReport } from '../../lambdas/services/finance-reports.ts';
import { settlementReport } from '../../lambdas/services/reports.ts';
import { createPlan, subscribe } from '../../lambdas/services/subscriptions.ts';
import { getCampaign } from '../../lambdas/store/campaign-store.ts';
import { setMemberChurn } from '../../lambdas/store/churn-store.ts';
import type { Store } from '../../lambdas/store/client.ts';
import { admin, contextFor, parse, partnerPrincipal } from '../support/fixtures.ts';
import { createTestPartner, ledgerCalls } from '../support/ledger.ts';
import { outboxEventsOfType } from '../support/subscriptions.ts';
import { createTestStore } from '../support/table.ts';

let store: Store;
let calls: ReturnType<typeof ledgerCalls>;
const grocer = partnerPrincipal('grocer');
const fuel = partnerPrincipal('fuel');

const HOUR = 3_600_000;
const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

beforeAll(async () => {
  store = await createTestStore('campaigns');
  calls = ledgerCalls(store, grocer);
  await createTestPartner(store, 'grocer', { categoryMultipliers: { fresh: 2 } });
  await createTestPartner(store, 'fuel');
  await createPlan(
    contextFor(store, admin),
    createPlanBody.parse({
      id: 'plus',
      name: 'Plus',
      priceMinor: 999,
      currency: 'USD',
      interval: 'month',
      benefits: { earnMultiplier: 1 },
    }),
  );
});

type Line = { rule: string; points: number };

async function campaign(fields: Record<string, unknown>, principal = grocer) {
  const body = createCampaignBody.parse({
    name: 'Boost',
    startsAt: at(-HOUR),
    endsAt: at(24 * HOUR),
    reward: { multiplier: 2 },
    ...fields,
  });
  const created = await createCampaign(contextFor(store, principal), body);
  expect(created.status).toBe(201);
  return parse(created) as { id: string; budget: { awardedPoints: number; remainingPoints: number } | null };
}

async function earn(memberId: string, body: Record<string, unknown> = {}, principal = grocer) {
  const response = await calls.earn(memberId, { amountMinor: 10_000, ...body }, { principal });
  expect(response.status).toBe(201);
  const { transaction } = parse(response) as { transaction: { points: number; breakdown: Line[] } };
  return transaction;
}

const lineOf = (breakdown: Line[], campaignId: string) =>
  breakdown.find((line) => line.rule === `campaign:${campaignId}`)?.points;

describe('campaigns at earn time', () => {
  it('applies a partner’s multiplier by the purchase’s occurredAt: startsAt inclusive, endsAt exclusive', async () => {
    const startsAt = at(-72 * HOUR);
    const endsAt = at(-24 * HOUR);
    const { id } = await campaign({ startsAt, endsAt, target: { categories: ['window-edge'] } });
    const memberId = await calls.newMember();
    const second = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();
    const cases = [
      { occurredAt: second(startsAt, -1000), applies: false },
      { occurredAt: startsAt, applies: true },
      { occurredAt: second(endsAt, -1000), applies: true },
      { occurredAt: endsAt, applies: false },
    ];
    for (const { occurredAt, applies } of cases) {
      const txn = await earn(memberId, { occurredAt, category: 'window-edge' });
      expect(lineOf(txn.breakdown, id), occurredAt).toBe(applies ? 100 : undefined);
      expect(txn.points).toBe(applies ? 200 : 100);
    }
  });

  it('stacks category × tier × subscription × campaign multipliers, floored once, then adds bonuses', async () => {
    const times = await campaign({ reward: { multiplier: 1.5 }, target: { categories: ['stack'] } });
    const bonus = await campaign({ reward: { bonusPoints: 7 }, target: { categories: ['stack'] } });
    const memberId = await calls.newMember();
    // 333 minor units at 1 point per 100: 3.33 base, × 1.5 = 4.995 → 4 (floored once), + 7.
    const txn = await earn(memberId, { amountMinor: 333, category: 'stack' });
    expect(txn.points).toBe(4 + 7);
    expect(lineOf(txn.breakdown, times.id)).toBe(1);
    expect(lineOf(txn.breakdown, bonus.id)).toBe(7);
    expect(txn.breakdown.reduce((sum, line) => sum + line.points, 0)).toBe(txn.points);
  });

  it('matches each target dimension when given and ignores it when absent (the targeting matrix)', async () => {
    const memberId = await calls.newMember();
    const risky = await calls.newMember();
    await setMemberChurn(
      store,
      risky,
      { pAlive: 0.1, risk: 'high', expectedPurchases90d: 0.2, clvMinor: 5_000, scoredAt: at(-HOUR) },
      null,
    );
    const subscribed = await calls.newMember();
    expect(
      (await subscribe(contextFor(store, grocer), subscribed, { planId: 'plus', paymentRef: randomUUID() }))
        .status,
    ).toBe(201);
    const tag = randomUUID().slice(0, 8);
    // Each row: a target (with the category that keeps it to this test) and who it must reach.
    const rows: {
      target: Record<string, unknown>;
      hits: { memberId: string; body?: Record<string, unknown> }[];
      misses: { memberId: string; body?: Record<string, unknown> }[];
    }[] = [
      { target: {}, hits: [{ memberId }, { memberId: risky }, { memberId: subscribed }], misses: [] },
      { target: { tiers: ['member'] }, hits: [{ memberId }], misses: [] },
      { target: { tiers: ['gold'] }, hits: [], misses: [{ memberId }] },
      {
        target: { channels: ['app'] },
        hits: [{ memberId, body: { channel: 'app' } }],
        misses: [{ memberId, body: { channel: 'store' } }, { memberId }],
      },
      { target: { churnRisk: ['high'] }, hits: [{ memberId: risky }], misses: [{ memberId }] },
      { target: { churnRisk: ['low', 'medium'] }, hits: [], misses: [{ memberId: risky }, { memberId }] },
      { target: { subscribed: true }, hits: [{ memberId: subscribed }], misses: [{ memberId }] },
      { target: { subscribed: false }, hits: [{ memberId }], misses: [{ memberId: subscribed }] },
    ];
    for (const [index, row] of rows.entries()) {
      const category = `m${index}-${tag}`;
      const { id } = await campaign({
        reward: { bonusPoints: 5 },
        target: { ...row.target, categories: [category] },
      });
      for (const hit of row.hits) {
        const txn = await earn(hit.memberId, { ...hit.body, category });
        expect(lineOf(txn.breakdown, id), JSON.stringify(row.target)).toBe(5);
      }
      for (const miss of row.misses) {
        const txn = await earn(miss.memberId, { ...miss.body, category });
        expect(lineOf(txn.breakdown, id), JSON.stringify(row.target)).toBeUndefined();
        expect(txn.points).toBe(100);
      }
    }
    // Categories: another category does not match; partners: a coalition-wide campaign at one partner.
    const { id: fresh } = await campaign({
      reward: { bonusPoints: 5 },
      target: { categories: [`only-${tag}`] },
    });
    expect(lineOf((await earn(memberId, { category: `other-${tag}` })).breakdown, fresh)).toBeUndefined();
    const { id: atFuel } = await campaign(
      { reward: { bonusPoints: 5 }, target: { partners: ['fuel'], categories: [`p-${tag}`] } },
      admin,
    );
    expect(
      lineOf((await earn(memberId, { category: `p-${tag}`, partnerId: 'fuel' }, fuel)).breakdown, atFuel),
    ).toBe(5);
    expect(lineOf((await earn(memberId, { category: `p-${tag}` })).breakdown, atFuel)).toBeUndefined();
  });

  it('applies a partner’s campaign only at that partner, and not while inactive', async () => {
    const tag = `own-${randomUUID().slice(0, 8)}`;
    const { id } = await campaign({ target: { categories: [tag] } }, fuel);
    const memberId = await calls.newMember();
    expect(lineOf((await earn(memberId, { category: tag })).breakdown, id)).toBeUndefined();
    expect(lineOf((await earn(memberId, { category: tag }, fuel)).breakdown, id)).toBe(100);
    await changeCampaign(contextFor(store, fuel), id, updateCampaignBody.parse({ active: false }));
    expect(lineOf((await earn(memberId, { category: tag }, fuel)).breakdown, id)).toBeUndefined();
  });
});

describe('budgets', () => {
  it('gives at most the budget to 200 parallel earns, and says it ran out once', async () => {
    const tag = `race-${randomUUID().slice(0, 8)}`;
    const { id } = await campaign({
      reward: { bonusPoints: 10 },
      budgetPoints: 1_000,
      target: { categories: [tag] },
    });
    const members = await Promise.all(Array.from({ length: 200 }, () => calls.newMember()));
    const earns = await Promise.all(
      Array.from({ length: 200 }, (_, i) => earn(members[i % members.length] as string, { category: tag })),
    );
    const awarded = earns.map((txn) => lineOf(txn.breakdown, id) ?? 0);
    // 200 × 10 wanted, 1,000 in the budget: every point given, none more; one award may be partial.
    expect(awarded.reduce((sum, points) => sum + points, 0)).toBe(1_000);
    expect(awarded.filter((points) => points > 0 && points < 10).length).toBeLessThanOrEqual(1);
    const view = parse(await readCampaign(contextFor(store, grocer), id));
    expect(view.budget).toMatchObject({ awardedPoints: 1_000, remainingPoints: 0 });
    expect(view.budget.exhaustedAt).toEqual(expect.any(String));
    const exhausted = (await outboxEventsOfType(store, BUDGET_EXHAUSTED)).filter(
      (event) => event.data.campaignId === id,
    );
    expect(exhausted).toHaveLength(1);
    expect(exhausted[0]).toMatchObject({ partnerId: 'grocer', data: { budgetPoints: 1_000 } });
    expect(exhausted[0]?.memberId).toBeUndefined();
    // Once out, the campaign gives nothing more.
    expect(lineOf((await earn(members[0] as string, { category: tag })).breakdown, id)).toBeUndefined();
  }, 120_000);

  it('cuts a multiplier’s last award to what the budget has left', async () => {
    const tag = `cut-${randomUUID().slice(0, 8)}`;
    const { id } = await campaign({
      reward: { multiplier: 3 },
      budgetPoints: 250,
      target: { categories: [tag] },
    });
    const memberId = await calls.newMember();
    const first = await earn(memberId, { category: tag });
    const second = await earn(memberId, { category: tag });
    expect(lineOf(first.breakdown, id)).toBe(200);
    expect(lineOf(second.breakdown, id)).toBe(50);
    expect(second.points).toBe(150);
    // A change after the budget ran out keeps it out.
    await changeCampaign(contextFor(store, grocer), id, updateCampaignBody.parse({ name: 'Renamed' }));
    const view = parse(await readCampaign(contextFor(store, grocer), id));
    expect(view).toMatchObject({
      name: 'Renamed',
      budget: { remainingPoints: 0, exhaustedAt: expect.any(String) },
    });
    const record = await getCampaign(store, id);
    expect(record?.exhaustedAt).toEqual(expect.any(String));
    expect(lineOf((await earn(memberId, { category: tag })).breakdown, id)).toBeUndefined();
  });
});

describe('funding', () => {
  it('charges a partner for its own campaign’s points; coalition-wide points are the coalition’s, reversals too', async () => {
    const partnerId = `fund${randomUUID().slice(0, 6)}`;
    await createTestPartner(store, partnerId);
    const seller = partnerPrincipal(partnerId);
    const own = await campaign({ reward: { bonusPoints: 30 } }, seller);
    const coalition = await campaign(
      { reward: { bonusPoints: 20 }, target: { partners: [partnerId] } },
      admin,
    );
    const memberId = await calls.newMember();
    const response = await calls.earn(memberId, { amountMinor: 10_000 }, { principal: seller });
    const txn = parse(response).transaction as { id: string; points: number; breakdown: Line[] };
    expect(txn.points).toBe(100 + 30 + 20);
    expect(lineOf(txn.breakdown, own.id)).toBe(30);
    expect(lineOf(txn.breakdown, coalition.id)).toBe(20);
    const day = at(0).slice(0, 10);
    const settle = async () =>
      parse(
        await settlementReport(contextFor(store, admin), { from: day, to: day, partnerId, format: 'json' }),
      ).partners[0];
    // The partner funds its 130 (rate 1), not the coalition's 20.
    expect(await settle()).toMatchObject({
      issuedPoints: 130,
      campaignPoints: 30,
      owedToCoalitionMinor: 130,
    });
    // A whole return takes back all 150: 130 from the partner's funding, 20 from the coalition's.
    expect((await calls.reverse(txn.id, {}, { principal: seller })).status).toBe(201);
    expect(await settle()).toMatchObject({ issuedPoints: 130, reversedPoints: 130, owedToCoalitionMinor: 0 });
    // The books still balance: the coalition's 20 count as issued and as reversed.
    const roll = parse(
      await rollForwardReport(contextFor(store, admin), { from: day, to: day, format: 'json' }),
    );
    const liability = parse(await liabilityReport(contextFor(store, admin), { asOf: day, format: 'json' }));
    expect(roll.closing).toBe(liability.outstandingPoints);
    expect(roll.unexplainedPoints).toBe(0);
  });
});

describe('managing campaigns', () => {
  it('keeps partners to their own campaigns and coalition-wide ones to admins', async () => {
    const { id } = await campaign({}, fuel);
    await expect(readCampaign(contextFor(store, grocer), id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      changeCampaign(contextFor(store, grocer), id, updateCampaignBody.parse({ active: false })),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      createCampaign(
        contextFor(store, grocer),
        createCampaignBody.parse({
          name: 'x',
          partnerId: 'fuel',
          startsAt: at(0),
          endsAt: at(HOUR),
          reward: { bonusPoints: 1 },
        }),
      ),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      createCampaign(
        contextFor(store, grocer),
        createCampaignBody.parse({
          name: 'x',
          startsAt: at(0),
          endsAt: at(HOUR),
          reward: { bonusPoints: 1 },
          target: { partners: ['fuel'] },
        }),
      ),
    ).rejects.toBeInstanceOf(ValidationError);
    const listed = parse(await listCampaignsFor(contextFor(store, fuel), { limit: 100 })).items as {
      partnerId: string | null;
    }[];
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((item) => item.partnerId === 'fuel')).toBe(true);
    const coalition = parse(await listCampaignsFor(contextFor(store, admin), { limit: 100 })).items as {
      partnerId: string | null;
    }[];
    expect(coalition.some((item) => item.partnerId === null)).toBe(true);
  });

  it('refuses a change that would end a campaign before it starts, and changes nothing', async () => {
    const { id } = await campaign({}, fuel);
    const before = parse(await readCampaign(contextFor(store, fuel), id));
    await expect(
      changeCampaign(contextFor(store, fuel), id, updateCampaignBody.parse({ endsAt: at(-2 * HOUR) })),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(parse(await readCampaign(contextFor(store, fuel), id))).toEqual(before);
  });
});
