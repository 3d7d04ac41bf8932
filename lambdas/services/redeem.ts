import { ValidationError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { applyRedemption, MAX_BALANCE } from '../domain/member-ledger.ts';
import { MAX_FUTURE_SKEW_MS, toUtc } from '../domain/time.ts';
import type { RedemptionBody, TransactionView } from '../schemas/points.ts';
import type { RequestContext, UseCaseResponse } from './context.ts';
import { commitMemberChange } from './member-change.ts';
import { assertPartnerActive, loadPointsContext, partnerOfRequest } from './points-context.ts';

/**
 * POST /v1/members/{id}/redemptions: spend points (soonest-expiring lots first) as a captured
 * redemption. The version-conditioned write makes overspending impossible under any concurrency.
 */
export async function redeemPoints(
  ctx: RequestContext,
  memberId: string,
  body: RedemptionBody,
): Promise<UseCaseResponse> {
  if (body.rewardId !== undefined) {
    throw new ValidationError([
      { path: 'body.rewardId', message: 'the rewards catalogue is not available yet; send points' },
    ]);
  }
  if (body.hold === true) {
    throw new ValidationError([
      { path: 'body.hold', message: 'holds are not available yet; omit hold to capture' },
    ]);
  }
  const requested = body.points as number;
  const occurredAt = body.occurredAt ? toUtc(body.occurredAt) : ctx.now;
  if (Date.parse(occurredAt) > Date.parse(ctx.now) + MAX_FUTURE_SKEW_MS) {
    throw new ValidationError([
      { path: 'body.occurredAt', message: 'must not be more than 5 minutes in the future' },
    ]);
  }
  const partnerId = partnerOfRequest(ctx.principal, body.partnerId, false);
  const now = Date.parse(ctx.now);
  const redemptionId = newId('red', now);
  const txnId = newId('txn', now);

  return commitMemberChange(ctx, {
    memberId,
    load: () => loadPointsContext(ctx.store, memberId, partnerId),
    plan: ({ member, program, partner }) => {
      assertPartnerActive(partner, partnerId);
      const valueMinor = requested * program.pointValueMinor;
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
      const redemption = {
        id: redemptionId,
        transactionId: txnId,
        memberId,
        partnerId,
        status: 'captured' as const,
        points: requested,
        valueMinor,
        currency: program.currency,
        orderRef: body.orderRef ?? null,
        createdAt: ctx.now,
      };
      return {
        entry,
        entryExtra: { consumed: applied.consumed, redemption },
        points: applied.points,
        status: 201,
        responseShape: 'redemption',
        aggregates: [{ partnerId, delta: { redeemedPoints: requested, redemptionCount: 1 } }],
      };
    },
  });
}
