/**
 * POST /v1/jobs/{name}: the points lifecycle's jobs. Each finds what is due through its due index
 * (sparse, sharded, sorted by due date, kept by every write of a member), so its cost grows with
 * what is due, never with the number of members. Each due member is brought up to `asOf` by one
 * version-conditioned change, exactly as any other change of that member would: a job and a
 * member's own requests can interleave freely, and whichever comes first records the expiry or
 * release once.
 *
 * A run is per (job, asOf day): calling again continues where a crashed or timed-out call stopped
 * (what was done has left the index) and adds nothing once everything is done.
 *
 * `churn-scan` is the exception: it scores every purchaser daily, so it Scans the members (a pass
 * of its own, services/churn-scan.ts) and keeps its position in the run's items.
 */
import { lotsToNotice } from '../domain/due.ts';
import {
  ChurnModelMissingError,
  ConflictError,
  GoneError,
  NotFoundError,
  ValidationError,
} from '../domain/errors.ts';
import type { MemberPoints } from '../domain/member-ledger.ts';
import { qualifyingPoints, reviewTier, tierFor, tierProgress, tierReviewDate } from '../domain/tiers.ts';
import { addDays, dayOf, toUtc } from '../domain/time.ts';
import type { JobBody, JobName } from '../schemas/jobs.ts';
import type { Plan } from '../schemas/subscriptions.ts';
import { type ChurnModelRecord, getChurnModel } from '../store/churn-store.ts';
import {
  completeJobRun,
  countJobChange,
  countJobVisit,
  dueIds,
  jobRunCompleted,
  jobSums,
  jobTotals,
  recordLatestRun,
  startJobRun,
} from '../store/job-store.ts';
import { DUE_SHARDS, type DueKind, shardOf } from '../store/keys.ts';
import { allPlans } from '../store/plan-store.ts';
import { getProgram, type ProgramRecord } from '../store/program-store.ts';
import type { TransactItem } from '../store/transactions.ts';
import { SCAN_SEGMENTS, scanChurn } from './churn-scan.ts';
import { type RequestContext, respond, type UseCaseResponse, withinDeadline } from './context.ts';
import { type MemberChangePlan, type PlannedEvent, writeMemberChange } from './member-change.ts';
import { loadPointsContext } from './points-context.ts';
import { reconcileRun, walkMembers } from './reconcile.ts';
import { renewSubscription } from './subscriptions.ts';

/** What one pass of a job does to each due member, on top of bringing it up to asOf. */
type Step = (
  points: MemberPoints,
  asOf: string,
  program: ProgramRecord,
  memberId: string,
) => {
  points: MemberPoints;
  events?: PlannedEvent[];
};

/** What a run reads once and hands to every member it processes. */
interface RunContext {
  program: ProgramRecord;
  plans: Map<string, Plan>;
  /** The churn model in use (read by runs with a scan pass). */
  churnModel?: ChurnModelRecord | undefined;
}

/** A pass that does more than a step on the points: its own change of a due member. */
type Process = (
  ctx: RequestContext,
  memberId: string,
  asOf: string,
  run: RunContext,
  withWrite: TransactItem[],
) => Promise<{ written: boolean }>;

interface Pass {
  kind: DueKind;
  /** Due dates up to this bound are read (a date, or an instant for holds and maturation). */
  upTo: (asOf: string, program: ProgramRecord) => string;
  step: Step | Process;
  /** Whether `step` is a whole change of its own ({@link Process}) rather than a points step. */
  own?: true;
}

/**
 * A pass over every member instead of a due index (a parallel Scan that keeps its own position in
 * the run's items): false if the call's time ran out first.
 */
interface ScanPass {
  scan: (
    ctx: RequestContext,
    job: JobName,
    runDay: string,
    asOf: string,
    run: RunContext,
  ) => Promise<boolean>;
}

const settleOnly: Step = (points) => ({ points });
const day = (asOf: string) => dayOf(asOf);
const instant = (asOf: string) => asOf;

/** `points.expiring`, once per lot, `expiryNoticeDays` ahead of its expiry. */
const noticeExpiringLots: Step = (before, asOf, program, memberId) => {
  const lots = lotsToNotice(before, asOf, program.expiryNoticeDays);
  if (lots.length === 0) return { points: before };
  return {
    points: { ...before, noticedLots: [...before.noticedLots, ...lots.map((lot) => lot.expiryKey)] },
    events: lots.map((lot) => ({
      dedupeKey: `points.expiring#${memberId}#${lot.expiryKey}`,
      type: 'points.expiring',
      data: { memberId, points: lot.points, expiresAt: `${lot.expiryKey}T00:00:00.000Z` },
    })),
  };
};

/** Down to the tier the window still reaches, on or after the review date (tier.changed follows). */
const reviewTiers: Step = (before, asOf, program) => {
  const points = structuredClone(before);
  reviewTier(points, asOf, program);
  return { points };
};

/** `tier.downgrade_warning`, once per review date, `tierDowngradeWarningDays` ahead of it. */
const warnOfDowngrades: Step = (before, asOf, program, memberId) => {
  const reviewOn = tierReviewDate(before, asOf, program);
  const horizon = dayOf(addDays(asOf, program.tierDowngradeWarningDays));
  if (reviewOn === null || reviewOn > horizon || reviewOn === before.tierWarnedFor) return { points: before };
  const progress = tierProgress(before, asOf, program);
  // The tier the member falls to on the review date if nothing more is earned.
  const fallsTo = tierFor(
    qualifyingPoints(before, `${reviewOn}T00:00:00.000Z`, program.tierWindowMonths),
    program.tiers,
  );
  return {
    points: { ...before, tierWarnedFor: reviewOn },
    events: [
      {
        dedupeKey: `tier.downgrade_warning#${memberId}#${reviewOn}`,
        type: 'tier.downgrade_warning',
        data: {
          memberId,
          tier: before.tier.code,
          reviewOn,
          pointsToKeep: progress.review?.pointsToKeep ?? 0,
          downgradeTo: fallsTo.code,
        },
      },
    ],
  };
};

export const jobPasses: Record<JobName, (Pass | ScanPass)[]> = {
  'expire-points': [
    { kind: 'expire', upTo: day, step: settleOnly },
    {
      kind: 'notice',
      upTo: (asOf, program) => dayOf(addDays(asOf, program.expiryNoticeDays)),
      step: noticeExpiringLots,
    },
  ],
  'mature-pending': [{ kind: 'mature', upTo: instant, step: settleOnly }],
  'release-expired-holds': [{ kind: 'hold', upTo: instant, step: settleOnly }],
  // Subscriptions by their next transition or monthly bonus (an instant): trial ends, renewals,
  // grace ends, scheduled cancellations, bonuses. Before the tier review in a day's schedule, so a
  // floor that ended is gone when the review looks.
  'subscription-renewals': [
    {
      kind: 'renewal',
      upTo: instant,
      own: true,
      step: (ctx, memberId, asOf, run, withWrite) => renewSubscription(ctx, memberId, asOf, run, withWrite),
    },
  ],
  'tier-review': [
    { kind: 'review', upTo: day, step: reviewTiers },
    {
      kind: 'warn',
      upTo: (asOf, program) => dayOf(addDays(asOf, program.tierDowngradeWarningDays)),
      step: warnOfDowngrades,
    },
  ],
  // Every member's balances at the end of yesterday vs the report counters: see reconcile.ts.
  reconcile: [{ scan: (ctx, _job, runDay) => walkMembers(ctx, runDay, SCAN_SEGMENTS) }],
  // Every purchaser scored daily with the stored churn model (nothing is "due"): see churn-scan.ts.
  'churn-scan': [
    {
      scan: (ctx, job, runDay, asOf, run) => {
        if (!run.churnModel) throw new ChurnModelMissingError();
        return scanChurn(ctx, {
          job,
          runDay,
          asOf,
          model: run.churnModel,
          settings: run.program,
          segments: SCAN_SEGMENTS,
        });
      },
    },
  ],
};

/** Shards worked on at once: enough to overlap round trips, few enough to stay gentle. */
const SHARD_CONCURRENCY = 4;

export async function runJob(ctx: RequestContext, name: JobName, body: JobBody): Promise<UseCaseResponse> {
  const asOf = body.asOf ? toUtc(body.asOf) : ctx.now;
  if (asOf > ctx.now)
    throw new ValidationError([{ path: 'body.asOf', message: 'must not be in the future' }]);
  const runDay = dayOf(asOf);
  const passes = jobPasses[name];
  const scans = passes.some((pass) => 'scan' in pass);
  // A scan run reads every member: once complete, it answers its totals and reads nothing more.
  if (scans && (await jobRunCompleted(ctx.store, name, runDay))) {
    return respond(200, await completedRun(ctx, name, runDay, asOf));
  }
  const scores = name === 'churn-scan';
  const [program, plans, churnModel] = await Promise.all([
    getProgram(ctx.store),
    passes.some((pass) => 'own' in pass && pass.own) ? allPlans(ctx.store) : new Map<string, Plan>(),
    scores ? getChurnModel(ctx.store) : undefined,
  ]);
  if (scores && !churnModel) throw new ChurnModelMissingError();
  const run: RunContext = { program, plans, churnModel };
  const started = await startJobRun(
    ctx.store,
    name,
    runDay,
    asOf,
    ctx.now,
    scans ? SCAN_SEGMENTS : undefined,
  );
  if (scans) refuseAnotherSplit(name, runDay, started.segments, SCAN_SEGMENTS);
  let complete = true;
  for (const pass of passes) {
    if ('scan' in pass) {
      if (!(await pass.scan(ctx, name, runDay, asOf, run))) complete = false;
      if (!complete) break;
      continue;
    }
    const upTo = pass.upTo(asOf, program);
    const shards = Array.from({ length: DUE_SHARDS }, (_, shard) => shard);
    const workers = Array.from({ length: SHARD_CONCURRENCY }, async () => {
      for (let shard = shards.shift(); shard !== undefined; shard = shards.shift()) {
        if (!(await drainShard(ctx, name, runDay, asOf, pass, upTo, shard, run))) complete = false;
      }
    });
    await Promise.all(workers);
    if (!complete) break;
  }
  if (complete) {
    await completeJobRun(ctx.store, name, runDay, ctx.now);
    if (scans) {
      await recordLatestRun(ctx.store, name, runDay, await jobSums(ctx.store, name, runDay), ctx.now);
      return respond(200, await completedRun(ctx, name, runDay, asOf));
    }
  }
  const totals = await jobTotals(ctx.store, name, runDay);
  return respond(200, { job: name, asOf, ...totals, complete });
}

/** What a complete scan run answers: its totals, and a reconciliation's findings. */
async function completedRun(ctx: RequestContext, name: JobName, runDay: string, asOf: string) {
  const totals = await jobTotals(ctx.store, name, runDay);
  if (name !== 'reconcile') return { job: name, asOf, ...totals, complete: true };
  const reconciliation = await reconcileRun(ctx, runDay);
  return { job: name, asOf, ...totals, changed: 0, complete: true, reconciliation };
}

/**
 * A scan run's segment positions are only meaningful in the split it began with: a run begun by the
 * AWS fan-out (many segments) is not continued in-process (16), nor the other way round.
 */
export function refuseAnotherSplit(
  job: JobName,
  runDay: string,
  runs: number | undefined,
  asked: number,
): void {
  if (runs !== undefined && runs !== asked) {
    throw new ConflictError(
      `The ${job} run of ${runDay} is split in ${runs} segments, not ${asked}: continue it the way it began.`,
      { segments: runs },
    );
  }
}

/** Work through one shard of a due index; false if the call's time ran out first. */
async function drainShard(
  ctx: RequestContext,
  job: JobName,
  runDay: string,
  asOf: string,
  pass: Pass,
  upTo: string,
  shard: number,
  run: RunContext,
): Promise<boolean> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dueIds(ctx.store, pass.kind, shard, upTo, startKey);
    for (const memberId of page.ids) {
      if (!withinDeadline(ctx)) return false;
      const written = await processMember(ctx, job, runDay, asOf, pass, memberId, run);
      if (!written) await countJobVisit(ctx.store, job, runDay, shardOf(memberId));
    }
    startKey = page.next;
  } while (startKey);
  return true;
}

/** Bring one due member up to asOf and apply the pass's step: one version-conditioned change. */
async function processMember(
  ctx: RequestContext,
  job: JobName,
  runDay: string,
  asOf: string,
  pass: Pass,
  memberId: string,
  run: RunContext,
): Promise<boolean> {
  const withWrite = [countJobChange(ctx.store, job, runDay, shardOf(memberId))];
  const change = pass.own
    ? (pass.step as Process)(ctx, memberId, asOf, run, withWrite)
    : writeMemberChange(
        { ...ctx, idempotency: undefined },
        {
          memberId,
          settleAt: asOf,
          // The run's program, read once: a job does not read it again for every member.
          load: () => loadPointsContext(ctx, { memberId, partnerId: null }, run.program),
          plan: ({ member, program }): MemberChangePlan => {
            const { points, events } = (pass.step as Step)(member.points, asOf, program, memberId);
            return { points, status: 200, ...(events ? { events } : {}) };
          },
          withWrite,
        },
      );
  const result = await change.catch((error: unknown) => {
    // A member erased or gone since it was indexed has nothing due any more.
    if (error instanceof GoneError || error instanceof NotFoundError) {
      return { written: false };
    }
    throw error;
  });
  return result.written;
}
