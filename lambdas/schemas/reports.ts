import * as z from 'zod';
import { decimal4, slug } from './common.ts';

/** A calendar day, `YYYY-MM-DD`, that exists (no 2026-02-30). */
export const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD')
  .refine(
    (value) =>
      !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) &&
      new Date(`${value}T00:00:00Z`).toISOString().startsWith(value),
    'is not a calendar date',
  );

export const MAX_REPORT_DAYS = 366;

/** [from, to] in order, at most MAX_REPORT_DAYS long. */
const dayRange = (query: { from: string; to: string }, ctx: z.RefinementCtx) => {
  if (query.from > query.to)
    ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
  const days = (Date.parse(query.to) - Date.parse(query.from)) / 86_400_000 + 1;
  if (days > MAX_REPORT_DAYS) {
    ctx.addIssue({
      code: 'custom',
      path: ['to'],
      message: `a report covers at most ${MAX_REPORT_DAYS} days`,
    });
  }
};

export const settlementQuery = z
  .strictObject({
    partnerId: slug.optional(),
    from: day,
    to: day,
    format: z.enum(['json', 'csv']).default('json'),
  })
  .superRefine(dayRange);

export const subscriptionReportQuery = z
  .strictObject({ from: day, to: day, format: z.enum(['json', 'csv']).default('json') })
  .superRefine(dayRange);

export const subscriptionReportResponse = z.object({
  from: z.string(),
  to: z.string(),
  currency: z.string(),
  /** Subscriptions in each live state at the end of `to`. */
  trialing: z.int(),
  active: z.int(),
  pastDue: z.int(),
  /**
   * Monthly recurring revenue at the end of `to` (active and past_due subscriptions; a yearly plan
   * counts price/12): the exact sum, floored once. `arrMinor` is 12 × MRR, exact.
   */
  mrrMinor: z.int(),
  arrMinor: z.int(),
  /** Transitions in [from, to]. */
  started: z.int(),
  renewed: z.int(),
  wentPastDue: z.int(),
  canceled: z.int(),
  expired: z.int(),
  /** canceled + expired. */
  churned: z.int(),
  /** Succeeded payments recorded in [from, to]. */
  revenueMinor: z.int(),
  /** Monthly bonus points credited in [from, to]. */
  bonusPoints: z.int(),
});

const line = {
  issuedPoints: z.int(),
  /** Of issuedPoints, those the partner's own campaigns added (funded by it like the rest). */
  campaignPoints: z.int(),
  reversedPoints: z.int(),
  owedToCoalitionMinor: z.int(),
  redeemedPoints: z.int(),
  refundedPoints: z.int(),
  owedToPartnerMinor: z.int(),
  netMinor: z.int(),
};

export const settlementResponse = z.object({
  from: z.string(),
  to: z.string(),
  currency: z.string(),
  partners: z.array(
    z.object({
      partnerId: z.string(),
      name: z.string(),
      ...line,
    }),
  ),
  totals: z.object(line),
});

export type SettlementQuery = z.infer<typeof settlementQuery>;
export type SubscriptionReportQuery = z.infer<typeof subscriptionReportQuery>;
export type SubscriptionReport = z.infer<typeof subscriptionReportResponse>;

const format = z.enum(['json', 'csv']).default('json');

/** A first day of a month: deferred revenue allocates whole-month cohorts. */
const monthStart = day.refine((value) => value.endsWith('-01'), 'must be the first day of a month');

export const liabilityQuery = z.strictObject({
  /** The end of this day (UTC, posting days); default today. */
  asOf: day.optional(),
  partnerId: slug.optional(),
  format,
});

const partnerLiability = z.object({
  /** null: points the coalition issued itself (activities without a partner, bonuses, credits). */
  partnerId: z.string().nullable(),
  name: z.string(),
  /** Points this partner issued that are still outstanding (FIFO attribution, decisions §41). */
  outstandingPoints: z.int(),
  /** Of the members' pending points, those earned at this partner. */
  pendingPoints: z.int(),
  /** Points reserved by holds of redemptions at this partner. */
  heldPoints: z.int(),
  liabilityMinor: z.int(),
  expectedLiabilityMinor: z.int(),
});

export const liabilityResponse = z.object({
  asOf: z.string(),
  currency: z.string(),
  /** The partner the report is limited to (a partner key, or ?partnerId=), else null. */
  partnerId: z.string().nullable(),
  /** Σ member balances (available + pending + reserved) at the end of asOf. */
  outstandingPoints: z.int(),
  pendingPoints: z.int(),
  heldPoints: z.int(),
  /** Σ of negative balances (debts), as a positive number: Σ expiryBuckets = outstanding + this. */
  negativeBalancePoints: z.int(),
  pointValueMinor: z.int(),
  liabilityMinor: z.int(),
  expectedRedemptionRate: z.number(),
  /** liability × expected redemption rate, rounded half up: the liability net of breakage. */
  expectedLiabilityMinor: z.int(),
  byPartner: z.array(partnerLiability),
  /** Outstanding points by the month they expire (`YYYY-MM`, or `never`); null for one partner. */
  expiryBuckets: z.array(z.object({ month: z.string(), points: z.int() })).nullable(),
});

export const rollForwardQuery = z.strictObject({ from: day, to: day, format }).superRefine(dayRange);

const rollForwardLine = {
  opening: z.int(),
  /** purchases + activities + bonuses. */
  issued: z.int(),
  purchases: z.int(),
  activities: z.int(),
  bonuses: z.int(),
  redeemed: z.int(),
  refunded: z.int(),
  expired: z.int(),
  reversed: z.int(),
  adjusted: z.int(),
  /** transferredIn − transferredOut: 0 coalition-wide. */
  transferred: z.int(),
  transferredIn: z.int(),
  transferredOut: z.int(),
  forfeited: z.int(),
  /** Σ member balances at the end of the period. */
  closing: z.int(),
  /** closing − (opening + Σ movements): 0 unless a movement went uncounted (reconcile then flags it). */
  unexplainedPoints: z.int(),
};

export const rollForwardResponse = z.object({
  from: z.string(),
  to: z.string(),
  currency: z.string(),
  ...rollForwardLine,
  months: z.array(z.object({ month: z.string(), from: z.string(), to: z.string(), ...rollForwardLine })),
});

export const deferredRevenueQuery = z
  .strictObject({ from: monthStart, to: day, format })
  .superRefine(dayRange);

const cohort = z.object({
  /** The posting month of the purchases (`YYYY-MM`). */
  month: z.string(),
  pointsIssued: z.int(),
  transactionPriceMinor: z.int(),
  /** The estimate the allocation used (in effect at the cohort's end, or at `to`). */
  allocationRate: z.number(),
  allocatedMinor: z.int(),
  /** Points of the cohort redeemed by `to` (FIFO over the pool), and expected at `to`'s estimate. */
  redeemedPoints: z.number(),
  expectedRedemptions: z.number(),
  recognizedOpeningMinor: z.int(),
  recognizedInPeriodMinor: z.int(),
  recognizedClosingMinor: z.int(),
  deferredClosingMinor: z.int(),
});

export const deferredRevenueResponse = z.object({
  from: z.string(),
  to: z.string(),
  currency: z.string(),
  pointValueMinor: z.int(),
  /** The estimate in effect at the end of `to` (recognition uses it, cumulatively). */
  expectedRedemptionRate: z.number(),
  /** Allocated to points by the cohorts of [from, to]. */
  allocatedToPointsMinor: z.int(),
  /** Points revenue recognised in [from, to]. */
  recognizedMinor: z.int(),
  deferredOpeningMinor: z.int(),
  /** opening + allocated − recognised. */
  deferredClosingMinor: z.int(),
  cohorts: z.array(cohort),
});

export const kpiQuery = z
  .strictObject({
    /** The first month (`YYYY-MM`, or its first day). */
    from: z
      .string()
      .regex(/^\d{4}-(0[1-9]|1[0-2])(-01)?$/, 'must be a month, YYYY-MM (or its first day, YYYY-MM-01)'),
    /** The last month (`YYYY-MM`, or a day in it: the month so far). */
    to: z
      .string()
      .regex(/^\d{4}-(0[1-9]|1[0-2])(-\d{2})?$/, 'must be a month, YYYY-MM, or a day in it, YYYY-MM-DD')
      .refine((value) => value.length === 7 || day.safeParse(value).success, 'is not a calendar date'),
    groupBy: z.enum(['partner', 'channel']).optional(),
    format,
  })
  .superRefine((query, ctx) => {
    const first = query.from.slice(0, 7);
    const last = query.to.slice(0, 7);
    const months =
      (Number(last.slice(0, 4)) - Number(first.slice(0, 4))) * 12 +
      Number(last.slice(5, 7)) -
      Number(first.slice(5, 7)) +
      1;
    if (months < 1) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    else if (months > 12)
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'KPIs cover at most 12 months' });
  });

const kpiFigures = {
  activeMembers: z.int(),
  newMembers: z.int(),
  /** Active in the previous period of the same length and in this one ÷ active in the previous. */
  retentionRate: z.number().nullable(),
  churnRate: z.number().nullable(),
  /** Member-months with 2+ purchase days ÷ member-months with a purchase. */
  repeatPurchaseRate: z.number().nullable(),
  /** Points redeemed ÷ points issued in the period (null for channels: not counted per channel). */
  redemptionRate: z.number().nullable(),
  /** % promoters (9–10) − % detractors (0–6) of survey activities; null without answers. */
  nps: z.number().nullable(),
  counts: z.object({
    previousActiveMembers: z.int(),
    retainedMembers: z.int(),
    repeatMemberMonths: z.int(),
    activeMemberMonths: z.int(),
    redeemedPoints: z.int().nullable(),
    issuedPoints: z.int().nullable(),
    surveyResponses: z.int().nullable(),
    promoters: z.int().nullable(),
    detractors: z.int().nullable(),
  }),
};

export const kpiResponse = z.object({
  /** The months the figures cover, `YYYY-MM`. */
  from: z.string().regex(/^\d{4}-\d{2}$/),
  to: z.string().regex(/^\d{4}-\d{2}$/),
  groupBy: z.enum(['partner', 'channel']).nullable(),
  currency: z.string(),
  ...kpiFigures,
  /** Mean CLV of the members the latest complete churn scan scored (null before one). */
  averageClvMinor: z.int().nullable(),
  clvScoredOn: z.string().nullable(),
  subscriptions: z.object({ active: z.int(), churned: z.int(), mrrMinor: z.int() }),
  groups: z.array(z.object({ group: z.string(), ...kpiFigures })),
});

export const redemptionEstimateBody = z.strictObject({
  /** The day the estimate takes effect (today or later: closed periods keep their estimate). */
  effectiveFrom: day,
  expectedRedemptionRate: decimal4.pipe(z.number().min(0).max(1)),
});

export const redemptionEstimateResponse = z.object({
  effectiveFrom: z.string(),
  expectedRedemptionRate: z.number(),
  createdAt: z.string(),
});

export type LiabilityQuery = z.infer<typeof liabilityQuery>;
export type LiabilityReport = z.infer<typeof liabilityResponse>;
export type RollForwardQuery = z.infer<typeof rollForwardQuery>;
export type RollForwardReport = z.infer<typeof rollForwardResponse>;
export type DeferredRevenueQuery = z.infer<typeof deferredRevenueQuery>;
export type DeferredRevenueReport = z.infer<typeof deferredRevenueResponse>;
export type KpiQuery = z.infer<typeof kpiQuery>;
export type KpiReport = z.infer<typeof kpiResponse>;
export type RedemptionEstimateBody = z.infer<typeof redemptionEstimateBody>;
export type RedemptionEstimate = z.infer<typeof redemptionEstimateResponse>;
