/**
 * Tiers over a rolling window of qualifying points (points earned on purchases, by month). A
 * member moves up the moment the window reaches a higher tier; moving down happens only in the
 * tier review, on the member's review date: the first month start at which the points still in
 * the window no longer reach the current tier.
 */
import type { Tier } from '../schemas/program.ts';
import type { MemberPoints } from './member-ledger.ts';
import { dayOf, monthOf, monthsInWindow, startOfMonthAfter } from './time.ts';

export interface TierPolicy {
  tierWindowMonths: number;
  tiers: Tier[];
}

/** Qualifying points in the window that ends with (and includes) the month of `at`. */
export function qualifyingPoints(points: MemberPoints, at: string, windowMonths: number): number {
  const window = monthsInWindow(at, windowMonths);
  let total = 0;
  for (const [month, value] of Object.entries(points.qualifying)) if (window.has(month)) total += value;
  return total;
}

/** The tier a number of qualifying points reaches (tiers are ordered by threshold). */
export function tierFor(qualifying: number, tiers: Tier[]): Tier {
  let reached = tiers[0];
  for (const tier of tiers) if (qualifying >= tier.minQualifyingPoints) reached = tier;
  if (!reached) throw new Error('a program has at least one tier');
  return reached;
}

/** Whether the member's tier is one the program still has (an admin may remove tiers). */
const knownTier = (points: MemberPoints, tiers: Tier[]) =>
  tiers.some((tier) => tier.code === points.tier.code);

/** The member's tier as the program defines it now (the entry tier if it was removed). */
export function currentTier(points: MemberPoints, tiers: Tier[]): Tier {
  const tier = tiers.find((candidate) => candidate.code === points.tier.code) ?? tiers[0];
  if (!tier) throw new Error('a program has at least one tier');
  return tier;
}

/** The tier a paid membership holds the member at, if the program still has it. */
function floorOf(points: MemberPoints, tiers: Tier[]): Tier | undefined {
  return points.tierFloor === null ? undefined : tiers.find((tier) => tier.code === points.tierFloor);
}

/** The higher of two tiers (tiers are ordered by threshold). */
const higher = (a: Tier, b: Tier | undefined) =>
  b !== undefined && b.minQualifyingPoints > a.minQualifyingPoints ? b : a;

/**
 * Set the tier a paid membership guarantees (null when it ends) and move the member up to it at
 * once. Ending a floor moves nobody down: the next review does, if the window no longer reaches.
 */
export function applyTierFloor(points: MemberPoints, floor: string | null, now: string, tiers: Tier[]): void {
  points.tierFloor = floor !== null && tiers.some((tier) => tier.code === floor) ? floor : null;
  const floorTier = floorOf(points, tiers);
  if (floorTier && floorTier.minQualifyingPoints > currentTier(points, tiers).minQualifyingPoints) {
    points.tier = { code: floorTier.code, since: now };
  }
}

/** Add qualifying points to the month earned (if it is in the window) and prune old months. */
export function addQualifying(
  points: MemberPoints,
  earned: number,
  occurredAt: string,
  now: string,
  windowMonths: number,
): void {
  const window = monthsInWindow(now, windowMonths);
  const month = monthOf(occurredAt);
  if (window.has(month) && earned !== 0) {
    points.qualifying[month] = Math.max(0, (points.qualifying[month] ?? 0) + earned);
  }
  for (const kept of Object.keys(points.qualifying)) if (!window.has(kept)) delete points.qualifying[kept];
}

/** Move the member up if the window now reaches a higher tier (never down). */
export function upgradeTier(
  points: MemberPoints,
  now: string,
  policy: TierPolicy,
): { from: string; to: string } | null {
  const from = points.tier.code;
  const current = currentTier(points, policy.tiers);
  const reached = higher(
    tierFor(qualifyingPoints(points, now, policy.tierWindowMonths), policy.tiers),
    floorOf(points, policy.tiers),
  );
  // A tier the program no longer has is replaced by the one reached, as an upgrade would.
  if (reached.minQualifyingPoints <= current.minQualifyingPoints && knownTier(points, policy.tiers))
    return null;
  points.tier = { code: reached.code, since: now };
  return from === reached.code ? null : { from, to: reached.code };
}

/**
 * The member's review date: the first month start after `at` at which the points still in the
 * window fall below the current tier's threshold, if nothing more is earned. Null in the entry tier.
 */
export function tierReviewDate(points: MemberPoints, at: string, policy: TierPolicy): string | null {
  // A tier the program removed is reviewed next month, which settles it on a tier that exists.
  if (!knownTier(points, policy.tiers)) return dayOf(startOfMonthAfter(at, 1));
  const tier = currentTier(points, policy.tiers);
  if (tier.minQualifyingPoints === 0) return null;
  // A paid membership's floor holds the tier: no review while it lasts.
  const floor = floorOf(points, policy.tiers);
  if (floor && floor.minQualifyingPoints >= tier.minQualifyingPoints) return null;
  for (let months = 1; months <= policy.tierWindowMonths + 1; months++) {
    const start = startOfMonthAfter(at, months);
    if (qualifyingPoints(points, start, policy.tierWindowMonths) < tier.minQualifyingPoints)
      return dayOf(start);
  }
  return dayOf(startOfMonthAfter(at, policy.tierWindowMonths + 1));
}

/** What the member view shows about the tier: what keeping it takes, and what the next one needs. */
export interface TierProgress {
  qualifyingPoints: number;
  /**
   * When the tier is reviewed, and the points to earn before then to keep it, counting points earned
   * from `countingFrom` (the first day of the oldest month still in the window on the review date;
   * null in the entry tier).
   */
  review: { on: string; pointsToKeep: number; countingFrom: string } | null;
  next: { code: string; pointsNeeded: number } | null;
}

export function tierProgress(points: MemberPoints, now: string, policy: TierPolicy): TierProgress {
  const qualifying = qualifyingPoints(points, now, policy.tierWindowMonths);
  const tier = currentTier(points, policy.tiers);
  const reviewOn = tierReviewDate(points, now, policy);
  const next = policy.tiers.find((candidate) => candidate.minQualifyingPoints > tier.minQualifyingPoints);
  return {
    qualifyingPoints: qualifying,
    review:
      reviewOn === null
        ? null
        : {
            on: reviewOn,
            // What the window still holds on the review date decides; months before it no longer count.
            pointsToKeep: Math.max(
              0,
              tier.minQualifyingPoints -
                qualifyingPoints(points, `${reviewOn}T00:00:00.000Z`, policy.tierWindowMonths),
            ),
            countingFrom: dayOf(startOfMonthAfter(`${reviewOn}T00:00:00.000Z`, 1 - policy.tierWindowMonths)),
          },
    next: next ? { code: next.code, pointsNeeded: Math.max(0, next.minQualifyingPoints - qualifying) } : null,
  };
}

/**
 * The tier review as of `asOf`: a member whose review date has come moves to the tier the window
 * still reaches (down only; upgrades already happened when the points were earned).
 */
export function reviewTier(
  points: MemberPoints,
  asOf: string,
  policy: TierPolicy,
): { from: string; to: string } | null {
  const from = currentTier(points, policy.tiers);
  const still = higher(
    tierFor(qualifyingPoints(points, asOf, policy.tierWindowMonths), policy.tiers),
    floorOf(points, policy.tiers),
  );
  const known = knownTier(points, policy.tiers);
  if (known && still.minQualifyingPoints >= from.minQualifyingPoints) return null;
  if (!known && still.code === points.tier.code) return null;
  const previous = points.tier.code;
  points.tier = { code: still.code, since: asOf };
  return { from: previous, to: still.code };
}
