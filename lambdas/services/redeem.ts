import { transactionOf } from '../domain/entries.ts';
import { ConflictError, NotFoundError, OutOfStockError, ValidationError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { MAX_BALANCE } from '../domain/member-ledger.ts';
import { applyHold, applyRedemption } from '../domain/movements.ts';
import { instantNotAhead } from '../domain/time.ts';
import type { Partner } from '../schemas/partners.ts';
import type { RedemptionBody, RedemptionView } from '../schemas/points.ts';
import { putNewRedemption } from '../store/redemption-store.ts';
import { getReward, outOfStockEvent, type RewardRecord, redeemRewardUnit } from '../store/reward-store.ts';
import type { TransactItem } from '../store/transactions.ts';
import type { RequestContext, UseCaseResponse } from './context.ts';
import { commitMemberChange } from './member-change.ts';
import { assertPartnerActive, loadPointsContext, partnerOfRequest } from './points-context.ts';

/**
 * POST /v1/members/{id}/redemptions: spend points (soonest-expiring lots first), either a number
 * of points or one unit of a reward, captured at once or held (`hold: true`) until captured,
 * released, or the hold expires. Points earned at any partner can be spent at any partner; the
 * redemption records where it happened. The version-conditioned writes of member and reward make
 * overspending and overselling impossible under any concurrency.
 */
export async function redeemPoints(
  ctx: RequestContext,
  memberId: string,
  body: RedemptionBody,
): Promise<UseCaseResponse> {
  const occurredAt = instantNotAhead(body.occurredAt, ctx.now, 'body.occurredAt');
  const partnerId = await redemptionPartner(ctx, body);
  const now = Date.parse(ctx.now);
  const redemptionId = newId('red', now);
  const txnId = newId('txn', now);

  return commitMemberChange(ctx, {
    memberId,
    load: () => loadPointsContext(ctx, { memberId, partnerId, rewardId: body.rewardId }),
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
      const view: RedemptionView = {
        id: redemptionId,
        transactionId: null,
        memberId,
        partnerId,
        status: 'held',
        points: requested,
        capturedPoints: 0,
        refundedPoints: 0,
        valueMinor,
        currency: program.currency,
        rewardId: body.rewardId ?? null,
        orderRef: body.orderRef ?? null,
        holdExpiresAt: null,
        createdAt: ctx.now,
        updatedAt: ctx.now,
      };
      const rewardUnitTaken = rewardItems !== undefined && rewardItems.reward.reward.inventory !== null;
      const common = {
        status: 201,
        // The reward changed (a unit went, or an admin edited it) since we read it: plan again.
        onItemConditionFailed: (index: number) =>
          index < (rewardItems?.items.length ?? 0) ? ('retry' as const) : undefined,
      };

      if (body.hold === true) {
        const holdExpiresAt = new Date(now + program.holdExpiryMinutes * 60_000).toISOString();
        const held = { ...view, holdExpiresAt };
        const points = applyHold(
          member.points,
          redemptionId,
          requested,
          holdExpiresAt,
          rewardUnitTaken ? (body.rewardId as string) : null,
          partnerId,
        );
        return {
          ...common,
          points,
          response: { redemption: held },
          items: [
            ...(rewardItems?.items ?? []),
            putNewRedemption(ctx.store, {
              redemption: held,
              consumed: [],
              reimbursementRateMinor: 0,
              rewardUnitTaken,
              version: 0,
            }),
          ],
          aggregates: [{ partnerId, delta: { heldPoints: requested } }],
        };
      }

      const applied = applyRedemption(member.points, requested);
      const captured: RedemptionView = {
        ...view,
        status: 'captured',
        transactionId: txnId,
        capturedPoints: requested,
      };
      const rate = reimbursementRate(partner);
      return {
        ...common,
        entry: transactionOf({
          id: txnId,
          type: 'redeem',
          memberId,
          partnerId,
          points: -requested,
          orderRef: body.orderRef ?? null,
          redemptionId,
          actorKeyId: ctx.principal.keyId,
          occurredAt,
          createdAt: ctx.now,
        }),
        entryExtra: {
          consumed: applied.consumed,
          redemption: captured,
          // The reimbursement owed for these points, at this moment's rate: refunds net exactly this.
          reimbursementRateMinor: rate,
          reimbursementMinor: requested * rate,
        },
        responseParts: ['redemption'],
        points: applied.points,
        items: [
          ...(rewardItems?.items ?? []),
          putNewRedemption(ctx.store, {
            redemption: captured,
            consumed: applied.consumed,
            reimbursementRateMinor: rate,
            rewardUnitTaken,
            version: 0,
          }),
        ],
        aggregates: [
          {
            partnerId,
            delta: { redeemedPoints: requested, redemptionCount: 1, reimbursementMinor: requested * rate },
          },
        ],
      };
    },
  });
}

/** What the coalition pays a partner per point redeemed at it, now (0 for coalition redemptions). */
export const reimbursementRate = (partner: Partner | undefined) => partner?.reimbursementRateMinor ?? 0;

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
