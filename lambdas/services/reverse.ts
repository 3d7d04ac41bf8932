/**
 * Returns: taking back points of an earn, in full, by points, or by the amount returned. Found by
 * the earn's transaction id, or by the checkout's own order reference (what a till knows). The
 * earn's order guard carries its reversals so far: their sum never exceeds the earn.
 */

import { transactionOf, transactionViewOf } from '../domain/entries.ts';
import { ConflictError, NotFoundError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { expiryKeyOf, type MemberPoints } from '../domain/member-ledger.ts';
import { applyReversal, pendingKeyOf } from '../domain/movements.ts';
import type { ReverseBody, TransactionView } from '../schemas/points.ts';
import { findLedgerEntry, getOrderGuard, orderReversalsOf, recordReversal } from '../store/ledger-store.ts';
import type { RequestContext, UseCaseResponse } from './context.ts';
import { commitMemberChange } from './member-change.ts';
import { loadPointsContext, partnerOfRequest } from './points-context.ts';

/** POST /v1/transactions/{id}/reverse. A partner key reverses only earns made at its partner. */
export async function reverseTransaction(
  ctx: RequestContext,
  transactionId: string,
  body: ReverseBody,
): Promise<UseCaseResponse> {
  const entry = await findLedgerEntry(ctx.store, transactionId);
  const txn = entry ? transactionViewOf(entry.txn as Record<string, unknown>) : undefined;
  if (!entry || !txn || (ctx.principal.role === 'partner' && txn.partnerId !== ctx.principal.partnerId)) {
    throw new NotFoundError(`No transaction ${transactionId}.`);
  }
  if (txn.type !== 'earn') {
    throw new ConflictError(
      `Transaction ${transactionId} is ${txn.type === 'expire' ? 'an' : 'a'} ${txn.type}; only earns can be reversed.`,
    );
  }
  return reverseEarn(ctx, txn, fundingOf(entry, txn), body);
}

/**
 * POST /v1/orders/{orderRef}/reverse: the same, for a checkout that knows only its order reference.
 * A partner key's orders are its own; an admin names the partner.
 */
export async function reverseOrder(
  ctx: RequestContext,
  orderRef: string,
  body: ReverseBody & { partnerId?: string | undefined },
): Promise<UseCaseResponse> {
  const partnerId = partnerOfRequest(ctx.principal, body.partnerId, true) as string;
  const guard = await getOrderGuard(ctx.store, partnerId, orderRef);
  const entry = guard ? await findLedgerEntry(ctx.store, guard.txnId) : undefined;
  if (!entry) throw new NotFoundError(`No earn for order ${orderRef} at partner ${partnerId}.`);
  const { partnerId: _partnerId, ...reversal } = body;
  return reverseEarn(
    ctx,
    transactionViewOf(entry.txn as Record<string, unknown>),
    fundingOf(entry, transactionViewOf(entry.txn as Record<string, unknown>)),
    reversal,
  );
}

/**
 * How an earn was funded: the partner's rate, and how many of its points the partner funded (the
 * rest came from coalition-wide campaigns, funded by the coalition).
 */
function fundingOf(entry: Record<string, unknown>, earn: TransactionView) {
  return {
    rateMinor: Number(entry.fundingRateMinor ?? 0),
    fundedPoints: Number(entry.fundedPoints ?? earn.points),
  };
}

/**
 * Of `reversed` points taken back now (after `before` requested earlier, `requested` now), those the
 * partner had funded: its share of the cumulative reversal, floored, so a whole reversal in any
 * number of parts returns exactly what it funded, and the coalition takes back the rest.
 */
export function partnerShareOfReversal(
  earn: { points: number; fundedPoints: number },
  before: number,
  requested: number,
  reversed: number,
): number {
  if (earn.fundedPoints >= earn.points) return reversed;
  const share = (n: number) => Number((BigInt(n) * BigInt(earn.fundedPoints)) / BigInt(earn.points));
  return Math.min(reversed, share(before + requested) - share(before));
}

async function reverseEarn(
  ctx: RequestContext,
  earn: TransactionView,
  funding: { rateMinor: number; fundedPoints: number },
  body: ReverseBody,
): Promise<UseCaseResponse> {
  const fundingRateMinor = funding.rateMinor;
  const partnerId = earn.partnerId as string;
  const orderRef = earn.orderRef as string;
  const memberId = earn.memberId;
  const txnId = newId('txn', Date.parse(ctx.now));
  return commitMemberChange(ctx, {
    memberId,
    load: () => loadPointsContext(ctx, { memberId, partnerId, order: { partnerId, orderRef } }),
    plan: ({ member, program, order }) => {
      if (!order) throw new NotFoundError(`No earn for order ${orderRef} at partner ${partnerId}.`);
      const before = orderReversalsOf(order);
      const { requested, returnedAmountMinor } = reversalSize(earn, before, body);
      const applied = applyReversal(
        member.points,
        {
          pendingKey:
            earn.status === 'pending' && earn.availableAt
              ? earnPendingKey(member.points, earn.availableAt, expiryKeyOf(earn.expiresAt), partnerId)
              : null,
          expiresAt: earn.expiresAt,
          occurredAt: earn.occurredAt,
        },
        requested,
        ctx.now,
        program,
      );
      const taken = applied.reversed - applied.fromPending;
      const partnerPoints = partnerShareOfReversal(
        { points: earn.points, fundedPoints: funding.fundedPoints },
        before.reversedPoints,
        requested,
        applied.reversed,
      );
      const coalitionPoints = applied.reversed - partnerPoints;
      return {
        entry: transactionOf({
          id: txnId,
          type: 'reverse',
          memberId,
          partnerId,
          points: -applied.reversed,
          breakdown: [
            ...(applied.fromPending > 0 ? [{ rule: 'pending', points: -applied.fromPending }] : []),
            ...(taken > 0 ? [{ rule: 'available', points: -taken }] : []),
          ],
          orderRef,
          amountMinor: body.points === undefined ? returnedAmountMinor : null,
          currency: earn.currency,
          relatedTransactionId: earn.id,
          reason: body.reason,
          actorKeyId: ctx.principal.keyId,
          occurredAt: ctx.now,
          createdAt: ctx.now,
        }),
        entryExtra: {
          reversal: {
            earnTransactionId: earn.id,
            requestedPoints: requested,
            reversedPoints: applied.reversed,
            cancelledPendingPoints: applied.fromPending,
            shortfallPoints: applied.shortfall,
          },
          // Funding is returned at the rate the earn was charged, for the points actually taken back.
          fundingRateMinor,
          reversedFundingMinor: partnerPoints * fundingRateMinor,
        },
        responseParts: ['transaction', 'reversal'],
        points: applied.points,
        status: 201,
        items: [
          recordReversal(ctx.store, partnerId, orderRef, before, {
            reversedPoints: before.reversedPoints + requested,
            reversedAmountMinor: before.reversedAmountMinor + returnedAmountMinor,
          }),
        ],
        aggregates: [
          {
            partnerId,
            delta: {
              reversedPoints: partnerPoints,
              reversedFundingMinor: partnerPoints * fundingRateMinor,
              reversedAmountMinor: returnedAmountMinor,
            },
          },
          // Points a coalition-wide campaign added go back to the coalition that funded them.
          ...(coalitionPoints > 0 ? [{ partnerId: null, delta: { reversedPoints: coalitionPoints } }] : []),
        ],
        onItemConditionFailed: () => 'retry',
      };
    },
  });
}

/**
 * How many points this reversal takes back. By amount, points follow the cumulative amount
 * returned, floored: floor(points × returned so far ÷ amount) − reversed before, so returning the
 * whole amount in any number of parts takes back exactly the earn, never more.
 */
export function reversalSize(
  earn: Pick<TransactionView, 'id' | 'points' | 'amountMinor'>,
  before: { reversedPoints: number; reversedAmountMinor: number },
  body: { points?: number | undefined; amountMinor?: number | undefined },
): { requested: number; returnedAmountMinor: number } {
  const remaining = earn.points - before.reversedPoints;
  const purchase = earn.amountMinor ?? 0;
  if (body.amountMinor !== undefined) {
    const amountLeft = purchase - before.reversedAmountMinor;
    if (body.amountMinor > amountLeft) {
      throw new ConflictError(
        `Only ${amountLeft} of the ${purchase} minor units of ${earn.id} remain to be returned.`,
      );
    }
    const cumulative = before.reversedAmountMinor + body.amountMinor;
    const due = Number((BigInt(earn.points) * BigInt(cumulative)) / BigInt(purchase)) - before.reversedPoints;
    return { requested: Math.min(remaining, Math.max(0, due)), returnedAmountMinor: body.amountMinor };
  }
  if (remaining <= 0) throw new ConflictError(`Earn ${earn.id} is already fully reversed.`);
  if (body.points !== undefined) {
    if (body.points > remaining) {
      throw new ConflictError(
        `Only ${remaining} of the ${earn.points} points of ${earn.id} remain to be reversed.`,
      );
    }
    return { requested: body.points, returnedAmountMinor: 0 };
  }
  return { requested: remaining, returnedAmountMinor: purchase - before.reversedAmountMinor };
}

/**
 * The pending lot an earn's points went to: kept per partner, or (earned before partners were
 * recorded in the key) shared by the day's earns.
 */
function earnPendingKey(
  points: MemberPoints,
  availableAt: string,
  expiryKey: string,
  partnerId: string,
): string {
  const key = pendingKeyOf(availableAt, expiryKey, partnerId);
  return key in points.pendingLots ? key : pendingKeyOf(availableAt, expiryKey);
}
