/**
 * IFRS 15 estimate revisions: POST /v1/program/redemption-estimates records the expected redemption
 * rate from a day on; deferred revenue recognises against the latest revision in effect at a
 * period's end, with the change caught up cumulatively. Revisions are never edited or backdated
 * (closed periods keep the estimate they were reported with): a correction is a new revision.
 */
import { ConflictError, ValidationError } from '../domain/errors.ts';
import { dayOf } from '../domain/time.ts';
import type { RedemptionEstimate, RedemptionEstimateBody } from '../schemas/reports.ts';
import { allRedemptionEstimates, putRedemptionEstimate } from '../store/estimate-store.ts';
import { type RequestContext, respond, type UseCaseResponse } from './context.ts';
import { createResource } from './create-resource.ts';

export async function createRedemptionEstimate(
  ctx: RequestContext,
  body: RedemptionEstimateBody,
): Promise<UseCaseResponse> {
  if (body.effectiveFrom < dayOf(ctx.now)) {
    throw new ValidationError([
      {
        path: 'body.effectiveFrom',
        message: 'must be today or later: reported periods keep the estimate they used',
      },
    ]);
  }
  const estimate: RedemptionEstimate = { ...body, createdAt: ctx.now };
  return createResource(
    ctx,
    [putRedemptionEstimate(ctx.store, estimate)],
    { status: 201, body: estimate },
    () =>
      new ConflictError(`A revision effective from ${body.effectiveFrom} exists; revise from another day.`),
  );
}

export async function listRedemptionEstimates(ctx: RequestContext): Promise<UseCaseResponse> {
  const items = await allRedemptionEstimates(ctx.store);
  return respond(200, { items, nextCursor: null });
}
