import { ConflictError, NotFoundError, OutOfStockError, ValidationError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { applyRedemption, MAX_BALANCE } from '../domain/member-ledger.ts';
import { instantNotAhead } from '../domain/time.ts';
import type { RedemptionBody, RedemptionView, TransactionView } from '../schemas/points.ts';
import { getReward, outOfStockEvent, type RewardRecord, redeemRewardUnit } from '../store/reward-store.ts';
import type { TransactItem } from '../store/transactions.ts';
import type { RequestContext, UseCaseResponse } from './context.ts';
import { commitMemberChange } from './member-change.ts';
import { assertPartnerActive, loadPointsContext, partnerOfRequest } from './points-context.ts';

/**
 * POST /v1/members/{id}/redemptions: spend points (soonest-expiring lots first) as a captured
 * redemption, either a number of points or one unit of a reward. Points earned at any partner
 * can be spent at any partner; the redemption records where it happened. The version-conditioned
 * writes of member and reward make overspending and overselling impossible under any concurrency.
 */
export async function redeemPoints(
  ctx: RequestContext,
  memberId: string,
  body: RedemptionBody,
): Promise<UseCaseResponse> {
  if (body.hold === true) {
    throw new ValidationError([
      { path: 'body.hold', message: 'holds are not available yet; omit hold to capture' },
    ]);
  }
  const occurredAt = instantNotAhead(body.occurredAt, ctx.now, 'body.occurredAt');
  const partnerId = await redemptionPartner(ctx, body);
  const now = Date.parse(ctx.now);
  const redemptionId = newId('red', now);
  const txnId = newId('txn', now);

  return commitMemberChange(ctx, {
    memberId,
    load: () => loadPointsContext(ctx.store, memberId, partnerId, body.rewardId),
    plan: ({ member, program, partner, reward }) => {
      assertPartnerActive(partner, partnerId);
      const rewardItems = body.rewardId ? rewardPart(ctx, body.rewardId, reward, partnerId) : undefined;
      const requested = rewardItems ? rewardItems.reward.reward.costPoints : (body.points as number);
      const valueMinor = rewardItems
        ? rewardItems.reward.reward.valueMinor
        : requested * program.pointValueMinor;
      if (valueMinor > MAX_BALANCE) {
        throw new ValidationError([
          { path: 'body.points', message: `is worth more than ${MAX_BALANCE} minor units` },
        ]);
      }
      const applied = applyRedemption(member.points, requested);
      const entry: TransactionView = {
        id: txnId,
        type: 'redeem',
        memberId,
        partnerId,
        points: -requested,
        status: 'posted',
        availableAt: null,
        expiresAt: null,
        breakdown: [],
        orderRef: body.orderRef ?? null,
        amountMinor: null,
        currency: null,
        category: null,
        channel: null,
        redemptionId,
        occurredAt,
        createdAt: ctx.now,
      };
      const redemption: RedemptionView = {
        id: redemptionId,
        transactionId: txnId,
        memberId,
        partnerId,
        status: 'captured',
        points: requested,
        valueMinor,
        currency: program.currency,
        rewardId: body.rewardId ?? null,
        orderRef: body.orderRef ?? null,
        createdAt: ctx.now,
      };
      return {
        entry,
        entryExtra: {
          consumed: applied.consumed,
          redemption,
          // The reimbursement owed for these points, at this moment's rate: refunds net exactly this.
          reimbursementRateMinor: partner?.reimbursementRateMinor ?? 0,
          reimbursementMinor: requested * (partner?.reimbursementRateMinor ?? 0),
        },
        points: applied.points,
        status: 201,
        responseShape: 'redemption',
        items: rewardItems?.items ?? [],
        aggregates: [
          {
            partnerId,
            delta: {
              redeemedPoints: requested,
              redemptionCount: 1,
              reimbursementMinor: requested * (partner?.reimbursementRateMinor ?? 0),
            },
          },
        ],
        // The reward changed (a unit went, or an admin edited it) since we read it: plan again.
        onItemConditionFailed: (index) => (index === 0 && rewardItems ? 'retry' : undefined),
      };
    },
  });
}

/**
 * Where the redemption happens: a partner key's own partner; for an admin, the partner named in
 * the body or, for a reward, the partner that offers it.
 */
async function redemptionPartner(ctx: RequestContext, body: RedemptionBody): Promise<string | null> {
  const partnerId = partnerOfRequest(ctx.principal, body.partnerId, body.rewardId === undefined);
  if (partnerId !== null || body.rewardId === undefined) return partnerId;
  const record = await getReward(ctx.store, body.rewardId);
  if (!record) throw new NotFoundError(`No reward ${body.rewardId}.`);
  return record.reward.partnerId;
}

/** The reward's checks and items: one unit taken, and `reward.out_of_stock` when it was the last. */
function rewardPart(
  ctx: RequestContext,
  rewardId: string,
  reward: RewardRecord | undefined,
  partnerId: string | null,
): { reward: RewardRecord; items: TransactItem[] } {
  // A partner redeems its own rewards: another partner's reward does not exist for it.
  if (!reward || (ctx.principal.role === 'partner' && reward.reward.partnerId !== partnerId)) {
    throw new NotFoundError(`No reward ${rewardId}.`);
  }
  if (reward.reward.partnerId !== partnerId) {
    throw new ValidationError([
      {
        path: 'body.partnerId',
        message: `reward ${rewardId} is offered by partner ${reward.reward.partnerId}`,
      },
    ]);
  }
  if (!reward.reward.active) throw new ConflictError(`Reward ${rewardId} is not active.`);
  if (reward.reward.inventory === 0) throw new OutOfStockError(rewardId);
  const items = [redeemRewardUnit(ctx.store, reward)];
  if (reward.reward.inventory === 1)
    items.push(outOfStockEvent(ctx.store, reward, ctx.now, newId('evt', Date.parse(ctx.now))));
  return { reward, items };
}
