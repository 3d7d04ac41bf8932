/**
 * A member's points position and the pure transitions that move it. The store persists this
 * state as one item and writes it back with a version condition, so each transition here is
 * applied to exactly the state it was computed from.
 */
import type { Tier } from '../schemas/program.ts';
import { InsufficientPointsError } from './errors.ts';
import { addDays, dayOf, monthOf, monthsInWindow, nextMidnight, startOfMonthAfter } from './time.ts';

/** Largest points in one transaction, and largest balance or lifetime total: far below 2^53. */
export const MAX_POINTS_PER_TRANSACTION = 1_000_000_000_000;
export const MAX_BALANCE = 1_000_000_000_000_000;

/** Lot key for points that never expire; sorts after every date. */
export const NEVER = 'never';

export interface MemberPoints {
  available: number;
  pending: number;
  held: number;
  lifetimeEarned: number;
  lifetimeRedeemed: number;
  /** Posted, unconsumed points by expiry date (`YYYY-MM-DD`, the first day they are gone) or `never`. */
  lots: Record<string, number>;
  /** Points not yet available, by `availableAt|expiryKey` (availableAt a UTC midnight). */
  pendingLots: Record<string, number>;
  /** Qualifying points by month earned (`YYYY-MM`), pruned to the tier window. */
  qualifying: Record<string, number>;
  tier: { code: string; since: string };
}

export interface LedgerPolicy {
  expiryMonths: number | null;
  pendingDays: number;
  tierWindowMonths: number;
  tiers: Tier[];
}

export interface Balances {
  available: number;
  pending: number;
  reserved: number;
  lifetimeEarned: number;
  lifetimeRedeemed: number;
  expiringNext: { points: number; on: string } | null;
}

export function emptyMemberPoints(entryTier: string, now: string): MemberPoints {
  return {
    available: 0,
    pending: 0,
    held: 0,
    lifetimeEarned: 0,
    lifetimeRedeemed: 0,
    lots: {},
    pendingLots: {},
    qualifying: {},
    tier: { code: entryTier, since: now },
  };
}

/** Points earned in month M with E expiry months are gone from the first day of month M+E+1. */
export function expiryKeyFor(occurredAt: string, expiryMonths: number | null): string {
  return expiryMonths === null ? NEVER : dayOf(startOfMonthAfter(occurredAt, expiryMonths + 1));
}

export function expiresAtOf(expiryKey: string): string | null {
  return expiryKey === NEVER ? null : `${expiryKey}T00:00:00.000Z`;
}

export function qualifyingPoints(points: MemberPoints, now: string, windowMonths: number): number {
  const window = monthsInWindow(now, windowMonths);
  let total = 0;
  for (const [month, value] of Object.entries(points.qualifying)) if (window.has(month)) total += value;
  return total;
}

/** The tier a member's qualifying points reach (tiers are ordered by threshold). */
export function tierFor(qualifying: number, tiers: Tier[]): Tier {
  let reached = tiers[0];
  for (const tier of tiers) if (qualifying >= tier.minQualifyingPoints) reached = tier;
  if (!reached) throw new Error('a program has at least one tier');
  return reached;
}

export function currentTier(points: MemberPoints, tiers: Tier[]): Tier {
  const tier = tiers.find((candidate) => candidate.code === points.tier.code) ?? tiers[0];
  if (!tier) throw new Error('a program has at least one tier');
  return tier;
}

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
): EarnApplied {
  const points = structuredClone(before);
  const expiryKey = expiryKeyFor(occurredAt, policy.expiryMonths);
  // Without a pending period points post now, even when a till's clock runs a little ahead of ours.
  // With one, they become available at the first midnight (UTC) after the period: lots are per day,
  // so a member earning all day long keeps one pending lot per day, not one per purchase.
  const availableAt = policy.pendingDays > 0 ? nextMidnight(addDays(occurredAt, policy.pendingDays)) : now;
  const status = availableAt > now ? 'pending' : 'posted';
  if (earned === 0) {
    // a zero-point purchase still counts as a transaction, but opens no lot
  } else if (status === 'posted') {
    points.lots[expiryKey] = (points.lots[expiryKey] ?? 0) + earned;
    points.available += earned;
  } else {
    const pendingKey = `${availableAt}|${expiryKey}`;
    points.pendingLots[pendingKey] = (points.pendingLots[pendingKey] ?? 0) + earned;
    points.pending += earned;
  }
  points.lifetimeEarned += earned;

  const month = monthOf(occurredAt);
  const window = monthsInWindow(now, policy.tierWindowMonths);
  if (window.has(month) && earned > 0) points.qualifying[month] = (points.qualifying[month] ?? 0) + earned;
  for (const kept of Object.keys(points.qualifying)) if (!window.has(kept)) delete points.qualifying[kept];

  const from = currentTier(before, policy.tiers);
  const reached = tierFor(qualifyingPoints(points, now, policy.tierWindowMonths), policy.tiers);
  let tierChanged: EarnApplied['tierChanged'] = null;
  if (reached.minQualifyingPoints > from.minQualifyingPoints) {
    points.tier = { code: reached.code, since: now };
    tierChanged = { from: from.code, to: reached.code };
  }
  return { points, status, availableAt, expiresAt: expiresAtOf(expiryKey), tierChanged };
}

export interface RedemptionApplied {
  points: MemberPoints;
  /** Which lots paid for it, soonest-expiring first: refunds give points back to the same lots. */
  consumed: { expiryKey: string; points: number }[];
}

/** Lot keys in the order they are spent: soonest expiry first, never-expiring points last. */
export function lotsInSpendingOrder(lots: Record<string, number>): string[] {
  return Object.keys(lots)
    .filter((key) => (lots[key] ?? 0) > 0)
    .sort((a, b) => (a === NEVER ? 1 : b === NEVER ? -1 : a.localeCompare(b)));
}

/** Spend available points FIFO by expiry. Fails with insufficient-points; never overdraws. */
export function applyRedemption(before: MemberPoints, requested: number): RedemptionApplied {
  if (before.available < requested)
    throw new InsufficientPointsError(requested, Math.max(0, before.available));
  const points = structuredClone(before);
  const consumed: RedemptionApplied['consumed'] = [];
  let remaining = requested;
  for (const key of lotsInSpendingOrder(points.lots)) {
    if (remaining === 0) break;
    const lot = points.lots[key] ?? 0;
    const take = Math.min(lot, remaining);
    consumed.push({ expiryKey: key, points: take });
    remaining -= take;
    if (lot === take) delete points.lots[key];
    else points.lots[key] = lot - take;
  }
  if (remaining !== 0) throw new Error(`lots hold less than available for a member (short by ${remaining})`);
  points.available -= requested;
  points.lifetimeRedeemed += requested;
  return { points, consumed };
}

export function balancesOf(points: MemberPoints): Balances {
  const next = lotsInSpendingOrder(points.lots).find((key) => key !== NEVER);
  return {
    available: points.available,
    pending: points.pending,
    reserved: points.held,
    lifetimeEarned: points.lifetimeEarned,
    lifetimeRedeemed: points.lifetimeRedeemed,
    expiringNext: next === undefined ? null : { points: points.lots[next] ?? 0, on: next },
  };
}

export interface Settled {
  points: MemberPoints;
  /** Posted lots whose expiry date has come, soonest first: they must leave through an `expire` entry. */
  expired: { expiryKey: string; points: number }[];
  expiredPoints: number;
}

/**
 * Bring a position up to `now` before any change is planned on it: pending lots whose
 * `availableAt` has passed become available (the earn entry already says when), and lots whose
 * expiry date has come are taken out, to be recorded as an `expire` ledger entry in the same
 * transaction. So no change ever spends expired points, whether or not the expiry job has run.
 */
export function settleDue(before: MemberPoints, now: string): Settled {
  const points = matureDue(before, now);
  const today = dayOf(now);
  const expired: Settled['expired'] = [];
  for (const key of lotsInSpendingOrder(points.lots)) {
    if (key === NEVER || key > today) continue;
    expired.push({ expiryKey: key, points: points.lots[key] ?? 0 });
    delete points.lots[key];
  }
  const expiredPoints = expired.reduce((sum, lot) => sum + lot.points, 0);
  points.available -= expiredPoints;
  return { points, expired, expiredPoints };
}

/** Pending lots whose `availableAt` has passed, moved into their posted lots (no accounting change). */
export function matureDue(before: MemberPoints, now: string): MemberPoints {
  const points = structuredClone(before);
  for (const [key, value] of Object.entries(points.pendingLots)) {
    const [availableAt, expiryKey] = key.split('|') as [string, string];
    if (availableAt > now) continue;
    delete points.pendingLots[key];
    points.pending -= value;
    points.lots[expiryKey] = (points.lots[expiryKey] ?? 0) + value;
    points.available += value;
  }
  return points;
}
