/**
 * A redemption after it was made: read it, capture or release a hold, refund captured points.
 * Each is a change of the member (read → plan → version-conditioned write) that also moves the
 * redemption's own state, so a capture racing a release (or a refund racing a refund) commits
 * exactly one of them; the loser re-reads and is refused with the state it found.
 */

import type { Settled } from '../domain/due.ts';
import { transactionOf } from '../domain/entries.ts';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { applyCapture, applyRefund, applyRelease } from '../domain/movements.ts';
import type { RedemptionView } from '../schemas/points.ts';
import type { MemberRecord } from '../store/member-store.ts';
import { getRedemption, type RedemptionRecord, updateRedemption } from '../store/redemption-store.ts';
import { type RequestContext, respond, type UseCaseResponse } from './context.ts';
import { commitMemberChange, type MemberChangePlan } from './member-change.ts';
import { assertPartnerActive, loadPointsContext, type PointsContext } from './points-context.ts';
import { reimbursementRate } from './redeem.ts';

/** A redemption as this caller may see it: a partner key sees only those made at its partner. */
async function visibleRedemption(ctx: RequestContext, redemptionId: string): Promise<RedemptionRecord> {
  const record = await getRedemption(ctx.store, redemptionId);
  const hidden = ctx.principal.role === 'partner' && record?.redemption.partnerId !== ctx.principal.partnerId;
  if (!record || hidden) throw new NotFoundError(`No redemption ${redemptionId}.`);
  return record;
}

/** A hold whose expiry has come is released (by the next change or the job), whatever the item says yet. */
function effectiveStatus(view: RedemptionView, now: string): RedemptionView['status'] {
  return view.status === 'held' && view.holdExpiresAt !== null && view.holdExpiresAt <= now
    ? 'released'
    : view.status;
}

export async function readRedemption(ctx: RequestContext, redemptionId: string): Promise<UseCaseResponse> {
  const { redemption } = await visibleRedemption(ctx, redemptionId);
  return respond(200, { ...redemption, status: effectiveStatus(redemption, ctx.now) });
}

/** What a change of a redemption plans on, besides what every member change reads. */
type RedemptionLoaded = PointsContext & { member: MemberRecord; settled: Settled };
interface RedemptionChange {
  memberId: string;
  partnerId: string | null;
  /** The id of the ledger entry the change writes, if it writes one. */
  txnId: string;
}

/**
 * A change of a redemption visible to the caller: a change of its member (read with the redemption
 * and its partner), planned by `plan` on what was read.
 */
async function changeRedemption(
  ctx: RequestContext,
  redemptionId: string,
  plan: (loaded: RedemptionLoaded, change: RedemptionChange) => MemberChangePlan,
): Promise<UseCaseResponse> {
  const { redemption } = await visibleRedemption(ctx, redemptionId);
  const change = {
    memberId: redemption.memberId,
    partnerId: redemption.partnerId,
    txnId: newId('txn', Date.parse(ctx.now)),
  };
  return commitMemberChange(ctx, {
    memberId: change.memberId,
    load: () =>
      loadPointsContext(ctx, { memberId: change.memberId, partnerId: change.partnerId, redemptionId }),
    plan: (loaded) => plan(loaded, change),
  });
}

function expectStatus(
  record: RedemptionRecord | undefined,
  id: string,
  now: string,
  allowed: RedemptionView['status'],
  action: string,
): RedemptionRecord {
  if (!record) throw new NotFoundError(`No redemption ${id}.`);
  const status = effectiveStatus(record.redemption, now);
  if (status !== allowed) {
    throw new ConflictError(`Redemption ${id} is ${status}; only a ${allowed} redemption can be ${action}.`);
  }
  return record;
}

/** POST /v1/redemptions/{id}/capture: spend held points, all or some (`points` ≤ held; the rest is released). */
export async function captureRedemption(
  ctx: RequestContext,
  redemptionId: string,
  body: { points?: number | undefined },
): Promise<UseCaseResponse> {
  return changeRedemption(ctx, redemptionId, ({ member, partner, redemption }, change) => {
    const txnId = change.txnId;
    const record = expectStatus(redemption, redemptionId, ctx.now, 'held', 'captured');
    assertPartnerActive(partner, change.partnerId);
    const hold = member.points.holds[redemptionId];
    if (!hold) throw new ConflictError(`Redemption ${redemptionId} holds no points any more.`);
    const captured = body.points ?? hold.points;
    if (captured > hold.points) {
      throw new ValidationError([
        { path: 'body.points', message: `must not exceed the ${hold.points} points held` },
      ]);
    }
    if (record.redemption.rewardId !== null && captured !== hold.points) {
      throw new ValidationError([
        { path: 'body.points', message: 'a reward redemption is captured in full' },
      ]);
    }
    const applied = applyCapture(member.points, redemptionId, captured);
    const rate = reimbursementRate(partner);
    const after: RedemptionView = {
      ...record.redemption,
      status: 'captured',
      transactionId: txnId,
      capturedPoints: captured,
      updatedAt: ctx.now,
    };
    return {
      entry: transactionOf({
        id: txnId,
        type: 'redeem',
        memberId: change.memberId,
        partnerId: change.partnerId,
        points: -captured,
        orderRef: record.redemption.orderRef,
        redemptionId,
        actorKeyId: ctx.principal.keyId,
        occurredAt: ctx.now,
        createdAt: ctx.now,
      }),
      entryExtra: {
        consumed: applied.consumed,
        redemption: after,
        reimbursementRateMinor: rate,
        reimbursementMinor: captured * rate,
      },
      responseParts: ['redemption'],
      points: applied.points,
      status: 200,
      items: [
        updateRedemption(ctx.store, record, {
          ...record,
          redemption: after,
          consumed: applied.consumed,
          reimbursementRateMinor: rate,
        }),
      ],
      aggregates: [
        {
          partnerId: change.partnerId,
          delta: {
            redeemedPoints: captured,
            redemptionCount: 1,
            reimbursementMinor: captured * rate,
            heldPoints: -hold.points,
          },
        },
      ],
      onItemConditionFailed: () => 'retry',
    };
  });
}

/**
 * POST /v1/redemptions/{id}/release: give held points (and a reward unit) back. Releasing a
 * released redemption answers 200 again; releasing a captured one is 409.
 */
export async function releaseRedemption(ctx: RequestContext, redemptionId: string): Promise<UseCaseResponse> {
  return changeRedemption(ctx, redemptionId, ({ member, redemption, settled }, change) => {
    if (!redemption) throw new NotFoundError(`No redemption ${redemptionId}.`);
    const after: RedemptionView = { ...redemption.redemption, status: 'released', updatedAt: ctx.now };
    // The hold expired and settling the member just released it: this change records exactly that.
    if (settled.releasedHolds.some((released) => released.redemptionId === redemptionId)) {
      return { points: member.points, status: 200, response: { redemption: after } };
    }
    // A release of a released redemption (a till retrying with a new key) answers as the first did.
    if (redemption.redemption.status === 'released') {
      return { points: member.points, status: 200, response: { redemption: redemption.redemption } };
    }
    const record = expectStatus(redemption, redemptionId, ctx.now, 'held', 'released');
    const hold = member.points.holds[redemptionId];
    if (!hold) throw new ConflictError(`Redemption ${redemptionId} holds no points any more.`);
    return {
      points: applyRelease(member.points, redemptionId),
      status: 200,
      response: { redemption: after },
      items: [updateRedemption(ctx.store, record, { ...record, redemption: after })],
      restock: hold.rewardUnit ? [hold.rewardUnit] : [],
      aggregates: [{ partnerId: change.partnerId, delta: { heldPoints: -hold.points } }],
      onItemConditionFailed: () => 'retry',
    };
  });
}

/**
 * POST /v1/redemptions/{id}/refund: give captured points back, all or some; refunds add up to at
 * most what was captured. The points return to the lots they came from (latest-expiring first),
 * a lot whose expiry has passed as a fresh one; a reward unit goes back to stock with the last
 * point refunded; the partner's reimbursement is netted at the rate it was charged.
 */
export async function refundRedemption(
  ctx: RequestContext,
  redemptionId: string,
  body: { points?: number | undefined; reason?: string | undefined },
): Promise<UseCaseResponse> {
  return changeRedemption(ctx, redemptionId, ({ member, program, redemption }, change) => {
    const txnId = change.txnId;
    const record = expectStatus(redemption, redemptionId, ctx.now, 'captured', 'refunded');
    const { capturedPoints, refundedPoints } = record.redemption;
    const refundable = capturedPoints - refundedPoints;
    const amount = body.points ?? refundable;
    if (amount > refundable) {
      throw new ConflictError(
        `Only ${refundable} of the ${capturedPoints} points of redemption ${redemptionId} remain refundable.`,
      );
    }
    const applied = applyRefund(member.points, record.consumed, refundedPoints, amount, ctx.now, program);
    const complete = refundedPoints + amount === capturedPoints;
    const after: RedemptionView = {
      ...record.redemption,
      status: complete ? 'refunded' : 'captured',
      refundedPoints: refundedPoints + amount,
      updatedAt: ctx.now,
    };
    return {
      entry: transactionOf({
        id: txnId,
        type: 'refund',
        memberId: change.memberId,
        partnerId: change.partnerId,
        points: amount,
        breakdown: applied.returned.map((lot) => ({ rule: `lot:${lot.expiryKey}`, points: lot.points })),
        orderRef: record.redemption.orderRef,
        redemptionId,
        relatedTransactionId: record.redemption.transactionId,
        reason: body.reason ?? null,
        actorKeyId: ctx.principal.keyId,
        occurredAt: ctx.now,
        createdAt: ctx.now,
      }),
      entryExtra: {
        redemption: after,
        reimbursementRateMinor: record.reimbursementRateMinor,
        refundedReimbursementMinor: amount * record.reimbursementRateMinor,
      },
      responseParts: ['redemption', 'transaction'],
      points: applied.points,
      status: 201,
      items: [updateRedemption(ctx.store, record, { ...record, redemption: after })],
      restock:
        complete && record.rewardUnitTaken && record.redemption.rewardId ? [record.redemption.rewardId] : [],
      aggregates: [
        {
          partnerId: change.partnerId,
          delta: {
            refundedPoints: amount,
            refundedReimbursementMinor: amount * record.reimbursementRateMinor,
          },
        },
      ],
      onItemConditionFailed: () => 'retry',
    };
  });
}
