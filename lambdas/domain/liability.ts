/**
 * The points liability from the report counters (exact BigInt sums, never members or history):
 * outstanding points, their attribution to the partners that issued them, the roll-forward of a
 * period, and the expiry buckets.
 */
import { NEVER } from './member-ledger.ts';
import { POSITION } from './position.ts';

export type Counters = Record<string, bigint>;

const get = (counters: Counters, name: string) => counters[name] ?? 0n;

/** Σ of several scopes' (or months') counters. */
export function addCounters(...all: Counters[]): Counters {
  const total: Counters = {};
  for (const counters of all) {
    for (const [name, value] of Object.entries(counters)) total[name] = (total[name] ?? 0n) + value;
  }
  return total;
}

/** Outstanding points = Σ member ledgers = available + pending + held, from the position counters. */
export function outstandingOf(counters: Counters): bigint {
  return get(counters, POSITION.available) + get(counters, POSITION.pending) + get(counters, POSITION.held);
}

/** The movements of a period (or of all time), from the movement counters. */
export interface Movements {
  /** Points earned on purchases, by activities, and subscription bonuses. */
  issued: bigint;
  purchases: bigint;
  activities: bigint;
  bonuses: bigint;
  redeemed: bigint;
  refunded: bigint;
  expired: bigint;
  reversed: bigint;
  /** Signed: credits minus debits. */
  adjusted: bigint;
  transferredIn: bigint;
  transferredOut: bigint;
  forfeited: bigint;
}

export function movementsOf(counters: Counters): Movements {
  const activities = get(counters, 'activityPoints');
  const earnedOrActivity = get(counters, 'issuedPoints');
  const bonuses = get(counters, 'bonusPoints');
  return {
    issued: earnedOrActivity + bonuses,
    purchases: earnedOrActivity - activities,
    activities,
    bonuses,
    redeemed: get(counters, 'redeemedPoints'),
    refunded: get(counters, 'refundedPoints'),
    expired: get(counters, 'expiredPoints'),
    reversed: get(counters, 'reversedPoints'),
    adjusted: get(counters, 'adjustedPoints'),
    transferredIn: get(counters, 'transferredInPoints'),
    transferredOut: get(counters, 'transferredOutPoints'),
    forfeited: get(counters, 'forfeitedPoints'),
  };
}

/** What the movements add to the outstanding points: the roll-forward's Σ movements. */
export function netMovement(m: Movements): bigint {
  return (
    m.issued -
    m.redeemed +
    m.refunded -
    m.expired -
    m.reversed +
    m.adjusted +
    m.transferredIn -
    m.transferredOut -
    m.forfeited
  );
}

/** Outstanding points by expiry month (`YYYY-MM`, `never` last), from the position counters. */
export function expiryBucketsOf(counters: Counters): { month: string; points: bigint }[] {
  return Object.entries(counters)
    .filter(([name, points]) => name.startsWith(POSITION.expiryPrefix) && points !== 0n)
    .map(([name, points]) => ({ month: name.slice(POSITION.expiryPrefix.length), points }))
    .sort((a, b) => (a.month === NEVER ? 1 : b.month === NEVER ? -1 : a.month.localeCompare(b.month)));
}

/** Points issued by one scope (a partner, or the coalition) in one month: a FIFO layer. */
export interface IssuanceLayer {
  scope: string;
  month: string;
  points: bigint;
}

/**
 * A scope's month of counters as a layer of issued points, and the points it consumed from the
 * pool. Purchases and activities issue at their partner (or the coalition); bonuses and positive
 * adjustments at the coalition. Redemptions (net of refunds), expiry, forfeits and negative
 * adjustments consume.
 */
export function layerOf(
  scope: string,
  month: string,
  counters: Counters,
): { layer: IssuanceLayer; consumed: bigint } {
  const adjusted = get(counters, 'adjustedPoints');
  const issued =
    get(counters, 'issuedPoints') + get(counters, 'bonusPoints') + (adjusted > 0n ? adjusted : 0n);
  const consumed =
    get(counters, 'redeemedPoints') -
    get(counters, 'refundedPoints') +
    get(counters, 'expiredPoints') +
    get(counters, 'forfeitedPoints') +
    (adjusted < 0n ? -adjusted : 0n);
  return { layer: { scope, month, points: issued }, consumed };
}

/**
 * Outstanding points attributed to the scopes that issued them, FIFO over the coalition's pool:
 * 1. a scope's reversals (returns) take back its own most recent points first;
 * 2. everything consumed (redeemed net of refunds, expired, forfeited, debited) takes the oldest
 *    issued points first, month by month; within one month, from each scope in proportion to what
 *    it issued (largest remainder, ties by scope id), so no point is lost to rounding.
 * Σ of the result = max(0, outstanding points); transfers move points between members, not scopes.
 */
export function attributeOutstanding(
  layers: readonly IssuanceLayer[],
  reversed: ReadonlyMap<string, bigint>,
  consumed: bigint,
): Map<string, bigint> {
  const left = layers.map((layer) => ({ ...layer }));
  for (const [scope, points] of reversed) {
    let toTake = points;
    for (const layer of [...left].reverse()) {
      if (toTake <= 0n) break;
      if (layer.scope !== scope) continue;
      const take = layer.points < toTake ? layer.points : toTake;
      layer.points -= take;
      toTake -= take;
    }
  }
  let toConsume = consumed;
  const months = [...new Set(left.map((layer) => layer.month))].sort();
  for (const month of months) {
    if (toConsume <= 0n) break;
    const inMonth = left.filter((layer) => layer.month === month && layer.points > 0n);
    const total = inMonth.reduce((sum, layer) => sum + layer.points, 0n);
    if (total <= toConsume) {
      for (const layer of inMonth) layer.points = 0n;
      toConsume -= total;
      continue;
    }
    for (const [index, share] of proportionalShares(
      inMonth.map((layer) => layer.points),
      toConsume,
      inMonth.map((layer) => layer.scope),
    ).entries()) {
      (inMonth[index] as IssuanceLayer).points -= share;
    }
    toConsume = 0n;
  }
  const outstanding = new Map<string, bigint>();
  for (const layer of left) outstanding.set(layer.scope, (outstanding.get(layer.scope) ?? 0n) + layer.points);
  return outstanding;
}

/**
 * Split `amount` over `weights` in proportion (amount < Σ weights), floors first, then one more to
 * the largest remainders (ties by `ids`): the shares sum to `amount` exactly.
 */
export function proportionalShares(
  weights: readonly bigint[],
  amount: bigint,
  ids: readonly string[],
): bigint[] {
  const total = weights.reduce((sum, weight) => sum + weight, 0n);
  if (total === 0n) return weights.map(() => 0n);
  const shares = weights.map((weight) => (weight * amount) / total);
  let rest = amount - shares.reduce((sum, share) => sum + share, 0n);
  const order = weights
    .map((weight, index) => ({ index, remainder: (weight * amount) % total }))
    .sort((a, b) =>
      a.remainder === b.remainder
        ? (ids[a.index] ?? '').localeCompare(ids[b.index] ?? '')
        : a.remainder > b.remainder
          ? -1
          : 1,
    );
  for (const { index } of order) {
    if (rest === 0n) break;
    shares[index] = (shares[index] ?? 0n) + 1n;
    rest -= 1n;
  }
  return shares;
}
