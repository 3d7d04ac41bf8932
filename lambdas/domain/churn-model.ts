/**
 * Fitting the churn model: BG/NBD on every purchaser's (x, t_x, T), compressed to distinct histories
 * (a fit costs distinct histories, not members), and Gamma-Gamma on the repeat purchasers whose
 * mean repeat spend is known. Pure: the analytics service reads the members and stores the result.
 */
import type { ModelInputs } from './churn-scores.ts';
import {
  type BgNbdParameters,
  compress,
  fitBgNbd,
  fitGammaGamma,
  type GammaGammaParameters,
} from './customer-base.ts';

/** Fewer purchasers than this cannot support four parameters. */
export const MIN_PURCHASERS = 10;

export interface FittedChurnModel {
  bgnbd: BgNbdParameters & { logLikelihood: number };
  /** `v` in minor units (spend is fitted as stored). */
  gammaGamma: GammaGammaParameters;
  /** Purchasers by the calibration day: what BG/NBD was fitted on. */
  members: number;
  /** Of those, the ones with a repeat purchase day (x > 0). */
  repeatMembers: number;
  /** Distinct (x, t_x, T): the likelihood's terms. */
  distinctHistories: number;
  /** Repeat purchasers with a known, positive mean repeat spend: what Gamma-Gamma was fitted on. */
  spendMembers: number;
}

/** The fitted model, or why the data cannot support one (a sentence for a 409's detail). */
export type FitOutcome = { model: FittedChurnModel } | { refused: string };

const finitePositive = (values: number[]) => values.every((value) => Number.isFinite(value) && value > 0);

export function fitChurnModel(inputs: readonly ModelInputs[], calibrationEnd: string): FitOutcome {
  const members = inputs.length;
  const repeatMembers = inputs.filter((input) => input.x > 0).length;
  if (members < MIN_PURCHASERS) {
    return {
      refused: `Too few purchasers to fit: ${members} member(s) have a purchase by ${calibrationEnd}; at least ${MIN_PURCHASERS} are needed.`,
    };
  }
  if (repeatMembers === 0) {
    return {
      refused: `No member bought on more than one day by ${calibrationEnd}: without repeat purchases the model cannot tell dropping out from buying rarely.`,
    };
  }
  const spenders = inputs.filter((input) => input.x > 0 && input.meanSpendMinor > 0);
  if (spenders.length === 0) {
    return {
      refused: `No repeat purchaser has a known repeat spend by ${calibrationEnd}: the spend model (Gamma-Gamma) cannot be fitted.`,
    };
  }
  const histories = compress(inputs);
  const { r, alpha, a, b, logLikelihood } = fitBgNbd(histories);
  // Spend is fitted relative to its mean (p and q do not depend on the unit, v scales with it), so
  // the optimiser starts near the answer in any currency; v is brought back to minor units.
  const scale = spenders.reduce((sum, input) => sum + input.meanSpendMinor, 0) / spenders.length;
  const relative = fitGammaGamma(
    spenders.map((input) => ({ x: input.x, meanSpend: input.meanSpendMinor / scale })),
  );
  const gammaGamma = { p: relative.p, q: relative.q, v: relative.v * scale };
  if (!finitePositive([r, alpha, a, b, gammaGamma.p, gammaGamma.q, gammaGamma.v])) {
    return {
      refused: `The purchase histories by ${calibrationEnd} do not determine the model (the fit diverged): fit again when there is more history.`,
    };
  }
  if (gammaGamma.q <= 1) {
    return {
      refused: `Spend per purchase varies too much across members for a finite expected spend (Gamma-Gamma q = ${gammaGamma.q.toFixed(3)} ≤ 1): lifetime values cannot be computed.`,
    };
  }
  return {
    model: {
      bgnbd: { r, alpha, a, b, logLikelihood },
      gammaGamma,
      members,
      repeatMembers,
      distinctHistories: histories.length,
      spendMembers: spenders.length,
    },
  };
}
