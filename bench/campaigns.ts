/**
 * Earn latency with 0 vs 20 active campaigns: two tables on one DynamoDB Local, the same partner
 * and members on each, one with no campaign and one with 20 active campaigns at that partner (10
 * that apply to every purchase, multipliers and bonuses; 10 whose targets miss it). Earns go
 * through the real use case, the tables alternating which goes first each cycle, so drift in
 * DynamoDB Local hits both series alike. A third series earns against a table whose 20 campaigns
 * include one budgeted campaign that applies: its shard is read with the member and written with
 * the earn (one more item each way), reported but not part of the target.
 */
import { randomUUID } from 'node:crypto';
import { newId } from '../lambdas/domain/ids.ts';
import { createCampaignBody } from '../lambdas/schemas/campaigns.ts';
import { createCampaign } from '../lambdas/services/campaigns.ts';
import type { RequestContext } from '../lambdas/services/context.ts';
import { earnPoints } from '../lambdas/services/earn.ts';
import { enrolMember } from '../lambdas/services/members.ts';
import type { Store } from '../lambdas/store/client.ts';
import { admin, createBenchPartner, createJobWorld } from './job-bench.ts';
import { round, type Summary, summarize, timed } from './stats.ts';

export interface CampaignsBenchConfig {
  warmup: number;
  iterations: number;
  members: number;
  target: number;
}

export interface CampaignsBenchResult {
  method: string;
  config: CampaignsBenchConfig;
  none: Summary;
  twenty: Summary;
  twentyWithBudget: Summary;
  ratio: { p50: number; p99: number };
  ratioWithBudget: { p50: number; p99: number };
  target: { ratio: number; met: boolean };
}

const PARTNER = 'bench-mart';

export async function measureCampaigns(
  endpoint: string,
  config: CampaignsBenchConfig,
  progress: (message: string) => void,
): Promise<CampaignsBenchResult> {
  const setUp = (store: Store) => createBenchPartner(store, new Date().toISOString());
  const worlds = {
    none: await createJobWorld(endpoint, { tablePrefix: 'bench-campaigns', setUp }, 'none'),
    twenty: await createJobWorld(endpoint, { tablePrefix: 'bench-campaigns', setUp }, 'twenty'),
    budget: await createJobWorld(endpoint, { tablePrefix: 'bench-campaigns', setUp }, 'budget'),
  };
  progress('campaigns: 20 active campaigns on two tables, members on all three');
  await addCampaigns(worlds.twenty.store, false);
  await addCampaigns(worlds.budget.store, true);
  const members = {
    none: await enrol(worlds.none.store, config.members),
    twenty: await enrol(worlds.twenty.store, config.members),
    budget: await enrol(worlds.budget.store, config.members),
  };
  const series = { none: [] as number[], twenty: [] as number[], budget: [] as number[] };
  progress(`campaigns: ${config.warmup} + ${config.iterations} interleaved earns per table`);
  const names = ['none', 'twenty', 'budget'] as const;
  for (let cycle = 0; cycle < config.warmup + config.iterations; cycle++) {
    const order = names.map((_, i) => names[(i + cycle) % names.length] as (typeof names)[number]);
    for (const name of order) {
      const memberId = members[name][cycle % config.members] as string;
      const ms = await earnOnce(worlds[name].store, memberId);
      if (cycle >= config.warmup) series[name].push(ms);
    }
  }
  const none = summarize(series.none);
  const twenty = summarize(series.twenty);
  const twentyWithBudget = summarize(series.budget);
  const ratio = { p50: round(twenty.p50 / none.p50), p99: round(twenty.p99 / none.p99) };
  return {
    method:
      'earnPoints (BatchGet + TransactWriteItems) on three tables of one DynamoDB Local, interleaved: no campaign; 20 active (10 apply: 5 multipliers, 5 bonuses; 10 miss); the same 20 with one applying budget',
    config,
    none,
    twenty,
    twentyWithBudget,
    ratio,
    ratioWithBudget: {
      p50: round(twentyWithBudget.p50 / none.p50),
      p99: round(twentyWithBudget.p99 / none.p99),
    },
    target: { ratio: config.target, met: ratio.p50 <= config.target && ratio.p99 <= config.target },
  };
}

async function addCampaigns(store: Store, withBudget: boolean): Promise<void> {
  const ctx: RequestContext = { store, principal: admin, now: new Date().toISOString() };
  const window = {
    startsAt: new Date(Date.now() - 86_400_000).toISOString(),
    endsAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
  };
  for (let i = 0; i < 20; i++) {
    const applies = i < 10;
    const body = createCampaignBody.parse({
      name: `Bench ${i}`,
      partnerId: PARTNER,
      ...window,
      reward: i % 2 === 0 ? { multiplier: 1.1 } : { bonusPoints: 1 },
      target: applies ? {} : { channels: ['phone'] },
      ...(withBudget && i === 1 ? { budgetPoints: 1_000_000_000 } : {}),
    });
    await createCampaign(ctx, body);
  }
}

async function enrol(store: Store, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const ctx: RequestContext = { store, principal: admin, now: new Date().toISOString() };
    ids.push(JSON.parse((await enrolMember(ctx, {})).body).id);
  }
  return ids;
}

async function earnOnce(store: Store, memberId: string): Promise<number> {
  const body = {
    amountMinor: 10_000,
    currency: 'USD',
    orderRef: `o-${randomUUID()}`,
    partnerId: PARTNER,
    channel: 'store' as const,
  };
  const ctx: RequestContext = {
    store,
    principal: admin,
    now: new Date().toISOString(),
    idempotency: { scope: '_admin', key: newId('txn'), requestHash: randomUUID() },
  };
  const { ms, result } = await timed(() => earnPoints(ctx, memberId, body));
  if (result.status !== 201) throw new Error(`earn answered ${result.status}: ${result.body}`);
  return ms;
}
