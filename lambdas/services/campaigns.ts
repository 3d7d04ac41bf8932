/**
 * POST/GET /v1/campaigns, GET/PATCH /v1/campaigns/{id}: time-boxed, targeted earn boosts. A
 * partner key manages its own partner's campaigns only (another's do not exist for it); a
 * coalition-wide campaign (no partnerId) is the admin's.
 */
import {
  ForbiddenError,
  NotFoundError,
  TooManyConcurrentUpdatesError,
  ValidationError,
} from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { toUtc } from '../domain/time.ts';
import type { Campaign, CampaignView, CreateCampaignBody, UpdateCampaignBody } from '../schemas/campaigns.ts';
import type { Principal } from '../store/api-key-store.ts';
import {
  type CampaignRecord,
  getCampaign,
  listCampaigns,
  newCampaignItems,
  putAll,
  readBudgets,
  replaceCampaign,
} from '../store/campaign-store.ts';
import { findReplay } from '../store/idempotency.ts';
import { getPartner } from '../store/partner-store.ts';
import { TransactionCancelledError, transactWrite } from '../store/transactions.ts';
import { forgetCampaigns } from './campaign-cache.ts';
import { type RequestContext, respond, type UseCaseResponse } from './context.ts';
import { createResource } from './create-resource.ts';
import { jitter } from './retry.ts';

/** Most shards a budget is split into (decisions §45): LOYALTY_CAMPAIGN_BUDGET_SHARDS, 1–256. */
export function budgetShardLimit(): number {
  const configured = Number(process.env.LOYALTY_CAMPAIGN_BUDGET_SHARDS ?? 64);
  return Number.isInteger(configured) && configured >= 1 && configured <= 256 ? configured : 64;
}

const canSee = (principal: Principal, campaign: Campaign) =>
  principal.role !== 'partner' || (campaign.partnerId !== null && principal.partnerId === campaign.partnerId);

async function visibleCampaign(ctx: RequestContext, campaignId: string): Promise<CampaignRecord> {
  const record = await getCampaign(ctx.store, campaignId);
  if (!record || !canSee(ctx.principal, record.campaign))
    throw new NotFoundError(`No campaign ${campaignId}.`);
  return record;
}

/** The view with what the budget has given so far (its shards summed). */
async function viewsOf(ctx: RequestContext, records: CampaignRecord[]): Promise<CampaignView[]> {
  const budgets = await readBudgets(
    ctx.store,
    records.filter((r) => r.shards > 0).map((r) => ({ campaignId: r.campaign.id, shards: r.shards })),
  );
  return records.map(({ campaign, exhaustedAt }) => {
    const read = budgets.get(campaign.id);
    const remainingPoints = read ? [...read.remaining.values()].reduce((sum, left) => sum + left, 0) : 0;
    return {
      ...campaign,
      budget:
        campaign.budgetPoints === null
          ? null
          : {
              awardedPoints: campaign.budgetPoints - remainingPoints,
              remainingPoints,
              exhaustedAt: read?.exhaustedAt ?? exhaustedAt,
            },
    };
  });
}

function checkTarget(partnerId: string | null, target: Campaign['target']): void {
  if (partnerId !== null && target.partners !== undefined) {
    throw new ValidationError([
      {
        path: 'body.target.partners',
        message:
          "a partner's campaign applies at its own partner only; target partners in a coalition-wide one",
      },
    ]);
  }
}

export async function createCampaign(
  ctx: RequestContext,
  body: CreateCampaignBody,
): Promise<UseCaseResponse> {
  const principal = ctx.principal;
  if (
    principal.role === 'partner' &&
    body.partnerId !== undefined &&
    body.partnerId !== principal.partnerId
  ) {
    throw new ForbiddenError(
      'A partner key runs campaigns for its own partner only; omit partnerId or send your own.',
    );
  }
  const partnerId = principal.role === 'partner' ? (principal.partnerId as string) : (body.partnerId ?? null);
  if (partnerId !== null && !(await getPartner(ctx.store, partnerId))) {
    throw new ValidationError([{ path: 'body.partnerId', message: `no partner ${partnerId}` }]);
  }
  checkTarget(partnerId, body.target);
  const campaign: Campaign = {
    id: newId('cmp', Date.parse(ctx.now)),
    name: body.name,
    partnerId,
    startsAt: toUtc(body.startsAt),
    endsAt: toUtc(body.endsAt),
    target: body.target,
    reward: body.reward,
    budgetPoints: body.budgetPoints ?? null,
    active: body.active,
    createdAt: ctx.now,
    updatedAt: ctx.now,
  };
  const view: CampaignView = {
    ...campaign,
    budget:
      campaign.budgetPoints === null
        ? null
        : { awardedPoints: 0, remainingPoints: campaign.budgetPoints, exhaustedAt: null },
  };
  const { shards, items } = newCampaignItems(ctx.store, campaign, budgetShardLimit());
  if (shards.length > 0) {
    // A replay answers first, so it leaves no shards of a campaign it does not create.
    const replay = ctx.idempotency ? await findReplay(ctx.store, ctx.idempotency) : undefined;
    if (replay) return { ...replay, replayed: true };
    await putAll(ctx.store, shards);
  }
  const created = await createResource(ctx, items, { status: 201, body: view }, () => undefined);
  forgetCampaigns(ctx.store);
  return created;
}

export async function readCampaign(ctx: RequestContext, campaignId: string): Promise<UseCaseResponse> {
  const [view] = await viewsOf(ctx, [await visibleCampaign(ctx, campaignId)]);
  return respond(200, view);
}

export async function listCampaignsFor(
  ctx: RequestContext,
  query: { limit: number; cursor?: string | undefined; partnerId?: string | undefined },
): Promise<UseCaseResponse> {
  const own = ctx.principal.role === 'partner' ? (ctx.principal.partnerId as string) : undefined;
  if (own !== undefined && query.partnerId !== undefined && query.partnerId !== own) {
    throw new ForbiddenError('A partner key lists its own campaigns only; omit partnerId or send your own.');
  }
  const page = await listCampaigns(ctx.store, {
    limit: query.limit,
    cursor: query.cursor,
    partnerId: own ?? query.partnerId,
  });
  const items = await viewsOf(ctx, page.items);
  return respond(200, { items, nextCursor: page.nextCursor });
}

const MAX_PATCH_ATTEMPTS = 5;

export async function changeCampaign(
  ctx: RequestContext,
  campaignId: string,
  changes: UpdateCampaignBody,
): Promise<UseCaseResponse> {
  for (let attempt = 0; attempt < MAX_PATCH_ATTEMPTS; attempt++) {
    if (attempt > 0) await jitter(attempt);
    const before = await visibleCampaign(ctx, campaignId);
    const campaign: Campaign = {
      ...before.campaign,
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.startsAt !== undefined ? { startsAt: toUtc(changes.startsAt) } : {}),
      ...(changes.endsAt !== undefined ? { endsAt: toUtc(changes.endsAt) } : {}),
      ...(changes.target !== undefined ? { target: changes.target } : {}),
      ...(changes.reward !== undefined ? { reward: changes.reward } : {}),
      ...(changes.active !== undefined ? { active: changes.active } : {}),
      updatedAt: ctx.now,
    };
    if (campaign.endsAt <= campaign.startsAt) {
      throw new ValidationError([
        {
          path: changes.endsAt !== undefined ? 'body.endsAt' : 'body.startsAt',
          message: `the campaign would end (${campaign.endsAt}) before it starts (${campaign.startsAt})`,
        },
      ]);
    }
    checkTarget(campaign.partnerId, campaign.target);
    try {
      await transactWrite(ctx.store, replaceCampaign(ctx.store, before, campaign));
    } catch (error) {
      if (error instanceof TransactionCancelledError) continue;
      throw error;
    }
    forgetCampaigns(ctx.store);
    const [view] = await viewsOf(ctx, [{ ...before, campaign, version: before.version + 1 }]);
    return respond(200, view);
  }
  throw new TooManyConcurrentUpdatesError();
}
