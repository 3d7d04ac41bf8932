/**
 * The churn scan fanned out, for members past what one process scores in a day (on AWS a Step
 * Functions Distributed Map, lib/churn-scan.ts): `plan` opens the run of (churn-scan, asOf day) and
 * lists its segments not done, each map item calls `scanSegment` until its segment is done, and
 * `finish` closes the run once every segment is. The same run items, resumability and scoring code
 * as POST /v1/jobs/churn-scan (churn-scan.ts), only the split differs, and a run keeps the split it
 * began with: `plan` continues a run in its own split, a segment call in another split is refused.
 */
import { ChurnModelMissingError, ValidationError } from '../domain/errors.ts';
import { dayOf, toUtc } from '../domain/time.ts';
import type { JobName } from '../schemas/jobs.ts';
import { getChurnModel } from '../store/churn-store.ts';
import {
  completeJobRun,
  jobRunCompleted,
  jobSums,
  jobTotals,
  recordLatestRun,
  scanProgress,
  startJobRun,
} from '../store/job-store.ts';
import { getProgram } from '../store/program-store.ts';
import { type ScanRun, type SegmentDrain, scanChurnSegment } from './churn-scan.ts';
import type { RequestContext } from './context.ts';
import { refuseAnotherSplit } from './jobs.ts';

const JOB: JobName = 'churn-scan';

export interface FanOutPlan {
  asOf: string;
  /** The run's split: the one asked for, or the one the day's run began with. */
  segments: number;
  /** The segments not done yet, each one map item (empty once the day's run is complete). */
  pending: number[];
  complete: boolean;
}

/** One call's work on one segment (`done` false: call again with the same input to continue). */
export interface SegmentOutcome extends SegmentDrain {
  segment: number;
}

export interface FanOutTotals {
  job: JobName;
  asOf: string;
  processed: number;
  changed: number;
  complete: boolean;
}

/**
 * Open the run as of `asOf` (default now) split in `segments` (unless it began in another split,
 * which it keeps), and list what is left of it. A run with no model to score with is refused
 * before anything is written.
 */
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
  const { segments } = await openRun(ctx, asOf, request.segments, 'keep-its-split');
  const progress = await scanProgress(ctx.store, JOB, runDay);
  const pending = Array.from({ length: segments }, (_, segment) => segment).filter(
    (segment) => !progress.get(segment)?.done,
  );
  return { asOf, segments, pending, complete: false };
}

/** Score one segment of the run until it is done or the call's time runs out. */
export async function scanSegment(
  ctx: RequestContext,
  request: { asOf: string; segment: number; segments: number },
): Promise<SegmentOutcome> {
  const run = await openRun(ctx, toUtc(request.asOf), request.segments, 'refuse-another');
  return { segment: request.segment, ...(await scanChurnSegment(ctx, run, request.segment)) };
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
    await recordLatestRun(ctx.store, JOB, runDay, await jobSums(ctx.store, JOB, runDay), ctx.now);
    complete = true;
  }
  return { job: JOB, asOf, ...(await jobTotals(ctx.store, JOB, runDay)), complete };
}

/**
 * The run as of `asOf` with the stored model (read once per call), in `segments`, or, when the
 * day's run began in another split, in that one (`keep-its-split`) or refused (`refuse-another`).
 */
async function openRun(
  ctx: RequestContext,
  asOf: string,
  segments: number,
  otherSplit: 'keep-its-split' | 'refuse-another',
): Promise<ScanRun> {
  const runDay = dayOf(asOf);
  const [model, program] = await Promise.all([getChurnModel(ctx.store), getProgram(ctx.store)]);
  if (!model) throw new ChurnModelMissingError();
  const started = await startJobRun(ctx.store, JOB, runDay, asOf, ctx.now, segments);
  if (otherSplit === 'refuse-another') refuseAnotherSplit(JOB, runDay, started.segments, segments);
  return { job: JOB, runDay, asOf, model, settings: program, segments: started.segments ?? segments };
}
