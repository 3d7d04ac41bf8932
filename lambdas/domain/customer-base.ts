/**
 * Customer-base models of a non-contractual business, fitted by maximum likelihood:
 * - BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive a customer
 *   buys at a Poisson rate λ ~ Gamma(r, α); after each purchase it drops out with probability
 *   p ~ Beta(a, b).
 * - Gamma-Gamma (Fader & Hardie 2013, "The Gamma-Gamma model of monetary value"): a customer's
 *   spend per transaction is Gamma(p, ν), ν ~ Gamma(q, γ) across customers (γ is called `v` here,
 *   as in the published CDNOW fit).
 * A customer is summarised by x (repeat transactions: the first purchase is not one; one per day at
 * most), t_x (weeks from the first to the last purchase), T (weeks from the first purchase to the end
 * of calibration) and, for Gamma-Gamma, the mean value of its repeat transactions.
 */

import { minimise } from './optimiser.ts';
import { hypergeometric2F1, logGamma, logSumExp } from './special-functions.ts';

export interface PurchaseSummary {
  x: number;
  tx: number;
  T: number;
}

export interface BgNbdParameters {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

export interface GammaGammaParameters {
  p: number;
  q: number;
  v: number;
}

/** Customers with the same (x, t_x, T), counted once with their weight: a fit costs distinct histories. */
export interface WeightedSummary extends PurchaseSummary {
  weight: number;
}

/** ln L of one customer under BG/NBD. */
export function bgNbdLogLikelihood(
  { r, alpha, a, b }: BgNbdParameters,
  { x, tx, T }: PurchaseSummary,
): number {
  const a1 = logGamma(r + x) - logGamma(r) + r * Math.log(alpha);
  const a2 = logGamma(a + b) + logGamma(b + x) - logGamma(b) - logGamma(a + b + x);
  const a3 = -(r + x) * Math.log(alpha + T);
  const a4 =
    x > 0 ? Math.log(a) - Math.log(b + x - 1) - (r + x) * Math.log(alpha + tx) : Number.NEGATIVE_INFINITY;
  return a1 + a2 + logSumExp(a3, a4);
}

/** ln L of one repeat customer's mean spend under Gamma-Gamma (x > 0). */
export function gammaGammaLogLikelihood(
  { p, q, v }: GammaGammaParameters,
  x: number,
  meanSpend: number,
): number {
  return (
    logGamma(p * x + q) -
    logGamma(p * x) -
    logGamma(q) +
    q * Math.log(v) +
    (p * x - 1) * Math.log(meanSpend) +
    p * x * Math.log(x) -
    (p * x + q) * Math.log(x * meanSpend + v)
  );
}

/** Group identical summaries: the likelihood is a weighted sum over distinct histories. */
export function compress(summaries: Iterable<PurchaseSummary>): WeightedSummary[] {
  const groups = new Map<string, WeightedSummary>();
  for (const { x, tx, T } of summaries) {
    const key = `${x}|${tx}|${T}`;
    const group = groups.get(key);
    if (group) group.weight += 1;
    else groups.set(key, { x, tx, T, weight: 1 });
  }
  return [...groups.values()];
}

/** Maximum-likelihood BG/NBD parameters (optimised over their logarithms). */
export function fitBgNbd(summaries: WeightedSummary[]): BgNbdParameters & { logLikelihood: number } {
  const parameters = (theta: number[]): BgNbdParameters => {
    const [r, alpha, a, b] = theta.map(Math.exp) as [number, number, number, number];
    return { r, alpha, a, b };
  };
  const negative = (theta: number[]) => {
    const params = parameters(theta);
    let total = 0;
    for (const summary of summaries) total += summary.weight * bgNbdLogLikelihood(params, summary);
    return -total;
  };
  const best = minimise(negative, [0, 0, 0, 0]);
  return { ...parameters(best.point), logLikelihood: -best.value };
}

/** Maximum-likelihood Gamma-Gamma parameters over repeat customers (x > 0). */
export function fitGammaGamma(
  customers: { x: number; meanSpend: number; weight?: number }[],
): GammaGammaParameters & { logLikelihood: number } {
  const repeat = customers.filter((customer) => customer.x > 0 && customer.meanSpend > 0);
  const parameters = (theta: number[]): GammaGammaParameters => {
    const [p, q, v] = theta.map(Math.exp) as [number, number, number];
    return { p, q, v };
  };
  const negative = (theta: number[]) => {
    const params = parameters(theta);
    let total = 0;
    for (const { x, meanSpend, weight = 1 } of repeat)
      total += weight * gammaGammaLogLikelihood(params, x, meanSpend);
    return -total;
  };
  const best = minimise(negative, [0, 0, 0]);
  return { ...parameters(best.point), logLikelihood: -best.value };
}

/** P(alive | x, t_x, T): the probability the customer has not dropped out. */
export function probabilityAlive({ r, alpha, a, b }: BgNbdParameters, { x, tx, T }: PurchaseSummary): number {
  if (x === 0) return 1;
  const ratio = Math.exp(Math.log(a) - Math.log(b + x - 1) + (r + x) * Math.log((alpha + T) / (alpha + tx)));
  return 1 / (1 + ratio);
}

/** E[transactions in the next t weeks | x, t_x, T]. */
export function expectedPurchases(
  { r, alpha, a, b }: BgNbdParameters,
  { x, tx, T }: PurchaseSummary,
  t: number,
): number {
  const hyper = hypergeometric2F1(r + x, b + x, a + b + x - 1, t / (alpha + T + t));
  const numerator = ((a + b + x - 1) / (a - 1)) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyper);
  const alive = x > 0 ? (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x) : 0;
  return numerator / (1 + alive);
}

/** E[spend per transaction | x repeat transactions of mean value m] under Gamma-Gamma. */
export function expectedAverageSpend(
  { p, q, v }: GammaGammaParameters,
  x: number,
  meanSpend: number,
): number {
  return (p * (v + x * meanSpend)) / (p * x + q - 1);
}
