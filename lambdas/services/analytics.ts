/**
 * /v1/analytics [admin]: the churn model and a member's scores.
 *
 * A fit reads every active member's purchase history (a parallel Scan projecting only `purchases`),
 * summarises each as of the calibration day (members with no purchase by then are left out),
 * fits BG/NBD on the distinct (x, t_x, T) and Gamma-Gamma on the repeat purchasers whose repeat
 * spend is known, and replaces the stored model. The daily `churn-scan` job scores members with it.
 */
import { fitChurnModel as fitModel } from '../domain/churn-model.ts';
import { type ModelInputs, scoreMember } from '../domain/churn-scores.ts';
import { ConflictError, NotFoundError, ServiceUnavailableError, ValidationError } from '../domain/errors.ts';
import { modelInputs } from '../domain/purchase-history.ts';
import { dayOf } from '../domain/time.ts';
import type { FitChurnModelBody } from '../schemas/analytics.ts';
import {
  type ChurnModelRecord,
  getChurnModel,
  putChurnModel,
  scanPurchaseHistories,
} from '../store/churn-store.ts';
import { getMember } from '../store/member-store.ts';
import { getProgram } from '../store/program-store.ts';
import { type RequestContext, respond, type UseCaseResponse, withinDeadline } from './context.ts';

/** Segments of the fit's parallel Scan, read at once. */
const FIT_SEGMENTS = 16;

/** POST /v1/analytics/churn-model/fit: fit on the histories as of `calibrationEnd` (default today). */
export async function fitChurnModel(ctx: RequestContext, body: FitChurnModelBody): Promise<UseCaseResponse> {
  const today = dayOf(ctx.now);
  const calibrationEnd = body.calibrationEnd ?? today;
  if (calibrationEnd > today) {
    throw new ValidationError([{ path: 'body.calibrationEnd', message: 'must not be after today (UTC)' }]);
  }
  const inputs = await purchaserInputs(ctx, calibrationEnd);
  const outcome = fitModel(inputs, calibrationEnd);
  if ('refused' in outcome) throw new ConflictError(outcome.refused);
  const model: ChurnModelRecord = { ...outcome.model, calibrationEnd, fittedAt: ctx.now };
  await putChurnModel(ctx.store, model);
  return respond(200, model);
}

/** GET /v1/analytics/churn-model: the model in use. */
export async function readChurnModel(ctx: RequestContext): Promise<UseCaseResponse> {
  const model = await getChurnModel(ctx.store);
  if (!model)
    throw new NotFoundError('No churn model has been fitted yet: POST /v1/analytics/churn-model/fit.');
  return respond(200, model);
}

/**
 * GET /v1/analytics/members/{id}: the member's model inputs as of today, its scores computed now
 * with the stored model, and what the last churn scan stored.
 */
export async function memberAnalytics(ctx: RequestContext, memberId: string): Promise<UseCaseResponse> {
  const [member, model, program] = await Promise.all([
    getMember(ctx.store, memberId),
    getChurnModel(ctx.store),
    getProgram(ctx.store),
  ]);
  if (!member) throw new NotFoundError(`No member ${memberId}.`);
  const asOf = dayOf(ctx.now);
  const active = member.status === 'active';
  const inputs = active ? modelInputs(member.purchases, asOf) : null;
  return respond(200, {
    memberId,
    asOf,
    inputs,
    scores: inputs && model ? scoreMember(model, inputs, program) : null,
    churn: active ? (member.churn ?? null) : null,
  });
}

/** Every active member's model inputs as of `calibrationEnd`, from all segments of the Scan at once. */
async function purchaserInputs(ctx: RequestContext, calibrationEnd: string): Promise<ModelInputs[]> {
  const segments = Array.from({ length: FIT_SEGMENTS }, (_, segment) => segment);
  const perSegment = await Promise.all(
    segments.map(async (segment) => {
      const inputs: ModelInputs[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        if (!withinDeadline(ctx)) {
          throw new ServiceUnavailableError(
            'Reading every member took longer than one call may run, so nothing was fitted or stored: the table is too large to fit over HTTP.',
          );
        }
        const page = await scanPurchaseHistories(ctx.store, { segment, segments: FIT_SEGMENTS, startKey });
        for (const history of page.histories) {
          const summary = modelInputs(history, calibrationEnd);
          if (summary) inputs.push(summary);
        }
        startKey = page.next;
      } while (startKey);
      return inputs;
    }),
  );
  return perSegment.flat();
}
