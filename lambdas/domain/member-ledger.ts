/**
 * A member's points position and the primitives every movement is built from. The store persists
 * this state as one item and writes it back with a version condition, so each transition is
 * applied to exactly the state it was computed from. Movements live in `movements.ts`, what falls
 * due with time in `due.ts`, tiers in `tiers.ts`.
 *
 * Invariants (checked by the property tests):
 * - available + pending + held = Σ of the member's ledger entries;
 * - Σ lots = max(available, 0), and available < 0 (a debt, only where the program allows a negative
 *   balance) leaves no lots: points credited later pay the debt first;
 * - Σ of the holds' lots = held.
 */
import type { Tier } from '../schemas/program.ts';
import { InsufficientPointsError } from './errors.ts';
import { dayOf, startOfMonthAfter } from './time.ts';

/** Largest points in one transaction, and largest balance or lifetime total: far below 2^53. */
export const MAX_POINTS_PER_TRANSACTION = 1_000_000_000_000;
export const MAX_BALANCE = 1_000_000_000_000_000;

/** Lot key for points that never expire; sorts after every date. */
export const NEVER = 'never';

/** Points taken from, or given back to, one lot. */
export interface LotPoints {
  expiryKey: string;
  points: number;
}

/** Points reserved by a held redemption, until it is captured, released, or its hold expires. */
export interface Hold {
  points: number;
  /** The lots the points came from, soonest-expiring first: a release gives them back as they were. */
  lots: LotPoints[];
  expiresAt: string;
  /** The reward whose finite stock gave a unit to this hold (restocked on release), else null. */
  rewardUnit: string | null;
  /** Where the redemption happens (report counters of held points are kept per partner). */
  partnerId: string | null;
}

export interface MemberPoints {
  /** Spendable points; negative only as a debt where the program allows a negative balance. */
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
  /** Open holds by redemption id. */
  holds: Record<string, Hold>;
  /**
   * Lots (expiry keys) whose `points.expiring` notice was sent, until they expire: a lot gets one
   * notice, however its points come and go (transfers in, refunds, releases).
   */
  noticedLots: string[];
  /** The review date a `tier.downgrade_warning` was sent for. */
  tierWarnedFor: string | null;
  /** A tier held at least, whatever the window, while a paid membership grants it (null: none). */
  tierFloor: string | null;
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
    holds: {},
    noticedLots: [],
    tierWarnedFor: null,
    tierFloor: null,
  };
}

/** A stored position, with the fields added since it was written filled in. */
export function memberPointsOf(stored: Partial<MemberPoints> & Pick<MemberPoints, 'tier'>): MemberPoints {
  return { ...emptyMemberPoints(stored.tier.code, stored.tier.since), ...stored };
}

/** Points earned in month M with E expiry months are gone from the first day of month M+E+1. */
export function expiryKeyFor(occurredAt: string, expiryMonths: number | null): string {
  return expiryMonths === null ? NEVER : dayOf(startOfMonthAfter(occurredAt, expiryMonths + 1));
}

export function expiresAtOf(expiryKey: string): string | null {
  return expiryKey === NEVER ? null : `${expiryKey}T00:00:00.000Z`;
}

/** A lot's key from an entry's `expiresAt` (null: never). */
export function expiryKeyOf(expiresAt: string | null): string {
  return expiresAt === null ? NEVER : dayOf(expiresAt);
}

/** Whether a lot has expired by `at` (its key is the first day it is gone). */
export function isExpired(expiryKey: string, at: string): boolean {
  return expiryKey !== NEVER && expiryKey <= dayOf(at);
}

/** Lot keys in the order they are spent: soonest expiry first, never-expiring points last. */
export function lotsInSpendingOrder(lots: Record<string, number>): string[] {
  return Object.keys(lots)
    .filter((key) => (lots[key] ?? 0) > 0)
    .sort((a, b) => (a === NEVER ? 1 : b === NEVER ? -1 : a.localeCompare(b)));
}

/**
 * Credit posted points into a lot (mutates `points`). A debt is paid first: only what is left
 * over lands in the lot.
 */
export function credit(points: MemberPoints, expiryKey: string, amount: number): void {
  if (amount <= 0) return;
  const debt = Math.max(0, -points.available);
  const intoLot = amount - Math.min(debt, amount);
  points.available += amount;
  if (intoLot > 0) points.lots[expiryKey] = (points.lots[expiryKey] ?? 0) + intoLot;
}

/**
 * Take up to `amount` points out of the lots (mutates `points`): from the lot `preferred` first when
 * given, then soonest-expiring first. Returns the lots taken from; `available` is not touched.
 */
export function takeFromLots(points: MemberPoints, amount: number, preferred?: string): LotPoints[] {
  if (!Number.isInteger(amount) || amount < 0) throw new Error(`cannot take ${amount} points from lots`);
  const taken: LotPoints[] = [];
  let remaining = amount;
  const order = lotsInSpendingOrder(points.lots);
  if (preferred !== undefined && order.includes(preferred)) {
    order.splice(order.indexOf(preferred), 1);
    order.unshift(preferred);
  }
  for (const key of order) {
    if (remaining === 0) break;
    const lot = points.lots[key] ?? 0;
    const take = Math.min(lot, remaining);
    taken.push({ expiryKey: key, points: take });
    remaining -= take;
    if (lot === take) delete points.lots[key];
    else points.lots[key] = lot - take;
  }
  return taken;
}

/** Spend `requested` available points FIFO by expiry; never overdraws (409 insufficient-points). */
export function spend(points: MemberPoints, requested: number): LotPoints[] {
  if (points.available < requested) {
    throw new InsufficientPointsError(requested, Math.max(0, points.available));
  }
  const taken = takeFromLots(points, requested);
  const short = requested - sum(taken);
  if (short !== 0) throw new Error(`lots hold less than available for a member (short by ${short})`);
  points.available -= requested;
  return taken;
}

/** One line per lot key, soonest first (a lot can expire, or come back, in several steps). */
export function mergeLots(lots: readonly LotPoints[]): LotPoints[] {
  const merged = new Map<string, number>();
  for (const lot of lots) merged.set(lot.expiryKey, (merged.get(lot.expiryKey) ?? 0) + lot.points);
  return lotsInSpendingOrder(Object.fromEntries(merged)).map((key) => ({
    expiryKey: key,
    points: merged.get(key) ?? 0,
  }));
}

export function sum(lots: readonly LotPoints[]): number {
  return lots.reduce((total, lot) => total + lot.points, 0);
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
