/**
 * The liability's view of a member's position, and what a change does to it. Every write of a
 * member adds the difference of these figures (after − before) to the report counters in the same
 * transaction, whatever the movement: so the counters sum to Σ member positions by construction,
 * and a movement that forgot its own counter still leaves the liability exact (the roll-forward's
 * `unexplainedPoints` then shows it).
 *
 * Outstanding points = available + pending + held = Σ the member's ledger entries. Expiry buckets
 * count every point that will expire in a month (posted, held or pending lots): with a debt
 * (available < 0, no lots) Σ buckets = outstanding + debt.
 */
import { type MemberPoints, NEVER } from './member-ledger.ts';

/** Counter names: `posAvailable`, `posHeld`, `posDebt`, `posPending` (per partner), `exp_<month>`. */
export const POSITION = {
  available: 'posAvailable',
  held: 'posHeld',
  debt: 'posDebt',
  pending: 'posPending',
  expiryPrefix: 'exp_',
} as const;

/** The expiry bucket counter of a lot key (`YYYY-MM-DD`, always the 1st of a month, or `never`). */
export const expiryCounter = (expiryKey: string) =>
  `${POSITION.expiryPrefix}${expiryKey === NEVER ? NEVER : expiryKey.slice(0, 7)}`;

/** A pending lot's key: `availableAt|expiryKey`, and `|partnerId` for points earned at a partner. */
export function pendingKeyOf(
  availableAt: string,
  expiryKey: string,
  partnerId: string | null = null,
): string {
  return partnerId === null ? `${availableAt}|${expiryKey}` : `${availableAt}|${expiryKey}|${partnerId}`;
}

/** The parts of a pending lot's key (lots written before partners were recorded have none). */
export function pendingKeyParts(key: string): {
  availableAt: string;
  expiryKey: string;
  partnerId: string | null;
} {
  const [availableAt = '', expiryKey = NEVER, partnerId] = key.split('|');
  return { availableAt, expiryKey, partnerId: partnerId ?? null };
}

/** Figures of one position: coalition-wide counters, and pending points by earning partner. */
export interface PositionFigures {
  coalition: Record<string, number>;
  /** Pending points by the partner that issued them (null: not recorded, or no partner). */
  pendingByPartner: Map<string | null, number>;
}

export function positionFigures(points: MemberPoints): PositionFigures {
  const coalition: Record<string, number> = {
    [POSITION.available]: points.available,
    [POSITION.held]: points.held,
    [POSITION.debt]: Math.max(0, -points.available),
  };
  const add = (name: string, value: number) => {
    coalition[name] = (coalition[name] ?? 0) + value;
  };
  for (const [expiryKey, lot] of Object.entries(points.lots)) add(expiryCounter(expiryKey), lot);
  for (const hold of Object.values(points.holds)) {
    for (const lot of hold.lots) add(expiryCounter(lot.expiryKey), lot.points);
  }
  const pendingByPartner = new Map<string | null, number>();
  for (const [key, lot] of Object.entries(points.pendingLots)) {
    const { expiryKey, partnerId } = pendingKeyParts(key);
    add(expiryCounter(expiryKey), lot);
    pendingByPartner.set(partnerId, (pendingByPartner.get(partnerId) ?? 0) + lot);
  }
  return { coalition, pendingByPartner };
}

/** What a change does to the figures: after − before, without the counters it leaves alone. */
export interface PositionDelta {
  coalition: Record<string, number>;
  pendingByPartner: Map<string | null, number>;
}

export function positionDelta(before: MemberPoints, after: MemberPoints): PositionDelta {
  const from = positionFigures(before);
  const to = positionFigures(after);
  const coalition: Record<string, number> = {};
  for (const name of new Set([...Object.keys(from.coalition), ...Object.keys(to.coalition)])) {
    const change = (to.coalition[name] ?? 0) - (from.coalition[name] ?? 0);
    if (change !== 0) coalition[name] = change;
  }
  const pendingByPartner = new Map<string | null, number>();
  for (const partnerId of new Set([...from.pendingByPartner.keys(), ...to.pendingByPartner.keys()])) {
    const change = (to.pendingByPartner.get(partnerId) ?? 0) - (from.pendingByPartner.get(partnerId) ?? 0);
    if (change !== 0) pendingByPartner.set(partnerId, change);
  }
  return { coalition, pendingByPartner };
}

/** The balances a reconciliation compares: what the counters must sum to over every member. */
export interface BalanceFigures {
  available: number;
  pending: number;
  held: number;
}

export const balanceFigures = (points: MemberPoints): BalanceFigures => ({
  available: points.available,
  pending: points.pending,
  held: points.held,
});

/**
 * A member's balances at the end of a posting day, kept on the member so a reconciliation can read
 * every member as of one instant while members keep changing: `day` is the first posting day
 * whose writes the figures do not include. The newest two are kept (a walk that crosses midnight).
 */
export interface BalanceCut extends BalanceFigures {
  day: string;
  /**
   * The latest posting day (before `day`) of a write that committed after this cut was made (a
   * write of the day before that landed after midnight): the cut includes it.
   */
  lateDay?: string;
}

/**
 * The cuts after a write posted on `postingDay` that moved the balances from `before` to `after`:
 * the first write of a day records the balances before it; a late write of an earlier posting day
 * (one that committed after a later day's) adds its change to the cuts it precedes.
 */
export function nextCuts(
  cuts: readonly BalanceCut[],
  postingDay: string,
  before: BalanceFigures,
  after: BalanceFigures,
): BalanceCut[] {
  const change = {
    available: after.available - before.available,
    pending: after.pending - before.pending,
    held: after.held - before.held,
  };
  const later = cuts
    .filter((cut) => cut.day > postingDay)
    .map((cut) => ({
      day: cut.day,
      available: cut.available + change.available,
      pending: cut.pending + change.pending,
      held: cut.held + change.held,
      lateDay: cut.lateDay !== undefined && cut.lateDay > postingDay ? cut.lateDay : postingDay,
    }));
  const earlier = cuts.filter((cut) => cut.day <= postingDay);
  if (later.length > 0 || earlier[0]?.day === postingDay) return [...later, ...earlier].slice(0, 2);
  return [{ day: postingDay, ...before }, ...earlier].slice(0, 2);
}

/**
 * A member's balances at the end of `day` from its current balances and cuts, or undefined when
 * the cuts no longer reach back that far (the member was written on two later days).
 */
export function balancesAtEndOf(
  day: string,
  current: BalanceFigures,
  cuts: readonly BalanceCut[],
): BalanceFigures | undefined {
  // The oldest kept cut after `day` holds the balances of every write posted before its own day.
  const after = cuts.filter((cut) => cut.day > day).sort((a, b) => a.day.localeCompare(b.day));
  const first = after[0];
  // No cut after `day`: nothing was posted since (a later posting day's first write makes one).
  if (!first) return current;
  // It includes late writes up to its lateDay: none may be after `day`.
  if (first.lateDay !== undefined && first.lateDay > day) return undefined;
  // Writes posted between `day` and that cut's day would have made a cut of their own; one may have
  // been dropped (two are kept) only if both kept cuts are after `day` and more were ever made.
  const reaches = first.day === dayAfter(day) || cuts.length < 2 || cuts.some((cut) => cut.day <= day);
  return reaches ? { available: first.available, pending: first.pending, held: first.held } : undefined;
}

function dayAfter(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + 86_400_000).toISOString().slice(0, 10);
}
