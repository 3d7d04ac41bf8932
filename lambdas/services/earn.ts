import {
  applies,
  type BudgetTake,
  campaignFactors,
  campaignRule,
  capCampaignLines,
  MAX_BUDGETS_PER_EARN,
  mayApply,
  takeFromBudget,
} from '../domain/campaigns.ts';
import { settleDue } from '../domain/due.ts';
import { calculateEarnPoints, type EarnFactor } from '../domain/earn-calculation.ts';
import { transactionOf } from '../domain/entries.ts';
import { ConflictError, ValidationError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { purchaseGroups, recordPurchaseActivity } from '../domain/kpis.ts';
import { MAX_BALANCE, MAX_POINTS_PER_TRANSACTION } from '../domain/member-ledger.ts';
import { applyEarn } from '../domain/movements.ts';
import { recordPurchase } from '../domain/purchase-history.ts';
import { ownValue } from '../domain/records.ts';
import { earnBenefitAt } from '../domain/subscriptions.ts';
import { currentTier } from '../domain/tiers.ts';
import { dayOf, instantNotAhead } from '../domain/time.ts';
import type { Partner } from '../schemas/partners.ts';
import type { BreakdownLine, EarnBody } from '../schemas/points.ts';
import {
  type BudgetRead,
  type CampaignRecord,
  exhaustBudget,
  markExhausted,
  readBudgets,
  shardItemOf,
  takeFromShard,
} from '../store/campaign-store.ts';
import { keys, shardOf } from '../store/keys.ts';
import { kpiItemsOf } from '../store/kpi-store.ts';
import { putOrderGuard } from '../store/ledger-store.ts';
import type { MemberRecord } from '../store/member-store.ts';
import type { TransactItem } from '../store/transactions.ts';
import { campaignsForEarn, forgetCampaigns } from './campaign-cache.ts';
import type { RequestContext, UseCaseResponse } from './context.ts';
import { commitMemberChange, type PlannedEvent } from './member-change.ts';
import {
  assertPartnerActive,
  loadPointsContext,
  type PointsContext,
  partnerOfRequest,
} from './points-context.ts';

export const BUDGET_EXHAUSTED = 'campaign.budget_exhausted';
const MAX_BUDGET_CONFLICTS = 8;

/** What an earn read: the points context, the campaigns that may apply and their budgets as read. */
type EarnLoaded = PointsContext & { campaigns: CampaignRecord[]; budgets: Map<string, BudgetRead> };

/**
 * POST /v1/members/{id}/earn: points for a purchase at a partner, by the partner's earn rule and
 * the category, tier, paid-membership and campaign multipliers, floored once, plus campaign bonuses.
 */
export async function earnPoints(
  ctx: RequestContext,
  memberId: string,
  body: EarnBody,
): Promise<UseCaseResponse> {
  const partnerId = partnerOfRequest(ctx.principal, body.partnerId, true) as string;
  const occurredAt = instantNotAhead(body.occurredAt, ctx.now, 'body.occurredAt');
  const txnId = newId('txn', Date.parse(ctx.now));
  const request = { occurredAt, partnerId, channel: body.channel ?? null, category: body.category ?? null };
  // Times another earn took the budget points this one planned on: past MAX_BUDGET_CONFLICTS the
  // earn goes ahead without its budgeted campaigns (a checkout's earn never fails on a budget).
  let budgetConflicts = 0;

  return commitMemberChange<EarnLoaded>(ctx, {
    memberId,
    load: async () => {
      // From the process's cache (no round trip), narrowed by what the request names.
      const campaigns = (await campaignsForEarn(ctx.store, ctx.now)).filter(
        (record) => record.exhaustedAt === null && mayApply(record.campaign, request),
      );
      const budgeted = campaigns.filter((record) => record.shards > 0);
      // The member's own shard of each budget comes with the member, in the same BatchGet.
      const loaded = await loadPointsContext(ctx, {
        memberId,
        partnerId,
        subscription: true,
        extra: budgeted.map((record) => ownShardKey(record, memberId)),
      });
      const budgets = new Map(
        budgeted.map((record) => {
          const own = ownShard(record, memberId);
          const key = ownShardKey(record, memberId);
          const read: BudgetRead = {
            remaining: new Map([[own, shardItemOf(loaded.extra.get(`${key.pk}|${key.sk}`))]]),
            exhaustedAt: null,
            complete: false,
          };
          return [record.campaign.id, read];
        }),
      );
      // Where the own shard cannot give the whole award, every shard is read (a second round trip,
      // near a budget's end only). The same calculation as the plan's, on the same data.
      const short = budgeted.length > 0 ? shortBudgets({ ...loaded, campaigns, budgets }) : [];
      if (short.length > 0) {
        const full = await readBudgets(
          ctx.store,
          short.map((record) => ({ campaignId: record.campaign.id, shards: record.shards })),
        );
        for (const [id, read] of full) budgets.set(id, read);
      }
      return { ...loaded, campaigns, budgets };
    },
    plan: (loaded) => {
      const { member, program, partner } = loaded;
      assertPartnerActive(partner, partnerId);
      if (!partner) throw new Error('unreachable: assertPartnerActive checked the partner');
      if (body.currency !== program.currency) {
        throw new ValidationError([
          { path: 'body.currency', message: `the program's currency is ${program.currency}` },
        ]);
      }
      const earned = earnCalculation({ ...loaded, partner }, memberId);
      const { points, breakdown } = earned;
      if (points > MAX_POINTS_PER_TRANSACTION) {
        throw new ValidationError([
          { path: 'body.amountMinor', message: `earns more than ${MAX_POINTS_PER_TRANSACTION} points` },
        ]);
      }
      if (member.points.lifetimeEarned + points > MAX_BALANCE) {
        throw new ConflictError(`This earn would take the member's lifetime points over ${MAX_BALANCE}.`);
      }
      const applied = applyEarn(member.points, points, occurredAt, ctx.now, program, partnerId);
      const kpi = recordPurchaseActivity(
        member.activity,
        dayOf(occurredAt),
        purchaseGroups(partnerId, body.channel),
      );
      if (applied.expiresAt !== null && applied.expiresAt <= ctx.now) {
        throw new ValidationError([
          {
            path: 'body.occurredAt',
            message: `is so long ago that its points would have expired on ${applied.expiresAt}`,
          },
        ]);
      }
      const entry = transactionOf({
        id: txnId,
        type: 'earn',
        memberId,
        partnerId,
        points,
        status: applied.status,
        availableAt: applied.availableAt,
        expiresAt: applied.expiresAt,
        breakdown,
        orderRef: body.orderRef,
        amountMinor: body.amountMinor,
        currency: body.currency,
        category: body.category ?? null,
        channel: body.channel ?? null,
        actorKeyId: ctx.principal.keyId,
        occurredAt,
        createdAt: ctx.now,
      });
      // Coalition-wide campaigns are the coalition's to fund; the partner funds the rest (its own
      // campaigns included).
      const fundedPoints = points - earned.coalitionCampaignPoints;
      const budgetWrites = budgetItems(ctx, earned.budgets);
      if (budgetWrites.events.length > 0) forgetCampaigns(ctx.store);
      return {
        entry,
        // The funding charged for these points, at this moment's rate: reversals net exactly this.
        entryExtra: {
          fundingRateMinor: partner.fundingRateMinor,
          fundingMinor: fundedPoints * partner.fundingRateMinor,
          ...(earned.coalitionCampaignPoints > 0 ? { fundedPoints } : {}),
        },
        points: applied.points,
        // The purchase feeds the churn model (days and spend) and the KPIs, whatever points it earned.
        memberSet: {
          purchases: recordPurchase(member.purchases ?? null, occurredAt, body.amountMinor),
          activity: kpi.activity,
        },
        kpiItems: kpiItemsOf(ctx.store, memberId, occurredAt, kpi.counters),
        status: 201,
        items: [putOrderGuard(ctx.store, partnerId, body.orderRef, txnId, memberId), ...budgetWrites.items],
        events: budgetWrites.events,
        aggregates: [
          {
            partnerId,
            delta: {
              issuedPoints: fundedPoints,
              earnCount: 1,
              earnAmountMinor: body.amountMinor,
              fundingMinor: fundedPoints * partner.fundingRateMinor,
              campaignPoints: earned.partnerCampaignPoints,
            },
          },
          ...(earned.coalitionCampaignPoints > 0
            ? [
                {
                  partnerId: null,
                  delta: {
                    issuedPoints: earned.coalitionCampaignPoints,
                    campaignPoints: earned.coalitionCampaignPoints,
                  },
                },
              ]
            : []),
        ],
        // The order guard: a second earn of the order. A budget's item: another earn took from it.
        onItemConditionFailed: (index) => {
          if (index === 0)
            return new ConflictError(`Order ${body.orderRef} already earned points at partner ${partnerId}.`);
          budgetConflicts++;
          return 'retry';
        },
      };
    },
  });

  /**
   * The points of this purchase: the earn rule, then category × tier × subscription × campaign
   * multipliers floored once, then campaign bonuses; each budgeted campaign's line cut to what its
   * budget gives (decisions §45).
   */
  function earnCalculation(
    loaded: EarnLoaded & { member: MemberRecord; partner: Partner },
    memberId: string,
  ) {
    const { member, program, partner, subscription } = loaded;
    const tier = currentTier(member.points, program.tiers);
    const factors: EarnFactor[] = [];
    const categoryMultiplier = body.category
      ? ownValue(partner.categoryMultipliers, body.category)
      : undefined;
    if (body.category && categoryMultiplier !== undefined) {
      factors.push({ rule: `category:${body.category}`, multiplier: categoryMultiplier });
    }
    factors.push({ rule: `tier:${tier.code}`, multiplier: tier.earnMultiplier });
    const membership = earnBenefitAt(subscription?.subscription, ctx.now, {
      graceDays: program.subscriptionGraceDays,
    });
    if (membership) {
      factors.push({ rule: `subscription:${membership.planId}`, multiplier: membership.earnMultiplier });
    }
    const purchase = {
      ...request,
      tier: tier.code,
      churnRisk: member.churn?.risk ?? null,
      subscribed: membership !== undefined && membership !== null,
    };
    const matching = loaded.campaigns
      .filter(
        (record) =>
          applies(record.campaign, purchase) && loaded.budgets.get(record.campaign.id)?.exhaustedAt == null,
      )
      .sort((a, b) => a.campaign.id.localeCompare(b.campaign.id));
    // At most MAX_BUDGETS_PER_EARN budgets (the oldest campaigns) per purchase: a transaction holds
    // 100 items. None once this earn kept losing its budget points to others.
    const budgeted = matching
      .filter((record) => record.shards > 0)
      .slice(0, budgetConflicts >= MAX_BUDGET_CONFLICTS ? 0 : MAX_BUDGETS_PER_EARN);
    const applying = matching.filter((record) => record.shards === 0 || budgeted.includes(record));
    const { multipliers, bonuses } = campaignFactors(applying.map((record) => record.campaign));
    const calculated = calculateEarnPoints(body.amountMinor, partner.earnRule, [...factors, ...multipliers]);
    const uncapped: BreakdownLine[] = [...calculated.breakdown, ...bonuses];
    const awards = new Map<string, number>();
    const budgets: BudgetPlan[] = [];
    for (const record of applying) {
      const read = loaded.budgets.get(record.campaign.id);
      if (!read) continue;
      const rule = campaignRule(record.campaign.id);
      const wanted = uncapped.find((line) => line.rule === rule)?.points ?? 0;
      const own = ownShard(record, memberId);
      const ownLeft = read.remaining.get(own) ?? 0;
      if (!read.complete && ownLeft <= wanted) {
        // Only the load's first read: the load reads every shard for exactly these.
        budgets.push({ record, short: true, award: 0, takes: [], emptied: false });
        awards.set(rule, 0);
        continue;
      }
      const taken = read.complete
        ? takeFromBudget(wanted, own, read.remaining)
        : { award: wanted, takes: [{ shard: own, read: ownLeft, left: ownLeft - wanted }], emptied: false };
      budgets.push({ record, short: false, ...taken });
      awards.set(rule, taken.award);
    }
    const { points, breakdown } = capCampaignLines(uncapped, awards);
    const campaignPoints = (coalition: boolean) =>
      applying
        .filter((record) => (record.campaign.partnerId === null) === coalition)
        .reduce(
          (sum, record) =>
            sum + (breakdown.find((line) => line.rule === campaignRule(record.campaign.id))?.points ?? 0),
          0,
        );
    return {
      points,
      breakdown,
      budgets,
      coalitionCampaignPoints: campaignPoints(true),
      partnerCampaignPoints: campaignPoints(false),
    };
  }

  /** The budgeted campaigns whose own shard cannot give this earn's whole award. */
  function shortBudgets(loaded: EarnLoaded): CampaignRecord[] {
    if (!loaded.member || !loaded.partner) return [];
    const member = { ...loaded.member, points: settleDue(loaded.member.points, ctx.now).points };
    return earnCalculation({ ...loaded, member, partner: loaded.partner }, memberId)
      .budgets.filter((budget) => budget.short)
      .map((budget) => budget.record);
  }
}

/** What an earn takes from one budget, and whether it leaves the budget empty. */
interface BudgetPlan {
  record: CampaignRecord;
  /** The own shard was short and the other shards were not read (the load reads them). */
  short: boolean;
  award: number;
  takes: BudgetTake[];
  emptied: boolean;
}

/** The earn's writes to budgets: the shards it took from, and the exhaustion it found or made. */
function budgetItems(
  ctx: RequestContext,
  plans: BudgetPlan[],
): { items: TransactItem[]; events: PlannedEvent[] } {
  const items: TransactItem[] = [];
  const events: PlannedEvent[] = [];
  for (const plan of plans) {
    const { campaign } = plan.record;
    for (const take of plan.takes) {
      if (take.read !== take.left)
        items.push(takeFromShard(ctx.store, campaign.id, take.shard, take.read, take.left));
    }
    if (!plan.emptied) continue;
    // The budget has nothing left: the state says so once (its condition), with the event.
    items.push(
      exhaustBudget(ctx.store, campaign.id, ctx.now),
      ...markExhausted(ctx.store, campaign, ctx.now),
    );
    events.push({
      dedupeKey: `${BUDGET_EXHAUSTED}#${campaign.id}`,
      type: BUDGET_EXHAUSTED,
      memberId: null,
      partnerId: campaign.partnerId,
      data: { campaignId: campaign.id, name: campaign.name, budgetPoints: campaign.budgetPoints },
    });
  }
  return { items, events };
}

/** The shard of a budget an earn takes from first: the member's, so earns spread over every shard. */
const ownShard = (record: CampaignRecord, memberId: string) => shardOf(memberId, record.shards);
const ownShardKey = (record: CampaignRecord, memberId: string) =>
  keys.campaignBudgetShard(record.campaign.id, ownShard(record, memberId));
