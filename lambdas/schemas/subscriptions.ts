import * as z from 'zod';
import {
  balancesSchema,
  currencyCode,
  idParam,
  listQuery,
  MAX_AMOUNT,
  multiplier,
  nonNegativeInt,
  reference,
  slug,
  text,
} from './common.ts';

const priceMinor = z.int().min(0).max(MAX_AMOUNT);
const interval = z.enum(['month', 'year']);
const trialDays = z.int().min(0).max(365);

export const benefitsSchema = z.strictObject({
  /** Multiplies earned points while the subscription is live (shown as `subscription:<planId>`). */
  earnMultiplier: multiplier.default(1),
  /** Points credited at the start of each month of paid service (yearly plans: every month). */
  monthlyBonusPoints: nonNegativeInt.max(1_000_000_000).default(0),
  /** A tier code the member holds at least while the subscription is live. */
  tierFloor: slug.nullable().default(null),
});

export const createPlanBody = z.strictObject({
  id: slug,
  name: text(120),
  priceMinor,
  currency: currencyCode,
  interval,
  trialDays: trialDays.default(0),
  benefits: benefitsSchema.default({ earnMultiplier: 1, monthlyBonusPoints: 0, tierFloor: null }),
});

export const updatePlanBody = z
  .strictObject({
    name: text(120),
    /** Applies to each subscriber from its next period on, never to the current one. */
    priceMinor,
    trialDays,
    /** Like the price, from each subscriber's next period on. */
    benefits: benefitsSchema,
    /** `retired`: no new subscriptions; existing ones run on unchanged. */
    status: z.enum(['active', 'retired']),
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, 'send at least one field to change');

export const planParams = z.strictObject({ planId: slug });
export const listPlansQuery = listQuery;

export const planResponse = z.object({
  id: z.string(),
  name: z.string(),
  priceMinor: z.int(),
  currency: z.string(),
  interval,
  trialDays: z.int(),
  benefits: z.object({
    earnMultiplier: z.number(),
    monthlyBonusPoints: z.int(),
    tierFloor: z.string().nullable(),
  }),
  status: z.enum(['active', 'retired']),
  createdAt: z.string(),
  updatedAt: z.string(),
  retiredAt: z.string().nullable(),
});

export const subscribeBody = z.strictObject({
  planId: slug,
  /**
   * The PSP's reference: the first period's payment for a plan without a trial (required then),
   * the card on file for a trial.
   */
  paymentRef: reference.optional(),
  /** The selling partner, for an admin key (a partner key sells as itself). */
  partnerId: slug.optional(),
});

export const subscriptionParams = z.strictObject({ subscriptionId: idParam('sub') });

export const paymentBody = z.strictObject({
  status: z.enum(['succeeded', 'failed']),
  /** The PSP's reference of the charge: a webhook retried with the same one is recorded once. */
  paymentRef: reference,
  amountMinor: priceMinor,
  /** Optional: must be the program's currency when sent. */
  currency: currencyCode.optional(),
});

export const cancelBody = z.strictObject({
  /** true (the default): at the end of the current period; false: now. */
  atPeriodEnd: z.boolean().default(true),
});

export const updateSubscriptionBody = z
  .strictObject({
    /** A dearer plan of the same interval applies now; a cheaper one from the next period. */
    planId: slug,
    /** false undoes a cancellation scheduled for the end of the period. */
    cancelAtPeriodEnd: z.literal(false),
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, 'send planId or cancelAtPeriodEnd');

export const subscriptionStatus = z.enum(['trialing', 'active', 'past_due', 'canceled', 'expired']);

export const paymentView = z.object({
  paymentRef: z.string(),
  status: z.enum(['succeeded', 'failed']),
  amountMinor: z.int(),
  recordedAt: z.string(),
  periodStart: z.string(),
});

export const subscriptionView = z.object({
  id: z.string(),
  memberId: z.string(),
  partnerId: z.string().nullable(),
  planId: z.string(),
  status: subscriptionStatus,
  /** The current period's price (fixed when it began). */
  priceMinor: z.int(),
  currency: z.string(),
  interval,
  benefits: planResponse.shape.benefits,
  currentPeriodStart: z.string(),
  currentPeriodEnd: z.string(),
  trialEndsAt: z.string().nullable(),
  /** While the current period is unpaid: when the subscription expires if it stays unpaid. */
  graceEndsAt: z.string().nullable(),
  cancelAtPeriodEnd: z.boolean(),
  canceledAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  /** A cheaper plan chosen, taking effect when the next period begins. */
  scheduledPlanId: z.string().nullable(),
  /** End of the paid service (null: nothing paid yet, e.g. in the trial). */
  paidThrough: z.string().nullable(),
  /** What the PSP should charge next, and from when (null once ended or canceled at period end). */
  nextPayment: z.object({ amountMinor: z.int(), dueAt: z.string() }).nullable(),
  lastPayment: paymentView.nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const subscriptionResponse = z.object({ subscription: subscriptionView, balances: balancesSchema });
export const paymentResponse = z.object({
  payment: paymentView,
  subscription: subscriptionView,
  balances: balancesSchema,
});

export type Plan = z.infer<typeof planResponse>;
export type CreatePlanBody = z.infer<typeof createPlanBody>;
export type UpdatePlanBody = z.infer<typeof updatePlanBody>;
export type SubscribeBody = z.infer<typeof subscribeBody>;
export type PaymentBody = z.infer<typeof paymentBody>;
export type UpdateSubscriptionBody = z.infer<typeof updateSubscriptionBody>;
export type SubscriptionView = z.infer<typeof subscriptionView>;
