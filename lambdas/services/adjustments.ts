import { transactionOf } from '../domain/entries.ts';
import { newId } from '../domain/ids.ts';
import { applyAdjustment } from '../domain/movements.ts';
import type { AdjustmentBody } from '../schemas/points.ts';
import type { RequestContext, UseCaseResponse } from './context.ts';
import { commitMemberChange } from './member-change.ts';
import { loadPointsContext } from './points-context.ts';

/**
 * POST /v1/members/{id}/adjustments [admin]: a correction by an operator, ±points with a reason,
 * recorded with the acting key's id. Credits are a fresh lot; debits never overdraw unless the
 * program allows a negative balance. Funded by the coalition.
 */
export async function adjustPoints(
  ctx: RequestContext,
  memberId: string,
  body: AdjustmentBody,
): Promise<UseCaseResponse> {
  const txnId = newId('txn', Date.parse(ctx.now));
  return commitMemberChange(ctx, {
    memberId,
    load: () => loadPointsContext(ctx, { memberId, partnerId: null }),
    plan: ({ member, program }) => {
      const applied = applyAdjustment(member.points, body.points, ctx.now, program);
      return {
        entry: transactionOf({
          id: txnId,
          type: 'adjust',
          memberId,
          points: body.points,
          expiresAt: applied.expiresAt,
          reason: body.reason,
          actorKeyId: ctx.principal.keyId,
          occurredAt: ctx.now,
          createdAt: ctx.now,
        }),
        points: applied.points,
        status: 201,
        aggregates: [{ partnerId: null, delta: { adjustedPoints: body.points } }],
      };
    },
  });
}
