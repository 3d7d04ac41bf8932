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
  mergeLots,
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
 *
 * Everything is applied in the order it fell due, expiring what was due before each step: with a
 * debt, which points pay it decides which points are left to expire, so settling once must give
 * what settling at every instant in between would (a job that did not run changes nothing).
 */
export function settleDue(
  before: MemberPoints,
  at: string,
  options: { expire: boolean } = { expire: true },
): Settled {
  let points = structuredClone(before);
  const expired: LotPoints[] = [];
  const releasedHolds: Settled['releasedHolds'] = [];
  let maturedPoints = 0;
  const expireUntil = (instant: string) => {
    // A read leaves expiry to the change that records it (it needs an entry); the rest applies.
    if (!options.expire) return;
    const due = expireDue(points, instant);
    points = due.points;
    expired.push(...due.expired);
  };
  const events = [
    ...Object.keys(points.pendingLots).map((key) => ({ at: key.split('|')[0] as string, mature: key })),
    ...Object.entries(points.holds).map(([redemptionId, hold]) => ({
      at: hold.expiresAt,
      release: redemptionId,
    })),
  ]
    .filter((event) => event.at <= at)
    // Maturation before a release at the same instant; otherwise strictly by time.
    .sort((a, b) => a.at.localeCompare(b.at) || ('mature' in a ? -1 : 1));
  for (const event of events) {
    expireUntil(event.at);
    if ('mature' in event && event.mature !== undefined) {
      maturedPoints += mature(points, event.mature);
    } else if ('release' in event && event.release !== undefined) {
      const hold = points.holds[event.release] as Hold;
      points = applyRelease(points, event.release);
      releasedHolds.push({ redemptionId: event.release, hold });
    }
  }
  expireUntil(at);
  return {
    points,
    releasedHolds,
    expired: mergeLots(expired),
    expiredPoints: expired.reduce((total, lot) => total + lot.points, 0),
    maturedPoints,
  };
}

/** Move one pending lot into its posted lot (mutates `points`); returns its points. */
function mature(points: MemberPoints, pendingKey: string): number {
  const value = points.pendingLots[pendingKey] ?? 0;
  const expiryKey = pendingKey.split('|')[1] as string;
  delete points.pendingLots[pendingKey];
  points.pending -= value;
  credit(points, expiryKey, value);
  return value;
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
  // A lot that has expired cannot come back (refunds give fresh lots): its notice is history.
  points.noticedLots = points.noticedLots.filter((key) => !isExpired(key, at));
  return { points, expired };
}

/**
 * Lots expiring within `noticeDays` after `asOf` whose `points.expiring` notice is not sent yet,
 * soonest first (recorded in `noticedLots`: one notice per lot).
 */
export function lotsToNotice(points: MemberPoints, asOf: string, noticeDays: number): LotPoints[] {
  const horizon = dayOf(addDays(asOf, noticeDays));
  return lotsInSpendingOrder(points.lots)
    .filter(
      (key) => key !== NEVER && key > dayOf(asOf) && key <= horizon && !points.noticedLots.includes(key),
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

  return {
    expire: lots[0] ?? null,
    notice: lots.find((key) => !points.noticedLots.includes(key)) ?? null,
    mature: pending.sort()[0] ?? null,
    review,
    warn: review !== null && review !== points.tierWarnedFor ? review : null,
  };
}
