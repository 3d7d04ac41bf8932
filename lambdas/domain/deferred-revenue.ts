/**
 * IFRS 15 customer options (B39–B43): points earned with a purchase are a separate performance
 * obligation. Each issuance cohort (the purchases of one posting month) allocates its transaction
 * price between goods and points by relative stand-alone selling price; the points' part is
 * deferred and recognised as the points are redeemed, against the redemptions currently expected,
 * with changes of estimate caught up cumulatively.
 *
 * Rounding: every amount is exact (BigInt, rates as exact fractions) until it is rounded half up to
 * the minor unit, once per cohort: its allocation, and its cumulative recognition at a date. A
 * period's revenue is the difference of two rounded cumulative figures, so Σ over periods equals the
 * cumulative figure and a fully consumed cohort recognises exactly its allocation: no unit is lost
 * or made across periods or cohorts.
 */
import { attributeOutstanding, type IssuanceLayer } from './liability.ts';
import { type Ratio, roundHalfUp } from './ratio.ts';

/** One month's purchases: points issued with them and what the customers paid (net of returns). */
export interface Cohort {
  month: string;
  points: bigint;
  priceMinor: bigint;
}

/**
 * The points' share of a cohort's price: price × SSP / (price + SSP), with SSP of the points =
 * points × pointValueMinor × expectedRedemptionRate (goods sold at their stand-alone price).
 */
export function allocateToPoints(cohort: Cohort, pointValueMinor: bigint, rate: Ratio): bigint {
  const ssp = cohort.points * pointValueMinor * rate.num; // × 1/rate.den
  const denominator = cohort.priceMinor * rate.den + ssp;
  if (cohort.points <= 0n || cohort.priceMinor <= 0n || denominator === 0n) return 0n;
  return roundHalfUp(cohort.priceMinor * ssp, denominator);
}

/** The pool at a date: what was issued, month by month, and what has been consumed of it. */
export interface PoolAt {
  /** Sold cohorts and points given away (activities, bonuses, credits), by month. */
  cohorts: readonly Cohort[];
  freeByMonth: ReadonlyMap<string, bigint>;
  /** Everything consumed: redeemed net of refunds, expired, forfeited, debited. */
  consumed: bigint;
  /** Of it, redeemed net of refunds (what recognises revenue). */
  redeemed: bigint;
}

export interface CohortRecognition {
  /** Points of the cohort consumed (FIFO over the pool) and, of those, redeemed. */
  consumed: bigint;
  redeemedPoints: Ratio;
  /** points × the expected redemption rate at the date. */
  expectedRedemptions: Ratio;
  /** Cumulative revenue recognised at the date, rounded half up. */
  recognizedMinor: bigint;
}

/**
 * Cumulative recognition of each cohort at a date: the cohort's consumed points come from FIFO over
 * the pool (oldest month first, sold and given-away points of a month in proportion); the redeemed
 * share of what was consumed is the pool's (redeemed ÷ consumed); revenue = allocated × min(1,
 * redeemed ÷ expected), and all of it once nothing of the cohort is left (breakage realised).
 */
export function recognitionAt(
  pool: PoolAt,
  allocated: ReadonlyMap<string, bigint>,
  rate: Ratio,
): Map<string, CohortRecognition> {
  const layers: IssuanceLayer[] = [];
  for (const cohort of pool.cohorts) {
    if (cohort.points > 0n) layers.push({ scope: 'sold', month: cohort.month, points: cohort.points });
  }
  for (const [month, points] of pool.freeByMonth) {
    if (points > 0n) layers.push({ scope: 'free', month, points });
  }
  layers.sort((a, b) => a.month.localeCompare(b.month) || a.scope.localeCompare(b.scope));
  const result = new Map<string, CohortRecognition>();
  for (const cohort of pool.cohorts) {
    if (cohort.points <= 0n) continue;
    // This cohort's layer alone marked, so the attribution says what is left of it.
    const marked = layers.map((layer) =>
      layer.scope === 'sold' && layer.month === cohort.month ? { ...layer, scope: 'this' } : layer,
    );
    const left = attributeOutstanding(marked, new Map(), pool.consumed).get('this') ?? 0n;
    const consumed = cohort.points - left;
    const redeemedPoints: Ratio =
      pool.consumed > 0n ? { num: consumed * pool.redeemed, den: pool.consumed } : { num: 0n, den: 1n };
    const expectedRedemptions: Ratio = { num: cohort.points * rate.num, den: rate.den };
    const share = allocated.get(cohort.month) ?? 0n;
    result.set(cohort.month, {
      consumed,
      redeemedPoints,
      expectedRedemptions,
      recognizedMinor: left === 0n ? share : recognised(share, redeemedPoints, expectedRedemptions),
    });
  }
  return result;
}

/** allocated × min(1, redeemed ÷ expected), rounded half up. */
function recognised(allocated: bigint, redeemed: Ratio, expected: Ratio): bigint {
  if (redeemed.num <= 0n) return 0n;
  // redeemed ÷ expected = (r.num × e.den) / (r.den × e.num); with nothing expected, all of it.
  const num = redeemed.num * expected.den;
  const den = redeemed.den * expected.num;
  if (den === 0n || num >= den) return allocated;
  return roundHalfUp(allocated * num, den);
}
