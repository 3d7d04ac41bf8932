/**
 * Every point movement as a pure transition of a member's position: it takes the position as it
 * was read (already brought up to now, see `due.ts`) and returns the new one plus what the ledger
 * entry needs. Nothing here reads or writes; a refused movement throws a DomainError.
 */
import { ConflictError, InsufficientPointsError } from './errors.ts';
import {
  credit,
  expiresAtOf,
  expiryKeyFor,
  expiryKeyOf,
  isExpired,
  type LedgerPolicy,
  type LotPoints,
  type MemberPoints,
  spend,
  sum,
  takeFromLots,
} from './member-ledger.ts';
import { pendingKeyOf } from './position.ts';
import { addQualifying, upgradeTier } from './tiers.ts';
import { addDays, nextMidnight } from './time.ts';

/** Open holds a member may have at once: keeps the member item small whatever a client does. */
export const MAX_OPEN_HOLDS = 50;

export interface EarnApplied {
  points: MemberPoints;
  status: 'pending' | 'posted';
  availableAt: string;
  expiresAt: string | null;
  tierChanged: { from: string; to: string } | null;
}

/**
 * Credit earned points: into a lot by expiry date (or a pending lot until `pendingDays` after the
 * purchase), into lifetime and qualifying totals; upgrade the tier if the window now reaches a
 * higher one. Downgrades happen only in the tier review, never at earn time.
 */
export function applyEarn(
  before: MemberPoints,
  earned: number,
  occurredAt: string,
  now: string,
  policy: LedgerPolicy,
  /** The partner that issues the points: pending lots are kept per partner, for its liability. */
  partnerId: string | null = null,
): EarnApplied {
  const points = structuredClone(before);
  const expiryKey = expiryKeyFor(occurredAt, policy.expiryMonths);
  // Without a pending period points post now, even when a till's clock runs a little ahead of ours.
  // With one, they become available at the first midnight (UTC) after the period: lots are per day,
  // so a member earning all day long keeps one pending lot per day, not one per purchase.
  const availableAt = policy.pendingDays > 0 ? nextMidnight(addDays(occurredAt, policy.pendingDays)) : now;
  const status = availableAt > now ? 'pending' : 'posted';
  if (status === 'posted') {
    credit(points, expiryKey, earned);
  } else if (earned > 0) {
    const pendingKey = pendingKeyOf(availableAt, expiryKey, partnerId);
    points.pendingLots[pendingKey] = (points.pendingLots[pendingKey] ?? 0) + earned;
    points.pending += earned;
  }
  points.lifetimeEarned += earned;
  addQualifying(points, earned, occurredAt, now, policy.tierWindowMonths);
  const tierChanged = upgradeTier(points, now, policy);
  return { points, status, availableAt, expiresAt: expiresAtOf(expiryKey), tierChanged };
}

export { pendingKeyOf };

/** Points credited outside purchases (activities, positive adjustments): posted now, expiring from now. */
export function applyCredit(
  before: MemberPoints,
  amount: number,
  now: string,
  policy: LedgerPolicy,
  options: { lifetime: boolean },
): { points: MemberPoints; expiresAt: string | null } {
  const points = structuredClone(before);
  const expiryKey = expiryKeyFor(now, policy.expiryMonths);
  credit(points, expiryKey, amount);
  if (options.lifetime) points.lifetimeEarned += amount;
  return { points, expiresAt: expiresAtOf(expiryKey) };
}

export interface RedemptionApplied {
  points: MemberPoints;
  /** Which lots paid for it, soonest-expiring first: refunds give points back to the same lots. */
  consumed: LotPoints[];
}

/** Spend available points FIFO by expiry (a captured redemption). Never overdraws. */
export function applyRedemption(before: MemberPoints, requested: number): RedemptionApplied {
  const points = structuredClone(before);
  const consumed = spend(points, requested);
  points.lifetimeRedeemed += requested;
  return { points, consumed };
}

/** Reserve points for a held redemption: out of `available`, into `held`, with the lots they came from. */
export function applyHold(
  before: MemberPoints,
  redemptionId: string,
  requested: number,
  expiresAt: string,
  rewardUnit: string | null,
  partnerId: string | null,
): MemberPoints {
  if (Object.keys(before.holds).length >= MAX_OPEN_HOLDS) {
    throw new ConflictError(
      `The member already has ${MAX_OPEN_HOLDS} open holds; capture or release one first.`,
    );
  }
  if (before.holds[redemptionId]) throw new Error(`hold ${redemptionId} is already open`);
  const points = structuredClone(before);
  const lots = spend(points, requested);
  points.held += requested;
  points.holds[redemptionId] = { points: requested, lots, expiresAt, rewardUnit, partnerId };
  return points;
}

export interface CaptureApplied {
  points: MemberPoints;
  /** The lots the captured points came from (soonest-expiring first). */
  consumed: LotPoints[];
  /** Held points given back because less was captured than held. */
  released: number;
}

/**
 * Capture a hold, in full or in part (`captured` ≤ held): the soonest-expiring of the held lots
 * are spent, the rest go back to the lots they came from.
 */
export function applyCapture(before: MemberPoints, redemptionId: string, captured: number): CaptureApplied {
  const hold = before.holds[redemptionId];
  if (!hold) throw new Error(`no open hold ${redemptionId} on the member`);
  if (captured < 0 || captured > hold.points)
    throw new Error(`cannot capture ${captured} of ${hold.points} held points`);
  const points = structuredClone(before);
  const consumed: LotPoints[] = [];
  let remaining = captured;
  for (const lot of hold.lots) {
    const take = Math.min(lot.points, remaining);
    if (take > 0) consumed.push({ expiryKey: lot.expiryKey, points: take });
    if (lot.points > take) credit(points, lot.expiryKey, lot.points - take);
    remaining -= take;
  }
  points.held -= hold.points;
  points.lifetimeRedeemed += captured;
  delete points.holds[redemptionId];
  return { points, consumed, released: hold.points - captured };
}

/**
 * Release a hold: its points go back to the lots they came from. A lot whose expiry passed while
 * it was held comes back expired (the next settlement records it), so a hold never extends points.
 */
export function applyRelease(before: MemberPoints, redemptionId: string): MemberPoints {
  const hold = before.holds[redemptionId];
  if (!hold) throw new Error(`no open hold ${redemptionId} on the member`);
  const points = structuredClone(before);
  for (const lot of hold.lots) credit(points, lot.expiryKey, lot.points);
  points.held -= hold.points;
  delete points.holds[redemptionId];
  return points;
}

/**
 * Refund `amount` points of a captured redemption that consumed `consumed` (soonest first), of which
 * `alreadyRefunded` came back before. Refunds undo the spending in reverse: the latest-expiring
 * consumed lot comes back first. A lot whose expiry has passed comes back as a fresh lot expiring
 * as points earned today would (`expiryMonths` from now).
 */
export function applyRefund(
  before: MemberPoints,
  consumed: readonly LotPoints[],
  alreadyRefunded: number,
  amount: number,
  now: string,
  policy: Pick<LedgerPolicy, 'expiryMonths'>,
): { points: MemberPoints; returned: LotPoints[] } {
  const points = structuredClone(before);
  const returned: LotPoints[] = [];
  let skip = alreadyRefunded;
  let remaining = amount;
  for (const lot of [...consumed].reverse()) {
    const left = lot.points - Math.min(skip, lot.points);
    skip -= lot.points - left;
    const give = Math.min(left, remaining);
    if (give === 0) continue;
    const expiryKey = isExpired(lot.expiryKey, now) ? expiryKeyFor(now, policy.expiryMonths) : lot.expiryKey;
    credit(points, expiryKey, give);
    // Expired lots all come back into today's fresh lot: one line for it, in the order refilled.
    const line = returned.find((existing) => existing.expiryKey === expiryKey);
    if (line) line.points += give;
    else returned.push({ expiryKey, points: give });
    remaining -= give;
  }
  if (remaining !== 0) throw new Error('refund exceeds what the redemption consumed');
  points.lifetimeRedeemed -= amount;
  return { points, returned };
}

/** What a reversal needs to know about the earn it reverses. */
export interface EarnReversed {
  /** The earn's pending lot, if its points were pending when earned. */
  pendingKey: string | null;
  expiresAt: string | null;
  occurredAt: string;
}

export interface ReversalApplied {
  points: MemberPoints;
  /** Points taken back (the entry's points, negated): pending cancelled + available taken + debt. */
  reversed: number;
  /** Of those, pending points cancelled before they matured. */
  fromPending: number;
  /** Points that could not be taken back because they were already spent (no negative balance). */
  shortfall: number;
}

/**
 * Take back `requested` points of an earn (a return): pending points of that earn are cancelled
 * first, then available points (the earn's own lot first). Points already spent make the balance
 * negative where the program allows it (later credits pay the debt first); otherwise the reversal
 * takes what is left and reports the shortfall. Qualifying points of the purchase go in full.
 */
export function applyReversal(
  before: MemberPoints,
  earn: EarnReversed,
  requested: number,
  now: string,
  policy: LedgerPolicy & { allowNegativeBalance: boolean },
): ReversalApplied {
  const points = structuredClone(before);
  let fromPending = 0;
  if (earn.pendingKey !== null) {
    fromPending = Math.min(requested, points.pendingLots[earn.pendingKey] ?? 0);
    if (fromPending > 0) {
      const left = (points.pendingLots[earn.pendingKey] ?? 0) - fromPending;
      if (left === 0) delete points.pendingLots[earn.pendingKey];
      else points.pendingLots[earn.pendingKey] = left;
      points.pending -= fromPending;
    }
  }
  const rest = requested - fromPending;
  const taken = sum(
    takeFromLots(points, Math.min(rest, Math.max(0, points.available)), expiryKeyOf(earn.expiresAt)),
  );
  points.available -= taken;
  let shortfall = rest - taken;
  if (shortfall > 0 && policy.allowNegativeBalance) {
    points.available -= shortfall;
    shortfall = 0;
  }
  const reversed = requested - shortfall;
  points.lifetimeEarned -= reversed;
  addQualifying(points, -requested, earn.occurredAt, now, policy.tierWindowMonths);
  return { points, reversed, fromPending, shortfall };
}

/**
 * An admin's correction: positive points are credited as a fresh lot (paying any debt first);
 * negative ones are taken FIFO, into a debt only where the program allows a negative balance.
 */
export function applyAdjustment(
  before: MemberPoints,
  delta: number,
  now: string,
  policy: LedgerPolicy & { allowNegativeBalance: boolean },
): { points: MemberPoints; expiresAt: string | null } {
  if (delta > 0) return applyCredit(before, delta, now, policy, { lifetime: false });
  const points = structuredClone(before);
  const debit = -delta;
  if (points.available < debit && !policy.allowNegativeBalance) {
    throw new InsufficientPointsError(debit, Math.max(0, points.available));
  }
  takeFromLots(points, Math.min(debit, Math.max(0, points.available)));
  points.available -= debit;
  return { points, expiresAt: null };
}

/** The sending side of a transfer: points taken FIFO, their lots handed over with their expiry. */
export function applyTransferOut(
  before: MemberPoints,
  amount: number,
): { points: MemberPoints; lots: LotPoints[] } {
  const points = structuredClone(before);
  const lots = spend(points, amount);
  return { points, lots };
}

/** The receiving side: the sender's lots, each keeping its expiry date. */
export function applyTransferIn(before: MemberPoints, lots: readonly LotPoints[]): MemberPoints {
  const points = structuredClone(before);
  for (const lot of lots) credit(points, lot.expiryKey, lot.points);
  return points;
}

/**
 * Erasure: every point the member still has (available, pending; holds are released before) is
 * forfeited. Returns the forfeited total, which the `forfeit` entry records negated.
 */
export function forfeitAll(before: MemberPoints): { points: MemberPoints; forfeited: number } {
  if (before.held !== 0 || Object.keys(before.holds).length > 0)
    throw new Error('release holds before forfeiting');
  const forfeited = before.available + before.pending;
  return {
    points: {
      ...structuredClone(before),
      available: 0,
      pending: 0,
      lots: {},
      pendingLots: {},
      qualifying: {},
      holds: {},
    },
    forfeited,
  };
}
