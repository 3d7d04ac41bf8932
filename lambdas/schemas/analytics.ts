import * as z from 'zod';
import { queryInt } from './common.ts';
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

/** The dimensions a segment report groups by: the churn risk band, the tier, or both. */
const segmentDimension = z.enum(['churnRisk', 'tier']);

export const segmentsQuery = z.strictObject({
  by: z
    .string()
    .max(40)
    .default('churnRisk,tier')
    .transform((value) => value.split(','))
    .pipe(
      z
        .array(segmentDimension)
        .min(1)
        .max(2)
        .refine((dims) => new Set(dims).size === dims.length, 'name each dimension once'),
    ),
});

export const segmentsResponse = z.object({
  /** The day of the latest complete churn scan the cells are from (null: none has run). */
  asOf: z.string().nullable(),
  by: z.array(segmentDimension),
  cells: z.array(
    z.object({
      churnRisk: churnRisk.optional(),
      tier: z.string().optional(),
      /** Members the scan scored into this cell. */
      members: z.int(),
      /** Mean CLV of those members (floored), minor units. */
      averageClvMinor: z.int(),
      /** Their available points as the scan read them. */
      outstandingPoints: z.int(),
    }),
  ),
});

/** A CLV bound in a query string: decimal digits, below 10^16 minor units. */
const clvBound = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,15})$/, 'must be a decimal integer below 10^16')
  .transform(Number);

export const atRiskMembersQuery = z.strictObject({
  churnRisk: churnRisk,
  minClvMinor: clvBound.optional(),
  limit: queryInt(1, 100).default(25),
  cursor: z.string().min(1).max(4096).optional(),
});

export const atRiskMemberView = z.object({
  memberId: z.string(),
  churnRisk: churnRisk,
  pAlive: z.number(),
  clvMinor: z.int(),
  expectedPurchases90d: z.number(),
  scoredAt: z.string(),
});

export type SegmentsQuery = z.infer<typeof segmentsQuery>;
export type AtRiskMembersQuery = z.infer<typeof atRiskMembersQuery>;
export type AtRiskMemberView = z.infer<typeof atRiskMemberView>;
