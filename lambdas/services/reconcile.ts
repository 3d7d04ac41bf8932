/**
 * POST /v1/jobs/reconcile: the control behind every report. It walks every member (a parallel Scan,
 * resumable per segment like the churn scan) and sums their balances as they stood at the end of the
 * day before asOf, which each member's balance cuts make exact while members keep changing
 * (domain/position.ts); then compares the sums with the report counters through that day, and the
 * counters' balances with their movements. Every difference is returned and logged (an alarm on
 * AWS). A complete run also closes the months that are over: their snapshots keep reports cheap.
 */
import type { Counters } from '../domain/liability.ts';
import { movementsOf, netMovement, outstandingOf } from '../domain/liability.ts';
import { balancesAtEndOf, POSITION } from '../domain/position.ts';
import { monthsBetween } from '../domain/settlement.ts';
import { dayBefore, lastDayOf } from '../domain/time.ts';
import { logger } from '../http/logger.ts';
import type { JobName } from '../schemas/jobs.ts';
import {
  checkpointScanSegment,
  jobSums,
  type ScanSegmentProgress,
  SEGMENT_START,
  scanProgress,
  scanSegmentProgress,
} from '../store/job-store.ts';
import { scanMemberBalances } from '../store/member-store.ts';
import {
  ensureReportEpoch,
  monthSnapshots,
  putMonthSnapshot,
  reportEpoch,
  sumDays,
} from '../store/report-store.ts';
import { type RequestContext, withinDeadline } from './context.ts';
import { historyThrough, reportScopes, totalOf } from './report-data.ts';

const JOB: JobName = 'reconcile';
/** Items read per Scan page: a crash repeats at most this much reading of a segment. */
const PAGE_LIMIT = 1_000;

/** Walk every segment from where it stands; false if the call's time ran out first. */
export async function walkMembers(ctx: RequestContext, runDay: string, segments: number): Promise<boolean> {
  const through = dayBefore(runDay);
  const progress = await scanProgress(ctx.store, JOB, runDay);
  const done = await Promise.all(
    Array.from({ length: segments }, (_, segment) =>
      drainSegment(ctx, runDay, through, segment, segments, progress.get(segment) ?? SEGMENT_START),
    ),
  );
  return done.every(Boolean);
}

async function drainSegment(
  ctx: RequestContext,
  runDay: string,
  through: string,
  segment: number,
  segments: number,
  from: ScanSegmentProgress,
): Promise<boolean> {
  let position = from;
  while (!position.done) {
    if (!withinDeadline(ctx)) return false;
    const page = await scanMemberBalances(ctx.store, {
      segment,
      segments,
      startKey: position.after,
      limit: PAGE_LIMIT,
    });
    const sums = { membersAvailable: 0, membersPending: 0, membersHeld: 0, unverifiableMembers: 0 };
    // No counter predates its member: the report epoch is at or before the earliest member's day
    // (a backstop for the write that records it after each commit).
    const earliest = page.members.map((member) => member.createdAt.slice(0, 10)).sort()[0];
    if (earliest !== undefined) await ensureReportEpoch(ctx.store, earliest);
    for (const member of page.members) {
      const balances = balancesAtEndOf(through, member.balances, member.cuts);
      if (!balances) {
        sums.unverifiableMembers += 1;
        continue;
      }
      sums.membersAvailable += balances.available;
      sums.membersPending += balances.pending;
      sums.membersHeld += balances.held;
    }
    const saved = await checkpointScanSegment(
      ctx.store,
      JOB,
      runDay,
      segment,
      position,
      page.next,
      page.members.length,
      sums,
    );
    // Another call of the same run saved this page first: what it counted stands.
    position = saved
      ? { checkpoint: position.checkpoint + 1, after: page.next, done: page.next === undefined }
      : await scanSegmentProgress(ctx.store, JOB, runDay, segment);
  }
  return true;
}

export interface Difference {
  figure: string;
  /** What the report counters say. */
  counters: number;
  /** What the members (or, for movements, the balances) say. */
  actual: number;
  difference: number;
}

export interface Reconciliation {
  /** The books compared as they stood at the end of this day (UTC, posting days). */
  through: string;
  members: { available: number; pending: number; held: number; outstanding: number };
  counters: {
    available: number;
    pending: number;
    held: number;
    outstanding: number;
    /** Σ of every movement ever counted: equals outstanding when every movement is counted. */
    outstandingByMovements: number;
    /** Σ of the held points kept per partner: equals held. */
    heldByPartner: number;
  };
  /** Members whose balance at `through` cannot be rebuilt (written on two later days): rerun sooner. */
  unverifiableMembers: number;
  differences: Difference[];
  /** Months closed by this run (their snapshots written). */
  monthsClosed: string[];
}

/** Compare a complete walk with the counters, log every difference, and close the months that ended. */
export async function reconcileRun(ctx: RequestContext, runDay: string): Promise<Reconciliation> {
  const through = dayBefore(runDay);
  const [sums, scopes] = await Promise.all([jobSums(ctx.store, JOB, runDay), reportScopes(ctx)]);
  const counters = totalOf(await historyThrough(ctx, scopes, through));
  const get = (name: string) => Number(counters[name] ?? 0n);
  const members = {
    available: sums.membersAvailable ?? 0,
    pending: sums.membersPending ?? 0,
    held: sums.membersHeld ?? 0,
    outstanding: (sums.membersAvailable ?? 0) + (sums.membersPending ?? 0) + (sums.membersHeld ?? 0),
  };
  const counted = {
    available: get(POSITION.available),
    pending: get(POSITION.pending),
    held: get(POSITION.held),
    outstanding: Number(outstandingOf(counters)),
    outstandingByMovements: Number(netMovement(movementsOf(counters))),
    heldByPartner: get('heldPoints'),
  };
  const differences: Difference[] = [];
  const compare = (figure: string, expected: number, actual: number) => {
    if (expected !== actual)
      differences.push({ figure, counters: expected, actual, difference: actual - expected });
  };
  compare('available', counted.available, members.available);
  compare('pending', counted.pending, members.pending);
  compare('held', counted.held, members.held);
  compare('outstandingByMovements', counted.outstandingByMovements, counted.outstanding);
  compare('heldByPartner', counted.heldByPartner, counted.held);
  for (const difference of differences) {
    // The alarm's metric filter matches this message (lib/jobs.ts).
    logger.error('reconciliation difference', { job: JOB, through, ...difference });
  }
  const monthsClosed = await closeMonths(
    ctx,
    scopes.map((scope) => scope.scope),
    through,
  );
  return {
    through,
    members,
    counters: counted,
    unverifiableMembers: sums.unverifiableMembers ?? 0,
    differences,
    monthsClosed,
  };
}

/**
 * Write the snapshot of every month that ended before `through` and has none yet, for every scope.
 * A month is over once a day of the next month has ended too: a write posted on its last day
 * commits within minutes (a Lambda runs 15 at most), never a day later.
 */
async function closeMonths(ctx: RequestContext, scopes: string[], through: string): Promise<string[]> {
  const epoch = await reportEpoch(ctx.store);
  if (epoch === undefined) return [];
  const closable = monthsBetween(epoch, through).filter((month) => lastDayOf(month) < through);
  const closed = new Set<string>();
  await Promise.all(
    scopes.map(async (scope) => {
      const snapshots = await monthSnapshots(ctx.store, scope);
      for (const month of closable) {
        if (snapshots.has(month)) continue;
        const counters: Counters = await sumDays(ctx.store, scope, `${month}-01`, lastDayOf(month));
        await putMonthSnapshot(ctx.store, scope, month, counters, ctx.now);
        closed.add(month);
      }
    }),
  );
  return [...closed].sort();
}
