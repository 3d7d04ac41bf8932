import { describe, expect, it } from 'vitest';
import {
  type ChurnRiskBands,
  expectedSpendPerPurchase,
  lifetimeValueMinor,
  populationMeanSpend,
  riskBand,
  type ScoreSettings,
  type ScoringModel,
  scoreMember,
  WEEKS_PER_MONTH,
} from '../../lambdas/domain/churn-scores.ts';
import { expectedAverageSpend } from '../../lambdas/domain/customer-base.ts';

/** CDNOW's published fit, with Gamma-Gamma's v in cents (15.44 dollars). */
const cdnow: ScoringModel = {
  bgnbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
  gammaGamma: { p: 6.25, q: 3.74, v: 1544 },
};
const settings: ScoreSettings = {
  churnRiskBands: { high: 0.3, medium: 0.6 },
  clvMarginRate: 0.3,
  clvAnnualDiscountRate: 0.1,
  clvHorizonMonths: 12,
};
const w = WEEKS_PER_MONTH;

describe('risk bands', () => {
  const bands: ChurnRiskBands = { high: 0.3, medium: 0.6 };

  it('puts a pAlive strictly below a threshold in its band, and the threshold itself above it', () => {
    expect(riskBand(0, bands)).toBe('high');
    expect(riskBand(0.299999, bands)).toBe('high');
    expect(riskBand(0.3, bands)).toBe('medium');
    expect(riskBand(0.599999, bands)).toBe('medium');
    expect(riskBand(0.6, bands)).toBe('low');
    expect(riskBand(1, bands)).toBe('low');
  });

  it('has no medium band when both thresholds are equal, and nothing is high below 0', () => {
    expect(riskBand(0.49, { high: 0.5, medium: 0.5 })).toBe('high');
    expect(riskBand(0.5, { high: 0.5, medium: 0.5 })).toBe('low');
    expect(riskBand(0, { high: 0, medium: 0 })).toBe('low');
    expect(riskBand(0.999999, { high: 1, medium: 1 })).toBe('high');
  });

  it('decides the band on the pAlive it stores (6 places)', () => {
    // r = 1, a = 2, b = 1, α = w: P(alive | x = 1, t_x = w, T = 3w) = 1 / (1 + 2·(4w/2w)²) = 1/9.
    const model: ScoringModel = { bgnbd: { r: 1, alpha: w, a: 2, b: 1 }, gammaGamma: cdnow.gammaGamma };
    const inputs = { x: 1, tx: w, T: 3 * w, meanSpendMinor: 1000 };
    const scores = scoreMember(model, inputs, settings);
    expect(scores.pAlive).toBe(0.111111);
    expect(
      scoreMember(model, inputs, { ...settings, churnRiskBands: { high: 0.111111, medium: 0.5 } }).risk,
    ).toBe('medium');
    expect(
      scoreMember(model, inputs, { ...settings, churnRiskBands: { high: 0.111112, medium: 0.5 } }).risk,
    ).toBe('high');
  });
});

describe('expected spend', () => {
  it('is the Gamma-Gamma conditional mean with repeat spend, the population mean p·v/(q−1) without', () => {
    const gg = cdnow.gammaGamma;
    expect(populationMeanSpend(gg)).toBeCloseTo((6.25 * 1544) / 2.74, 9);
    expect(expectedSpendPerPurchase(gg, { x: 0, tx: 0, T: 30, meanSpendMinor: 0 })).toBe(
      populationMeanSpend(gg),
    );
    // A repeat buyer whose repeat spend is unknown (its history moved on) gets the population mean too.
    expect(expectedSpendPerPurchase(gg, { x: 3, tx: 20, T: 30, meanSpendMinor: 0 })).toBe(
      populationMeanSpend(gg),
    );
    expect(expectedSpendPerPurchase(gg, { x: 3, tx: 20, T: 30, meanSpendMinor: 5000 })).toBe(
      expectedAverageSpend(gg, 3, 5000),
    );
  });
});

describe('lifetime value', () => {
  // r = 1, a = 2, b = 1, α = w, a first purchase today (x = 0, T = 0): E[Y(t)] = 2(1 − (α/t)·ln(1 + t/α))
  // in closed form (₂F₁(1, 1; 2; z) = −ln(1 − z)/z), so E[Y(w)] = 2(1 − ln 2), E[Y(2w)] = 2 − ln 3.
  const model: ScoringModel = { bgnbd: { r: 1, alpha: w, a: 2, b: 1 }, gammaGamma: { p: 2, q: 3, v: 1000 } };
  const oneTimer = { x: 0, tx: 0, T: 0, meanSpendMinor: 0 };
  const month1 = 2 * (1 - Math.log(2));
  const month2 = 2 - Math.log(3) - month1;

  it('matches a hand computation: Σ monthly expected purchases × spend × margin, discounted', () => {
    // Spend: no repeats, so the population mean 2 × 1000 / (3 − 1) = 1000 per purchase.
    const spend = expectedSpendPerPurchase(model.gammaGamma, oneTimer);
    expect(spend).toBe(1000);
    const undiscounted = { clvMarginRate: 0.5, clvAnnualDiscountRate: 0, clvHorizonMonths: 2 };
    // (0.613706 + 0.287682) × 1000 × 0.5 = 450.69 → 450.
    expect(lifetimeValueMinor(model.bgnbd, oneTimer, spend, undiscounted)).toBe(450);
    expect(Math.floor((month1 + month2) * 1000 * 0.5)).toBe(450);
    // At 100 % a year, month m is divided by 2^(m/12): 306.853/1.059463 + 143.841/1.122462 = 417.78.
    const discounted = { ...undiscounted, clvAnnualDiscountRate: 1 };
    const expected = (month1 * 500) / 2 ** (1 / 12) + (month2 * 500) / 2 ** (2 / 12);
    expect(expected).toBeCloseTo(417.78, 2);
    expect(lifetimeValueMinor(model.bgnbd, oneTimer, spend, discounted)).toBe(Math.floor(expected));
    // The same through scoreMember, whose inputs give a one-time buyer P(alive) = 1.
    const scores = scoreMember(model, oneTimer, { ...settings, ...undiscounted });
    expect(scores).toEqual({
      pAlive: 1,
      risk: 'low',
      expectedPurchases90d: expect.any(Number),
      expectedSpendMinor: 1000,
      clvMinor: 450,
    });
  });

  it('grows with the horizon and the margin, shrinks with the discount rate, and is an integer', () => {
    const member = { x: 4, tx: 30, T: 35, meanSpendMinor: 4200 };
    const clv = (changes: Partial<ScoreSettings>) =>
      scoreMember(cdnow, member, { ...settings, ...changes }).clvMinor;
    const horizons = [1, 3, 12, 36, 120].map((clvHorizonMonths) => clv({ clvHorizonMonths }));
    for (let i = 1; i < horizons.length; i++) expect(horizons[i]).toBeGreaterThan(horizons[i - 1] as number);
    expect(clv({ clvMarginRate: 0.6 })).toBeGreaterThan(clv({ clvMarginRate: 0.3 }));
    expect(clv({ clvMarginRate: 0 })).toBe(0);
    expect(clv({ clvAnnualDiscountRate: 0.5 })).toBeLessThan(clv({ clvAnnualDiscountRate: 0.1 }));
    expect(clv({ clvAnnualDiscountRate: 0 })).toBeGreaterThan(clv({ clvAnnualDiscountRate: 0.1 }));
    for (const value of horizons) expect(Number.isInteger(value)).toBe(true);
  });
});

describe('scores', () => {
  it('fall as a member stays away longer: pAlive, expected purchases and value, until the band turns', () => {
    const at = (T: number) => scoreMember(cdnow, { x: 5, tx: 20, T, meanSpendMinor: 3000 }, settings);
    let before = at(20);
    expect(before.risk).toBe('low');
    for (const T of [25, 30, 40, 60, 80]) {
      const now = at(T);
      expect(now.pAlive).toBeLessThan(before.pAlive);
      expect(now.expectedPurchases90d).toBeLessThan(before.expectedPurchases90d);
      expect(now.clvMinor).toBeLessThanOrEqual(before.clvMinor);
      before = now;
    }
    expect(before.risk).toBe('high');
  });

  it('rise with how often and how recently a member bought, and with what it spends', () => {
    const base = { x: 2, tx: 20, T: 30, meanSpendMinor: 3000 };
    const score = (changes: Partial<typeof base>) => scoreMember(cdnow, { ...base, ...changes }, settings);
    expect(score({ tx: 28 }).pAlive).toBeGreaterThan(score({}).pAlive);
    expect(score({ x: 8, tx: 28 }).expectedPurchases90d).toBeGreaterThan(
      score({ tx: 28 }).expectedPurchases90d,
    );
    expect(score({ meanSpendMinor: 9000 }).clvMinor).toBeGreaterThan(score({}).clvMinor);
    expect(score({ meanSpendMinor: 9000 }).expectedSpendMinor).toBeGreaterThan(score({}).expectedSpendMinor);
  });
});
