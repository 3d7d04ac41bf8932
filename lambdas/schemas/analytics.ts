import * as z from 'zod';
import { day } from './reports.ts';

export const churnRisk = z.enum(['low', 'medium', 'high']);

/** A member's churn scores as the daily `churn-scan` job last stored them. */
export const churnView = z.object({
  /** P(the member has not dropped out), BG/NBD, to 6 places. */
  pAlive: z.number(),
  /** From the program's `churnRiskBands`: pAlive below `high` is high, below `medium` medium. */
  risk: churnRisk,
  /** Purchase days expected in the next 90 days. */
  expectedPurchases90d: z.number(),
  /** Discounted margin expected over `clvHorizonMonths`, in minor units (floored). */
  clvMinor: z.int(),
  /** The instant the scan scored the member as of (its inputs are as of that UTC day). */
  scoredAt: z.string(),
});
export type ChurnView = z.infer<typeof churnView>;

export const fitChurnModelBody = z.strictObject({
  /** The last day of history the model learns from (≤ today); default today (UTC). */
  calibrationEnd: day.optional(),
});
export type FitChurnModelBody = z.infer<typeof fitChurnModelBody>;

export const churnModelResponse = z.object({
  /** BG/NBD (time in weeks): purchase rate λ ~ Gamma(r, α), dropout after a purchase p ~ Beta(a, b). */
  bgnbd: z.object({
    r: z.number(),
    alpha: z.number(),
    a: z.number(),
    b: z.number(),
    logLikelihood: z.number(),
  }),
  /** Gamma-Gamma spend per purchase, fitted on minor units (`v` is in minor units). */
  gammaGamma: z.object({ p: z.number(), q: z.number(), v: z.number() }),
  /** Members with a purchase by `calibrationEnd`: what BG/NBD was fitted on. */
  members: z.int(),
  /** Of those, members who bought on more than one day. */
  repeatMembers: z.int(),
  /** Distinct (x, t_x, T) histories: what a fit costs. */
  distinctHistories: z.int(),
  /** Repeat purchasers with a known repeat spend: what Gamma-Gamma was fitted on. */
  spendMembers: z.int(),
  calibrationEnd: z.string(),
  fittedAt: z.string(),
});
export type ChurnModelView = z.infer<typeof churnModelResponse>;

export const memberAnalyticsResponse = z.object({
  memberId: z.string(),
  /** The day the inputs and scores are as of (today, UTC). */
  asOf: z.string(),
  /** The model's summary of the member's purchases (null: no purchase yet, or erased). */
  inputs: z
    .object({
      /** Repeat purchase days (the first day is not a repeat). */
      x: z.int(),
      /** Weeks from the first to the last purchase day. */
      tx: z.number(),
      /** Weeks from the first purchase day to `asOf`. */
      T: z.number(),
      /** Mean spend of the repeat days (0: none, or unknown). */
      meanSpendMinor: z.number(),
    })
    .nullable(),
  /** Scores computed now with the stored model (null without a model or a purchase history). */
  scores: z
    .object({
      pAlive: z.number(),
      risk: churnRisk,
      expectedPurchases90d: z.number(),
      /** Expected spend per purchase (Gamma-Gamma; the population mean without repeat spend). */
      expectedSpendMinor: z.int(),
      clvMinor: z.int(),
    })
    .nullable(),
  /** What the last churn scan stored on the member (null: never scored). */
  churn: churnView.nullable(),
});
