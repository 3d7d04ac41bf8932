/**
 * The `churn-scan` job: every active member with a purchase history is scored with the stored
 * churn model as of the run's day, and its scores are written on the member. Unlike the lifecycle
 * jobs nothing is "due": every purchaser is scored every day, so the job reads the members with a
 * parallel Scan (16 segments) instead of a due index.
 *
 * - Resumable: each segment's position (the key the Scan continues after) is saved on the run's
 *   `SHARD#nn` item after each page, and at the deadline after the last member handled; the next
 *   call of the same (job, day) continues from there, and a completed run does nothing.
 * - Idempotent per day: a member whose scores are already of this day (or a later one) is left as
 *   it is, so a page handled again after a crash writes nothing twice.
 * - One event per band change: when the risk band differs from the stored one (a first score is a
 *   change from null), the scores, the `member.churn_risk.changed` outbox item and the run's
 *   `changed` counter are one transaction, conditioned on the scores read; otherwise a plain update
 *   with the same condition. A concurrent scan of the same member re-reads and finds it scored.
 */

import { type ScoreSettings, scoreMember } from '../domain/churn-scores.ts';
import { TooManyConcurrentUpdatesError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { modelInputs } from '../domain/purchase-history.ts';
import { dayOf } from '../domain/time.ts';
import type { ChurnView } from '../schemas/analytics.ts';
import {
  type ChurnModelRecord,
  getScannedMember,
  memberChurnItem,
  type ScannedMember,
  scanPurchasers,
  setMemberChurn,
} from '../store/churn-store.ts';
import {
  checkpointScanSegment,
  countScanChange,
  type ScanSegmentProgress,
  SEGMENT_START,
  scanProgress,
  scanSegmentProgress,
} from '../store/job-store.ts';
import { putOutboxEvent } from '../store/outbox.ts';
import { TransactionCancelledError, transactWrite } from '../store/transactions.ts';
import { type RequestContext, withinDeadline } from './context.ts';
import { jitter } from './retry.ts';

/** Segments of the in-process parallel Scan (POST /v1/jobs/churn-scan), worked on at once. */
export const SCAN_SEGMENTS = 16;
/** Items read per Scan page: a crash repeats at most this much reading of a segment. */
const PAGE_LIMIT = 1_000;
/** Attempts on one member whose scores keep changing under the scan (another scan of the same day). */
const MAX_ATTEMPTS = 10;

export const CHURN_RISK_CHANGED = 'member.churn_risk.changed';

/** One run of the scan: (job, day), the instant it scores as of, its model and its split. */
export interface ScanRun {
  job: string;
  runDay: string;
  asOf: string;
  model: ChurnModelRecord;
  settings: ScoreSettings;
  /** Segments the run's Scan is split in (fixed by its first call, see startJobRun). */
  segments: number;
}

/** What one call did to one segment. */
export interface SegmentDrain {
  /** The segment is done (by this call or an earlier one); false when the call's time ran out first. */
  done: boolean;
  /** Members this call counted as processed (saved with its checkpoints: the run's totals add them). */
  processed: number;
  /** Band changes this call wrote (each counted in its own transaction). */
  changed: number;
}

/** Score every purchaser as of `asOf`'s day, all segments in this process; false if time ran out first. */
export async function scanChurn(ctx: RequestContext, run: ScanRun): Promise<boolean> {
  const progress = await scanProgress(ctx.store, run.job, run.runDay);
  const segments = Array.from({ length: run.segments }, (_, segment) => segment);
  const drained = await Promise.all(
    segments.map((segment) => drainSegment(ctx, run, segment, progress.get(segment) ?? SEGMENT_START)),
  );
  return drained.every((segment) => segment.done);
}

/**
 * Score one segment of the run, from where it stands, until it is done or the call's time runs
 * out: the worker each item of the AWS fan-out runs (handlers/churn-scan-worker.ts).
 */
export async function scanChurnSegment(
  ctx: RequestContext,
  run: ScanRun,
  segment: number,
): Promise<SegmentDrain> {
  const from = await scanSegmentProgress(ctx.store, run.job, run.runDay, segment);
  return drainSegment(ctx, run, segment, from);
}

/**
 * The one scoring loop of both paths: from `from`, page by page, each member scored and each page
 * saved as a checkpoint of the segment, until the segment is done or the deadline passes.
 */
async function drainSegment(
  ctx: RequestContext,
  run: ScanRun,
  segment: number,
  from: ScanSegmentProgress,
): Promise<SegmentDrain> {
  let position = from;
  const drained = { processed: 0, changed: 0 };
  const stop = (): SegmentDrain => ({ done: position.done, ...drained });
  while (!position.done) {
    if (!withinDeadline(ctx)) return stop();
    const page = await scanPurchasers(ctx.store, {
      segment,
      segments: run.segments,
      startKey: position.after,
      limit: PAGE_LIMIT,
    });
    let processed = 0;
    // The CLV of every member the page scored: the run's mean CLV (the KPI report's) is exact.
    let clvSumMinor = 0;
    // And its cells by band × tier (GET /v1/analytics/segments reads the latest run's sums).
    const cells: Record<string, number> = {};
    let last: Record<string, unknown> | undefined;
    let stopped = false;
    for (const member of page.members) {
      if (!withinDeadline(ctx)) {
        stopped = true;
        break;
      }
      const { outcome, clvMinor, risk } = await scoreScanned(ctx, run, segment, member);
      if (outcome !== 'skipped') {
        processed += 1;
        clvSumMinor += clvMinor;
        addToCell(cells, risk, member.tier, clvMinor, member.availablePoints);
      }
      if (outcome === 'changed') drained.changed += 1;
      last = member.key;
    }
    if (stopped && !last) return stop();
    // At the deadline the segment continues after the last member handled, else after the page.
    const after = stopped ? last : page.next;
    const saved = await checkpointScanSegment(
      ctx.store,
      run.job,
      run.runDay,
      segment,
      position,
      after,
      processed,
      { clvSumMinor, ...cells },
    );
    if (saved) drained.processed += processed;
    // Another call of the same run moved this segment on: what it counted stands; continue from it.
    position = saved
      ? { checkpoint: position.checkpoint + 1, after, done: after === undefined }
      : await scanSegmentProgress(ctx.store, run.job, run.runDay, segment);
    if (stopped) return stop();
  }
  return stop();
}

/** The run's sums of one band × tier cell: `seg|<risk>|<tier>|members`, `…|clv`, `…|points`. */
export const SEGMENT_PREFIX = 'seg|';

function addToCell(
  cells: Record<string, number>,
  risk: string,
  tier: string | null,
  clvMinor: number,
  points: number,
): void {
  const cell = `${SEGMENT_PREFIX}${risk}|${tier ?? ''}|`;
  cells[`${cell}members`] = (cells[`${cell}members`] ?? 0) + 1;
  cells[`${cell}clv`] = (cells[`${cell}clv`] ?? 0) + clvMinor;
  cells[`${cell}points`] = (cells[`${cell}points`] ?? 0) + points;
}

/**
 * Score one member and store its scores (with the event when its band changed): `changed` when
 * this call wrote a band change, `scored` when it wrote the same band or found the member scored
 * for this day already (both count as processed), `skipped` when it is no purchaser (any more).
 */
async function scoreScanned(
  ctx: RequestContext,
  run: ScanRun,
  segment: number,
  scanned: ScannedMember,
): Promise<{ outcome: 'changed' | 'scored' | 'skipped'; clvMinor: number; risk: string }> {
  let member: ScannedMember | undefined = scanned;
  let withEvent = true;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt > 0) {
      await jitter(attempt);
      member = await getScannedMember(ctx.store, scanned.id);
    }
    if (member?.status !== 'active') return { outcome: 'skipped', clvMinor: 0, risk: '' };
    const inputs = modelInputs(member.purchases, run.runDay);
    if (!inputs) return { outcome: 'skipped', clvMinor: 0, risk: '' };
    const previous = member.churn;
    // Scored by this run already (a page handled again), or by a later day's run: left as it is.
    if (previous && dayOf(previous.scoredAt) >= run.runDay)
      return { outcome: 'scored', clvMinor: previous.clvMinor, risk: previous.risk };
    const { pAlive, risk, expectedPurchases90d, clvMinor } = scoreMember(run.model, inputs, run.settings);
    const churn: ChurnView = { pAlive, risk, expectedPurchases90d, clvMinor, scoredAt: run.asOf };
    if (previous?.risk === risk) {
      if (await setMemberChurn(ctx.store, member.id, churn, previous))
        return { outcome: 'scored', clvMinor, risk };
      continue;
    }
    const outcome = await changeBand(ctx, run, segment, member.id, churn, previous, withEvent);
    if (outcome === 'written') return { outcome: 'changed', clvMinor, risk };
    if (outcome === 'event-exists') withEvent = false;
  }
  throw new TooManyConcurrentUpdatesError(
    `Member ${scanned.id} kept changing while the churn scan scored it; run the job again to continue.`,
  );
}

/**
 * A band change: the scores, `member.churn_risk.changed` (once per member and day, whatever the
 * retries) and the run's counter, in one transaction.
 */
async function changeBand(
  ctx: RequestContext,
  run: ScanRun,
  segment: number,
  memberId: string,
  churn: ChurnView,
  previous: ChurnView | null,
  withEvent: boolean,
): Promise<'written' | 'stale' | 'event-exists'> {
  const event = putOutboxEvent(ctx.store, `${CHURN_RISK_CHANGED}#${memberId}#${run.runDay}`, {
    id: newId('evt', Date.parse(ctx.now)),
    type: CHURN_RISK_CHANGED,
    occurredAt: ctx.now,
    memberId,
    partnerId: null,
    data: {
      previous: previous?.risk ?? null,
      current: churn.risk,
      pAlive: churn.pAlive,
      clvMinor: churn.clvMinor,
    },
  });
  const items = [
    memberChurnItem(ctx.store, memberId, churn, previous),
    ...(withEvent ? [event] : []),
    countScanChange(ctx.store, run.job, run.runDay, segment),
  ];
  try {
    await transactWrite(ctx.store, items);
    return 'written';
  } catch (error) {
    if (!(error instanceof TransactionCancelledError)) throw error;
    // The member's scores moved (another scan, an erasure): read it again. The day's event exists
    // already (the band changed twice in a day): the second change is stored without one.
    if (!error.failedAt(0) && withEvent && error.failedAt(1)) return 'event-exists';
    return 'stale';
  }
}
