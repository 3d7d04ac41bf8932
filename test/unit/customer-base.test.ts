import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  bgNbdLogLikelihood,
  compress,
  expectedAverageSpend,
  expectedPurchases,
  fitBgNbd,
  fitGammaGamma,
  probabilityAlive,
} from '../../lambdas/domain/customer-base.ts';
import { hypergeometric2F1, logGamma } from '../../lambdas/domain/special-functions.ts';

/** The CDNOW sample's summaries (test/fixtures/cdnow/README.md has the source and the published fits). */
const cdnow = readFileSync('test/fixtures/cdnow/cdnow_customers_summary_with_transactions.csv', 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [, x, tx, T, zbar] = line.split(',').map(Number) as [number, number, number, number, number];
    return { x, tx, T, meanSpend: zbar };
  });

const within = (actual: number, expected: number, relative: number) =>
  expect(Math.abs(actual - expected) / Math.abs(expected), `${actual} vs ${expected}`).toBeLessThan(relative);

describe('special functions', () => {
  it('ln Γ matches factorials and Γ(1/2) = √π', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(11)).toBeCloseTo(Math.log(3_628_800), 10);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    // Γ(x + 1) = x Γ(x), across the small shapes a fit explores.
    for (const x of [0.05, 0.243, 0.793, 2.426, 30.5]) {
      expect(logGamma(x + 1)).toBeCloseTo(Math.log(x) + logGamma(x), 10);
    }
  });

  it('₂F₁ matches closed forms: ₂F₁(1, 1; 2; z) = −ln(1 − z)/z', () => {
    for (const z of [0.1, 0.5, 0.9])
      expect(hypergeometric2F1(1, 1, 2, z)).toBeCloseTo(-Math.log(1 - z) / z, 10);
  });
});

describe('BG/NBD on CDNOW', () => {
  const fitted = fitBgNbd(compress(cdnow));

  it('recovers the published parameters within 1% (r 0.243, α 4.414, a 0.793, b 2.426; ln L −9582.4)', () => {
    within(fitted.r, 0.243, 0.01);
    within(fitted.alpha, 4.414, 0.01);
    within(fitted.a, 0.793, 0.01);
    within(fitted.b, 2.426, 0.01);
    within(fitted.logLikelihood, -9582.4, 0.0001);
  });

  it('compresses 2,357 customers to their distinct histories without changing the likelihood', () => {
    const distinct = compress(cdnow);
    expect(distinct.length).toBeLessThan(cdnow.length);
    const whole = cdnow.reduce((sum, c) => sum + bgNbdLogLikelihood(fitted, c), 0);
    const grouped = distinct.reduce((sum, c) => sum + c.weight * bgNbdLogLikelihood(fitted, c), 0);
    expect(grouped).toBeCloseTo(whole, 6);
  });

  it('scores a customer: P(alive) falls with time since the last purchase; one-timers are alive', () => {
    const recent = probabilityAlive(fitted, { x: 2, tx: 30.43, T: 38.86 });
    const lapsed = probabilityAlive(fitted, { x: 2, tx: 5, T: 38.86 });
    expect(recent).toBeGreaterThan(lapsed);
    expect(probabilityAlive(fitted, { x: 0, tx: 0, T: 38.86 })).toBe(1);
    // Expected purchases grow with the horizon, and never exceed what a customer certain to stay
    // alive would make at its posterior rate (r + x)/(α + T).
    const frequent = { x: 26, tx: 30.86, T: 31 };
    const in13 = expectedPurchases(fitted, frequent, 13);
    const in39 = expectedPurchases(fitted, frequent, 39);
    expect(in13).toBeGreaterThan(0);
    expect(in39).toBeGreaterThan(in13);
    expect(in39).toBeLessThan(((fitted.r + 26) / (fitted.alpha + 31)) * 39);
    expect(expectedPurchases(fitted, frequent, 0)).toBeCloseTo(0, 12);
  });
});

describe('Gamma-Gamma on CDNOW', () => {
  it('recovers the published parameters within 1% from the 946 repeat customers (p 6.25, q 3.74, v 15.44)', () => {
    const repeat = cdnow.filter((c) => c.x > 0);
    expect(repeat).toHaveLength(946);
    const fitted = fitGammaGamma(repeat);
    within(fitted.p, 6.25, 0.01);
    within(fitted.q, 3.74, 0.01);
    within(fitted.v, 15.44, 0.01);
    // A customer's expected spend moves from the population mean towards its own mean with more data.
    const few = expectedAverageSpend(fitted, 1, 100);
    const many = expectedAverageSpend(fitted, 20, 100);
    expect(many).toBeGreaterThan(few);
    expect(many).toBeLessThan(100);
  });
});
