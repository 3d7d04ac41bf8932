import { transactionOf } from '../domain/entries.ts';
import { NotFoundError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { applyRelease, forfeitAll } from '../domain/movements.ts';
import type { AggregateDelta } from '../store/ledger-store.ts';
import { deleteExternalRef, getMember } from '../store/member-store.ts';
import { releaseHeldRedemption } from '../store/redemption-store.ts';
import type { TransactItem } from '../store/transactions.ts';
import type { RequestContext, UseCaseResponse } from './context.ts';
import { commitMemberChange } from './member-change.ts';
import { readMember } from './members.ts';
import { loadPointsContext } from './points-context.ts';
import { endSubscriptionOfErased } from './subscriptions.ts';

/**
 * DELETE /v1/members/{id} [admin]: erasure on request. In one transaction: open holds are released,
 * every remaining point (available and pending) is forfeited by a `forfeit` entry, the profile and
 * the externalRef guards are removed, a live subscription is canceled, and `member.erased` is recorded. The ledger stays, under the
 * member's id, which is pseudonymous once the profile is gone. Erasing again answers the same.
 */
export async function eraseMember(ctx: RequestContext, memberId: string): Promise<UseCaseResponse> {
  const existing = await getMember(ctx.store, memberId);
  if (!existing) throw new NotFoundError(`No member ${memberId}.`);
  if (existing.status === 'erased') return readMember(ctx, memberId);
  const txnId = newId('txn', Date.parse(ctx.now));
  await commitMemberChange(
    // Erasure happens once per member: its entry's key says so, and needs no Idempotency-Key.
    { ...ctx, idempotency: undefined },
    {
      memberId,
      load: () => loadPointsContext(ctx, { memberId, partnerId: null, subscription: true }),
      plan: ({ member, subscription, program }) => {
        const membership = endSubscriptionOfErased(ctx, memberId, subscription, program);
        const items: TransactItem[] = [];
        const restock: string[] = [];
        const aggregates: { partnerId: string | null; delta: AggregateDelta }[] = [];
        let points = member.points;
        for (const [redemptionId, hold] of Object.entries(points.holds)) {
          points = applyRelease(points, redemptionId);
          items.push(releaseHeldRedemption(ctx.store, redemptionId, ctx.now));
          if (hold.rewardUnit) restock.push(hold.rewardUnit);
          aggregates.push({ partnerId: hold.partnerId, delta: { heldPoints: -hold.points } });
        }
        const { points: erased, forfeited } = forfeitAll(points);
        for (const [namespace, ref] of Object.entries(member.externalRefs)) {
          items.push(deleteExternalRef(ctx.store, namespace, ref, memberId));
        }
        return {
          ...(forfeited !== 0
            ? {
                entry: transactionOf({
                  id: txnId,
                  type: 'forfeit',
                  memberId,
                  points: -forfeited,
                  reason: 'erasure',
                  actorKeyId: ctx.principal.keyId,
                  occurredAt: ctx.now,
                  createdAt: ctx.now,
                }),
                systemKey: `forfeit:${memberId}`,
              }
            : {}),
          points: erased,
          memberSet: {
            status: 'erased',
            email: null,
            name: null,
            channel: null,
            externalRefs: {},
            // The behavioural profile goes with the person: no churn model reads it again.
            purchases: null,
            churn: null,
            erasedAt: ctx.now,
          },
          status: 200,
          items: [...items, ...(membership?.items ?? [])],
          restock,
          events: [
            ...(membership?.events ?? []),
            {
              dedupeKey: `member.erased#${memberId}`,
              type: 'member.erased',
              data: { memberId, forfeitedPoints: forfeited },
            },
          ],
          aggregates: [
            ...aggregates,
            ...(forfeited !== 0 ? [{ partnerId: null, delta: { forfeitedPoints: forfeited } }] : []),
            ...(membership ? [{ partnerId: null, delta: membership.delta }] : []),
          ],
          onItemConditionFailed: () => 'retry',
        };
      },
    },
  );
  return readMember(ctx, memberId);
}
