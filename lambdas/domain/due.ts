/**
 * What falls due with time: pending points mature, holds expire, lots expire, expiry notices and
 * tier reviews come round. Every change of a member first brings its position up to now
 * (`settleDue`), so nothing ever spends expired points or leaves an expired hold reserved, whether
 * or not a job has run. The jobs find the members that are due through indexes kept from `dueDates`.
 */
import {
  credit,
  type Hold,
  isExpired,
  type LotPoints,
  lotsInSpendingOrder,
  type MemberPoints,
  NEVER,
} from './member-ledger.ts';
import { applyRelease } from './movements.ts';
import { type TierPolicy, tierReviewDate } from './tiers.ts';
import { addDays, dayOf } from './time.ts';

export interface Settled {
  points: MemberPoints;
  /** Holds whose expiry had come, released (their points back in the lots they came from). */
  releasedHolds: { redemptionId: string; hold: Hold }[];
  /** Posted lots whose expiry date had come: they leave through an `expire` entry. */
  expired: LotPoints[];
  expiredPoints: number;
  /** Pending points that became available. */
  maturedPoints: number;
}

/**
 * Bring a position up to `at`: pending lots whose `availableAt` has passed become available (the
 * earn entry already says when, so no entry is needed), expired holds are released, and lots whose
 * expiry date has come are taken out, to be recorded as an `expire` entry in the same transaction.
 */
export function settleDue(before: MemberPoints, at: string): Settled {
  const matured = matureDue(before, at);
  let points = matured.points;
  const releasedHolds: Settled['releasedHolds'] = [];
  for (const [redemptionId, hold] of Object.entries(points.holds)) {
    if (hold.expiresAt > at) continue;
    points = applyRelease(points, redemptionId);
    releasedHolds.push({ redemptionId, hold });
  }
  const { points: after, expired } = expireDue(points, at);
  return {
    points: after,
    releasedHolds,
    expired,
    expiredPoints: expired.reduce((total, lot) => total + lot.points, 0),
    maturedPoints: matured.maturedPoints,
  };
}

/** Lots whose expiry has come by `at`, taken out of the position (soonest first). */
export function expireDue(before: MemberPoints, at: string): { points: MemberPoints; expired: LotPoints[] } {
  const points = structuredClone(before);
  const expired: LotPoints[] = [];
  for (const key of lotsInSpendingOrder(points.lots)) {
    if (!isExpired(key, at)) continue;
    expired.push({ expiryKey: key, points: points.lots[key] ?? 0 });
    points.available -= points.lots[key] ?? 0;
    delete points.lots[key];
  }
  return { points, expired };
}

/** Pending lots whose `availableAt` has passed, moved into their posted lots (no accounting change). */
export function matureDue(before: MemberPoints, at: string): { points: MemberPoints; maturedPoints: number } {
  const points = structuredClone(before);
  let maturedPoints = 0;
  for (const [key, value] of Object.entries(points.pendingLots)) {
    const [availableAt, expiryKey] = key.split('|') as [string, string];
    if (availableAt > at) continue;
    delete points.pendingLots[key];
    points.pending -= value;
    credit(points, expiryKey, value);
    maturedPoints += value;
  }
  return { points, maturedPoints };
}

/**
 * Lots expiring within `noticeDays` after `asOf` whose `points.expiring` notice is not sent yet,
 * soonest first; recording them moves `expiryNoticedThrough` past them (one notice per lot).
 */
export function lotsToNotice(points: MemberPoints, asOf: string, noticeDays: number): LotPoints[] {
  const horizon = dayOf(addDays(asOf, noticeDays));
  return lotsInSpendingOrder(points.lots)
    .filter(
      (key) =>
        key !== NEVER &&
        key > dayOf(asOf) &&
        key <= horizon &&
        (points.expiryNoticedThrough === null || key > points.expiryNoticedThrough),
    )
    .map((key) => ({ expiryKey: key, points: points.lots[key] ?? 0 }));
}

/** When each job next has something to do for this member (null: nothing), for the due indexes. */
export interface DueDates {
  /** The soonest lot's expiry date (`expire-points`). */
  expire: string | null;
  /** The soonest lot not yet noticed (`expire-points`, `expiryNoticeDays` ahead). */
  notice: string | null;
  /** The soonest pending `availableAt` (`mature-pending`). */
  mature: string | null;
  /** The tier review date (`tier-review`). */
  review: string | null;
  /** The review date, while its downgrade warning is not sent (`tier-review`, warning days ahead). */
  warn: string | null;
}

export function dueDates(points: MemberPoints, now: string, policy: TierPolicy): DueDates {
  const lots = lotsInSpendingOrder(points.lots).filter((key) => key !== NEVER);
  const pending = Object.keys(points.pendingLots).map((key) => key.split('|')[0] as string);
  const review = tierReviewDate(points, now, policy);
  const noticed = points.expiryNoticedThrough;
  return {
    expire: lots[0] ?? null,
    notice: lots.find((key) => noticed === null || key > noticed) ?? null,
    mature: pending.sort()[0] ?? null,
    review,
    warn: review !== null && review !== points.tierWarnedFor ? review : null,
  };
}
