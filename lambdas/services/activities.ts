import { transactionOf } from '../domain/entries.ts';
import { ConflictError, ValidationError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { applyCredit } from '../domain/movements.ts';
import { ownValue } from '../domain/records.ts';
import { instantNotAhead } from '../domain/time.ts';
import type { ActivityBody } from '../schemas/points.ts';
import { putActivityGuard } from '../store/ledger-store.ts';
import type { RequestContext, UseCaseResponse } from './context.ts';
import { commitMemberChange } from './member-change.ts';
import { assertPartnerActive, loadPointsContext, partnerOfRequest } from './points-context.ts';

/** NPS: 9–10 promote, 0–6 detract. */
const surveyCounters = (score: number | undefined) =>
  score === undefined
    ? {}
    : { surveyResponses: 1, surveyPromoters: score >= 9 ? 1 : 0, surveyDetractors: score <= 6 ? 1 : 0 };

/**
 * POST /v1/members/{id}/activities: points for something other than a purchase (a referral, a
 * review, a survey…), as the program's `activityRules` price it, once per (member, type, ref). An
 * activity reported by a partner key is issued (and funded) by that partner; an admin's by the
 * coalition. A survey's score feeds the NPS figure.
 */
export async function recordActivity(
  ctx: RequestContext,
  memberId: string,
  body: ActivityBody,
): Promise<UseCaseResponse> {
  if (body.score !== undefined && body.type !== 'survey') {
    throw new ValidationError([{ path: 'body.score', message: 'only a survey has a score' }]);
  }
  const occurredAt = instantNotAhead(body.occurredAt, ctx.now, 'body.occurredAt');
  const partnerId = partnerOfRequest(ctx.principal, undefined, false);
  const txnId = newId('txn', Date.parse(ctx.now));
  return commitMemberChange(ctx, {
    memberId,
    load: () => loadPointsContext(ctx, { memberId, partnerId }),
    plan: ({ member, program, partner }) => {
      assertPartnerActive(partner, partnerId);
      const points = ownValue(program.activityRules, body.type);
      if (points === undefined) {
        const known = Object.keys(program.activityRules).join(', ') || 'none';
        throw new ValidationError([
          { path: 'body.type', message: `no activity rule ${body.type} (the program has: ${known})` },
        ]);
      }
      const applied = applyCredit(member.points, points, ctx.now, program, { lifetime: true });
      const fundingRate = partner?.fundingRateMinor ?? 0;
      return {
        entry: transactionOf({
          id: txnId,
          type: 'activity',
          memberId,
          partnerId,
          points,
          expiresAt: applied.expiresAt,
          breakdown: [{ rule: `activity:${body.type}`, points }],
          // An activity's ref is its own reference, as an order's is for an earn.
          orderRef: body.ref,
          actorKeyId: ctx.principal.keyId,
          occurredAt,
          createdAt: ctx.now,
        }),
        entryExtra: {
          activity: {
            type: body.type,
            ref: body.ref,
            ...(body.score === undefined ? {} : { score: body.score }),
          },
          fundingRateMinor: fundingRate,
          fundingMinor: points * fundingRate,
        },
        points: applied.points,
        status: 201,
        items: [putActivityGuard(ctx.store, memberId, body.type, body.ref, txnId)],
        aggregates: [
          {
            partnerId,
            delta: {
              issuedPoints: points,
              activityPoints: points,
              fundingMinor: points * fundingRate,
              activityCount: 1,
              ...surveyCounters(body.score),
            },
          },
        ],
        onItemConditionFailed: () =>
          new ConflictError(`Activity ${body.type} ${body.ref} was already rewarded for member ${memberId}.`),
      };
    },
  });
}
