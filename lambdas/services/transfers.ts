import { transactionOf } from '../domain/entries.ts';
import { ForbiddenError, ValidationError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { applyTransferIn, applyTransferOut } from '../domain/movements.ts';
import type { TransferBody } from '../schemas/points.ts';
import type { RequestContext, UseCaseResponse } from './context.ts';
import { commitMemberChange } from './member-change.ts';
import { assertPartnerActive, loadPointsContext, partnerOfRequest } from './points-context.ts';

/**
 * POST /v1/members/{id}/transfers: move points to another member (pooling). Both members change in
 * one transaction, each conditioned on its version, so two opposite transfers at once both complete
 * (one re-plans after the other) or fail cleanly; there are no locks, so nothing can deadlock.
 * The points keep their expiry dates.
 */
export async function transferPoints(
  ctx: RequestContext,
  memberId: string,
  body: TransferBody,
): Promise<UseCaseResponse> {
  if (body.toMemberId === memberId) {
    throw new ValidationError([{ path: 'body.toMemberId', message: 'must be another member' }]);
  }
  const partnerId = partnerOfRequest(ctx.principal, undefined, false);
  const now = Date.parse(ctx.now);
  const outId = newId('txn', now);
  const inId = newId('txn', now);
  return commitMemberChange(ctx, {
    memberId,
    load: () => loadPointsContext(ctx, { memberId, partnerId, counterpartId: body.toMemberId }),
    plan: ({ member, counterpart, program, partner }) => {
      if (!program.transfersEnabled)
        throw new ForbiddenError('This program does not allow transfers between members.');
      assertPartnerActive(partner, partnerId);
      if (!counterpart)
        throw new ValidationError([{ path: 'body.toMemberId', message: `no member ${body.toMemberId}` }]);
      const out = applyTransferOut(member.points, body.points);
      const lots = out.lots.map((lot) => ({ rule: `lot:${lot.expiryKey}`, points: lot.points }));
      const common = {
        partnerId,
        reason: body.reason ?? null,
        actorKeyId: ctx.principal.keyId,
        occurredAt: ctx.now,
        createdAt: ctx.now,
      };
      return {
        entry: transactionOf({
          ...common,
          id: outId,
          type: 'transfer_out',
          memberId,
          points: -body.points,
          breakdown: lots.map((line) => ({ ...line, points: -line.points })),
          relatedTransactionId: inId,
        }),
        entryExtra: { transfer: { toMemberId: body.toMemberId, inTransactionId: inId } },
        responseParts: ['transaction', 'transfer'],
        points: out.points,
        counterpart: {
          points: applyTransferIn(counterpart.points, out.lots),
          systemKey: `transfer_in:${outId}`,
          entry: transactionOf({
            ...common,
            id: inId,
            type: 'transfer_in',
            memberId: body.toMemberId,
            points: body.points,
            breakdown: lots,
            relatedTransactionId: outId,
          }),
        },
        status: 201,
        aggregates: [
          { partnerId: null, memberId, delta: { transferredOutPoints: body.points } },
          { partnerId: null, memberId: body.toMemberId, delta: { transferredInPoints: body.points } },
        ],
      };
    },
  });
}
