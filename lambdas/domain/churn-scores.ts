/**
 * A member's churn risk and lifetime value, from the fitted customer-base models
 * (domain/customer-base.ts) and the member's purchase summary as of a day
 * (domain/purchase-history.ts `modelInputs`). Pure: the churn-scan job and the analytics view call
 * the same function, so a stored score and one computed on the spot agree.
 *
 * Money is in the program currency's minor units throughout: the Gamma-Gamma parameter `v` is
 * fitted on minor units, so expected spend comes out in minor units; CLV is floored once, at the end.
 */
import {
  type BgNbdParameters,
  expectedAverageSpend,
  expectedPurchases,
  type GammaGammaParameters,
  type PurchaseSummary,
  probabilityAlive,
} from './customer-base.ts';

export type ChurnRisk = 'high' | 'medium' | 'low';

/** P(alive) thresholds: below `high` is high risk, below `medium` is medium risk, else low. */
export interface ChurnRiskBands {
  high: number;
  medium: number;
}

/** The program settings scores depend on. */
export interface ScoreSettings {
  churnRiskBands: ChurnRiskBands;
  /** Share of spend kept (0..1). */
  clvMarginRate: number;
  /** Yearly discount rate (0..1). */
  clvAnnualDiscountRate: number;
  /** Months of future purchases counted (≥ 1). */
  clvHorizonMonths: number;
}

/** The fitted parameters scores need (`v` in minor units). */
export interface ScoringModel {
  bgnbd: BgNbdParameters;
  gammaGamma: GammaGammaParameters;
}

/** A member's summary as of a day: x, t_x, T in weeks, the mean spend of its repeat days. */
export interface ModelInputs extends PurchaseSummary {
  /** 0 when unknown (no repeat day, or the history moved on past the day: spend is kept in total). */
  meanSpendMinor: number;
}

export interface ChurnScores {
  pAlive: number;
  risk: ChurnRisk;
  /** E[purchase days in the next 90 days]. */
  expectedPurchases90d: number;
  /** E[spend per purchase], floored. */
  expectedSpendMinor: number;
  /** Discounted margin of the purchases expected over the horizon, floored once. */
  clvMinor: number;
}

/** 90 days in the model's unit of time (weeks). */
export const WEEKS_IN_90_DAYS = 90 / 7;
/** One month in weeks (52 weeks / 12), the step of the CLV sum. */
export const WEEKS_PER_MONTH = 52 / 12;

/**
 * Probabilities and expectations are stored to 6 decimal places; the band is decided on the stored
 * value, so a stored pAlive and its band never disagree.
 */
const round6 = (value: number) => Math.round(value * 1e6) / 1e6;

/** The band of a P(alive): strictly below a threshold is in its band (0.3 with high = 0.3 is medium). */
export function riskBand(pAlive: number, bands: ChurnRiskBands): ChurnRisk {
  if (pAlive < bands.high) return 'high';
  if (pAlive < bands.medium) return 'medium';
  return 'low';
}

/** The population's mean spend per purchase under Gamma-Gamma, p·v/(q − 1) (finite for q > 1). */
export function populationMeanSpend({ p, q, v }: GammaGammaParameters): number {
  return (p * v) / (q - 1);
}

/**
 * E[spend per purchase]: the Gamma-Gamma conditional mean for a member with repeat days of known
 * spend, the population mean for one without (no repeat day yet, or its repeat spend unknown).
 */
export function expectedSpendPerPurchase(gammaGamma: GammaGammaParameters, inputs: ModelInputs): number {
  return inputs.x > 0 && inputs.meanSpendMinor > 0
    ? expectedAverageSpend(gammaGamma, inputs.x, inputs.meanSpendMinor)
    : populationMeanSpend(gammaGamma);
}

/**
 * CLV = ⌊Σ_{m=1..H} (E[Y(m·w)] − E[Y((m−1)·w)]) × spend × margin / (1 + d)^(m/12)⌋, w = 52/12 weeks:
 * each month's expected purchases (BG/NBD, conditional on the member's history) at its expected
 * spend and margin, discounted to today at the yearly rate d.
 */
export function lifetimeValueMinor(
  bgnbd: BgNbdParameters,
  inputs: PurchaseSummary,
  spendPerPurchase: number,
  settings: Pick<ScoreSettings, 'clvMarginRate' | 'clvAnnualDiscountRate' | 'clvHorizonMonths'>,
): number {
  let total = 0;
  let before = 0;
  for (let month = 1; month <= settings.clvHorizonMonths; month++) {
    const cumulative = expectedPurchases(bgnbd, inputs, month * WEEKS_PER_MONTH);
    total +=
      ((cumulative - before) * spendPerPurchase * settings.clvMarginRate) /
      (1 + settings.clvAnnualDiscountRate) ** (month / 12);
    before = cumulative;
  }
  return Math.max(0, Math.floor(total));
}

/** Every score of a member with these inputs, under this model and these settings. */
export function scoreMember(model: ScoringModel, inputs: ModelInputs, settings: ScoreSettings): ChurnScores {
  const pAlive = round6(probabilityAlive(model.bgnbd, inputs));
  const spend = expectedSpendPerPurchase(model.gammaGamma, inputs);
  return {
    pAlive,
    risk: riskBand(pAlive, settings.churnRiskBands),
    expectedPurchases90d: round6(expectedPurchases(model.bgnbd, inputs, WEEKS_IN_90_DAYS)),
    expectedSpendMinor: Math.floor(spend),
    clvMinor: lifetimeValueMinor(model.bgnbd, inputs, spend, settings),
  };
}
