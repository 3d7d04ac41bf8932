import { ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import type { CreateRewardBody, Reward, UpdateRewardBody } from '../schemas/rewards.ts';
import type { Principal } from '../store/api-key-store.ts';
import { getPartner } from '../store/partner-store.ts';
import {
  getReward,
  listRewards,
  putNewReward,
  type RewardRecord,
  updateReward,
} from '../store/reward-store.ts';
import { type RequestContext, respond, type UseCaseResponse } from './context.ts';
import { createResource } from './create-resource.ts';
import { partnerOfRequest } from './points-context.ts';

/**
 * A reward as this caller may see it: partner keys see their own partner's rewards only; another
 * partner's reward does not exist for them (404, never 403, so ids reveal nothing).
 */
export async function visibleReward(ctx: RequestContext, rewardId: string): Promise<RewardRecord> {
  const record = await getReward(ctx.store, rewardId);
  if (!record || !canSee(ctx.principal, record.reward)) throw new NotFoundError(`No reward ${rewardId}.`);
  return record;
}

const canSee = (principal: Principal, reward: Reward) =>
  principal.role !== 'partner' || principal.partnerId === reward.partnerId;

export async function createReward(ctx: RequestContext, body: CreateRewardBody): Promise<UseCaseResponse> {
  const partnerId = partnerOfRequest(ctx.principal, body.partnerId, true) as string;
  if (!(await getPartner(ctx.store, partnerId))) {
    throw new ValidationError([{ path: 'body.partnerId', message: `no partner ${partnerId}` }]);
  }
  const reward: Reward = {
    id: newId('rwd', Date.parse(ctx.now)),
    partnerId,
    name: body.name,
    description: body.description ?? null,
    costPoints: body.costPoints,
    valueMinor: body.valueMinor,
    inventory: body.inventory,
    active: body.active,
    createdAt: ctx.now,
    updatedAt: ctx.now,
  };
  return createResource(
    ctx,
    [putNewReward(ctx.store, reward)],
    { status: 201, body: reward },
    () => undefined,
  );
}

export async function readReward(ctx: RequestContext, rewardId: string): Promise<UseCaseResponse> {
  return respond(200, (await visibleReward(ctx, rewardId)).reward);
}

export async function listCatalogue(
  ctx: RequestContext,
  query: { limit: number; cursor?: string; partnerId?: string; active?: 'true' | 'false' },
): Promise<UseCaseResponse> {
  const own = ctx.principal.role === 'partner' ? (ctx.principal.partnerId as string) : undefined;
  if (own !== undefined && query.partnerId !== undefined && query.partnerId !== own) {
    throw new ForbiddenError('A partner key lists its own catalogue only; omit partnerId or send your own.');
  }
  const partnerId = own ?? query.partnerId;
  const page = await listRewards(ctx.store, {
    limit: query.limit,
    ...(query.cursor ? { cursor: query.cursor } : {}),
    ...(partnerId ? { partnerId } : {}),
    ...(query.active ? { active: query.active === 'true' } : {}),
  });
  return respond(200, page);
}

export async function changeReward(
  ctx: RequestContext,
  rewardId: string,
  changes: UpdateRewardBody,
): Promise<UseCaseResponse> {
  await visibleReward(ctx, rewardId);
  return respond(
    200,
    await updateReward(ctx.store, rewardId, changes, ctx.now, () => newId('evt', Date.parse(ctx.now))),
  );
}
