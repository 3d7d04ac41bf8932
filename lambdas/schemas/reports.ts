import * as z from 'zod';
import { slug } from './common.ts';

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
