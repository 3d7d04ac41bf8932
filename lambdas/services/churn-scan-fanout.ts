/**
 * The churn scan fanned out, for members past what one process scores in a day (on AWS a Step
 * Functions Distributed Map, lib/churn-scan.ts): `plan` opens the run of (churn-scan, asOf day) split
 * in N segments and lists those not done, each map item calls `scanSegment` until its segment is
 * done, and `finish` closes the run once every segment is. The same run items, resumability and
 * scoring code as POST /v1/jobs/churn-scan (churn-scan.ts), only the split differs, and a run keeps
 * the split it began with.
 */
import { ChurnModelMissingError, ValidationError } from '../domain/errors.ts';
import { dayOf, toUtc } from '../domain/time.ts';
import type { JobName } from '../schemas/jobs.ts';
import { getChurnModel } from '../store/churn-store.ts';
import { completeJobRun, jobRunCompleted, jobTotals, scanProgress, startJobRun } from '../store/job-store.ts';
import { getProgram } from '../store/program-store.ts';
import { type ScanRun, scanChurnSegment } from './churn-scan.ts';
import type { RequestContext } from './context.ts';
import { refuseAnotherSplit } from './jobs.ts';

const JOB: JobName = 'churn-scan';

export interface FanOutPlan {
  asOf: string;
  segments: number;
  /** The segments not done yet, each one map item (empty once the day's run is complete). */
  pending: { segment: number }[];
  complete: boolean;
}

export interface SegmentOutcome {
  segment: number;
  /** False when the call's time ran out first: call again with the same input to continue. */
  done: boolean;
}

export interface FanOutTotals {
  job: JobName;
  asOf: string;
  processed: number;
  changed: number;
  complete: boolean;
}

/** Open the run as of `asOf` (default now) split in `segments`, and list what is left of it. */
export async function planChurnScan(
  ctx: RequestContext,
  request: { asOf?: string | undefined; segments: number },
): Promise<FanOutPlan> {
  const asOf = request.asOf ? toUtc(request.asOf) : ctx.now;
  if (asOf > ctx.now) throw new ValidationError([{ path: 'asOf', message: 'must not be in the future' }]);
  const runDay = dayOf(asOf);
  if (await jobRunCompleted(ctx.store, JOB, runDay)) {
    return { asOf, segments: request.segments, pending: [], complete: true };
  }
  await openRun(ctx, asOf, request.segments);
  const progress = await scanProgress(ctx.store, JOB, runDay);
  const pending = Array.from({ length: request.segments }, (_, segment) => ({ segment })).filter(
    ({ segment }) => !progress.get(segment)?.done,
  );
  return { asOf, segments: request.segments, pending, complete: false };
}

/** Score one segment of the run until it is done or the call's time runs out. */
export async function scanSegment(
  ctx: RequestContext,
  request: { asOf: string; segment: number; segments: number },
): Promise<SegmentOutcome> {
  const run = await openRun(ctx, toUtc(request.asOf), request.segments);
  return { segment: request.segment, done: await scanChurnSegment(ctx, run, request.segment) };
}

/** Close the run if every segment is done; its totals either way. */
export async function finishChurnScan(
  ctx: RequestContext,
  request: { asOf: string; segments: number },
): Promise<FanOutTotals> {
  const asOf = toUtc(request.asOf);
  const runDay = dayOf(asOf);
  const progress = await scanProgress(ctx.store, JOB, runDay);
  let complete = await jobRunCompleted(ctx.store, JOB, runDay);
  if (!complete && Array.from({ length: request.segments }, (_, s) => progress.get(s)?.done).every(Boolean)) {
    await completeJobRun(ctx.store, JOB, runDay, ctx.now);
    complete = true;
  }
  return { job: JOB, asOf, ...(await jobTotals(ctx.store, JOB, runDay)), complete };
}

/** The run as of `asOf` with the stored model, refused if it began with another split. */
async function openRun(ctx: RequestContext, asOf: string, segments: number): Promise<ScanRun> {
  const runDay = dayOf(asOf);
  const [model, program] = await Promise.all([getChurnModel(ctx.store), getProgram(ctx.store)]);
  if (!model) throw new ChurnModelMissingError();
  const started = await startJobRun(ctx.store, JOB, runDay, asOf, ctx.now, segments);
  refuseAnotherSplit(JOB, runDay, started.segments, segments);
  return { job: JOB, runDay, asOf, model, settings: program, segments };
}
