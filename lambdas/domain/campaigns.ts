/**
 * Campaigns at earn time: which apply to a purchase, how they stack with the other earn factors,
 * and how a budget is split so that no single item takes every earn.
 *
 * Stacking: points = ⌊ base × category × tier × subscription × Π campaign multipliers ⌋ + Σ campaign
 * bonuses, the product floored once (earn-calculation.ts); each campaign's line is what it added.
 * A budgeted campaign gives at most what is left of its budget: a last award may be partial.
 */
import type { Campaign, CampaignTarget } from '../schemas/campaigns.ts';
import type { BreakdownLine } from '../schemas/points.ts';
import type { EarnFactor } from './earn-calculation.ts';

/** What a campaign's target is matched against. */
export interface Purchase {
  occurredAt: string;
  partnerId: string;
  channel: string | null;
  category: string | null;
  /** The member's tier code before this purchase. */
  tier: string;
  churnRisk: 'low' | 'medium' | 'high' | null;
  subscribed: boolean;
}

/** The dimensions a request names, before the member is read (to pick the budgets to read). */
export function mayApply(
  campaign: Campaign,
  purchase: Pick<Purchase, 'occurredAt' | 'partnerId' | 'channel' | 'category'>,
): boolean {
  if (!campaign.active) return false;
  // startsAt inclusive, endsAt exclusive (instants compare as strings once both are UTC).
  if (purchase.occurredAt < campaign.startsAt || purchase.occurredAt >= campaign.endsAt) return false;
  if (campaign.partnerId !== null && campaign.partnerId !== purchase.partnerId) return false;
  const target: CampaignTarget = campaign.target;
  if (target.partners && !target.partners.includes(purchase.partnerId)) return false;
  if (target.channels && !(purchase.channel !== null && target.channels.includes(purchase.channel as never)))
    return false;
  if (target.categories && !(purchase.category !== null && target.categories.includes(purchase.category)))
    return false;
  return true;
}

/** Every dimension of the target matches the purchase and its member. */
export function applies(campaign: Campaign, purchase: Purchase): boolean {
  if (!mayApply(campaign, purchase)) return false;
  const target = campaign.target;
  if (target.tiers && !target.tiers.includes(purchase.tier)) return false;
  if (target.churnRisk && !(purchase.churnRisk !== null && target.churnRisk.includes(purchase.churnRisk)))
    return false;
  if (target.subscribed !== undefined && target.subscribed !== purchase.subscribed) return false;
  return true;
}

export const campaignRule = (campaignId: string) => `campaign:${campaignId}`;

/** The campaigns that apply, in a fixed order (by id): multipliers first as factors, then bonuses. */
export function campaignFactors(campaigns: readonly Campaign[]): {
  multipliers: EarnFactor[];
  bonuses: BreakdownLine[];
} {
  const ordered = [...campaigns].sort((a, b) => a.id.localeCompare(b.id));
  return {
    multipliers: ordered.flatMap((c) =>
      'multiplier' in c.reward ? [{ rule: campaignRule(c.id), multiplier: c.reward.multiplier }] : [],
    ),
    bonuses: ordered.flatMap((c) =>
      'bonusPoints' in c.reward ? [{ rule: campaignRule(c.id), points: c.reward.bonusPoints }] : [],
    ),
  };
}

/**
 * The breakdown with each budgeted campaign's line cut to what its budget gives (`awards`): a line
 * cut to 0 is dropped (the campaign did not apply). The total is the sum of the lines.
 */
export function capCampaignLines(
  breakdown: readonly BreakdownLine[],
  awards: ReadonlyMap<string, number>,
): { points: number; breakdown: BreakdownLine[] } {
  const lines = breakdown.flatMap((line) => {
    const award = awards.get(line.rule);
    if (award === undefined) return [line];
    const points = Math.min(line.points, award);
    return points > 0 ? [{ rule: line.rule, points }] : [];
  });
  return { points: lines.reduce((sum, line) => sum + line.points, 0), breakdown: lines };
}

/** The least a budget shard holds: an award rarely needs more than one or two shards. */
export const MIN_SHARD_POINTS = 50;
/** Shards one earn may take from per budget, and budgets it may draw on (a transaction's 100 items). */
export const MAX_TAKES_PER_BUDGET = 4;
export const MAX_BUDGETS_PER_EARN = 8;

/**
 * A budget split into shards (earns pick theirs by member, so no one item takes every earn): at
 * most `maxShards`, each at least MIN_SHARD_POINTS (a small budget has few shards), as equal as
 * the points allow, the first shards one point more.
 */
export function budgetShards(budgetPoints: number, maxShards: number): number[] {
  const count = Math.max(1, Math.min(maxShards, Math.floor(budgetPoints / MIN_SHARD_POINTS)));
  const each = Math.floor(budgetPoints / count);
  const extra = budgetPoints - each * count;
  return Array.from({ length: count }, (_, index) => each + (index < extra ? 1 : 0));
}

/** Points taken from one shard of a budget: what it held when read, what it keeps. */
export interface BudgetTake {
  shard: number;
  read: number;
  left: number;
}

/**
 * What a budget gives an earn that wants `wanted` points: the member's own shard first, then the
 * next shards in turn (so earns short of points spread over the shards instead of all racing for
 * one), from at most MAX_TAKES_PER_BUDGET shards, until the award is whole or the budget is empty.
 * So an award is cut short by the budget's last points (the partial last award), or when it is
 * larger than four shards hold.
 */
export function takeFromBudget(
  wanted: number,
  own: number,
  remaining: ReadonlyMap<number, number>,
): { award: number; takes: BudgetTake[]; emptied: boolean } {
  const count = remaining.size;
  const takes: BudgetTake[] = [];
  let award = 0;
  for (let step = 0; step < count && award < wanted && takes.length < MAX_TAKES_PER_BUDGET; step++) {
    const shard = (own + step) % count;
    const left = remaining.get(shard) ?? 0;
    if (left === 0) continue;
    const taken = Math.min(left, wanted - award);
    award += taken;
    takes.push({ shard, read: left, left: left - taken });
  }
  const total = [...remaining.values()].reduce((sum, left) => sum + left, 0);
  return { award, takes, emptied: total - award === 0 };
}
