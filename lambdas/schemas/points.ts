import * as z from 'zod';
import {
  channel,
  currencyCode,
  idParam,
  MAX_AMOUNT,
  positiveInt,
  reference,
  slug,
  text,
  timestamp,
  transactionType,
} from './common.ts';
import { balancesSchema } from './members.ts';

export const earnBody = z.strictObject({
  partnerId: slug.optional(),
  amountMinor: z.int().min(0).max(MAX_AMOUNT),
  currency: currencyCode,
  orderRef: reference,
  category: slug.optional(),
  channel: channel.optional(),
  occurredAt: timestamp.optional(),
});

export const redemptionBody = z
  .strictObject({
    points: positiveInt.optional(),
    rewardId: idParam('rwd').optional(),
    partnerId: slug.optional(),
    orderRef: reference.optional(),
    /** Reserve the points (and a reward unit) until captured, released, or the hold expires. */
    hold: z.boolean().optional(),
    occurredAt: timestamp.optional(),
  })
  .superRefine((body, ctx) => {
    if (body.points === undefined && body.rewardId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['points'], message: 'send points (or rewardId)' });
    }
    if (body.points !== undefined && body.rewardId !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['rewardId'],
        message: 'send either points or rewardId, not both',
      });
    }
  });

/** Why points moved, as the caller tells it (required on reversals and adjustments). */
export const reason = text(500);

export const captureBody = z.strictObject({
  /** Capture less than was held: the rest goes back to the member. Default: all of it. */
  points: positiveInt.optional(),
});

export const releaseBody = z.strictObject({});

export const refundBody = z.strictObject({
  /** Points to give back; default: everything captured and not refunded yet. */
  points: positiveInt.optional(),
  reason: reason.optional(),
});

const reversalFields = {
  /** Points to take back; or */
  points: positiveInt.optional(),
  /** the amount returned, of the purchase's amountMinor: points in proportion, floored. */
  amountMinor: positiveInt.optional(),
  reason,
};
/** Checked even when other fields are wrong (`when`), so one 400 lists every problem. */
const oneMeasure = {
  check: (body: { points?: unknown; amountMinor?: unknown }) =>
    !(typeof body.points === 'number' && typeof body.amountMinor === 'number'),
  params: {
    path: ['amountMinor'],
    message: 'send points or amountMinor (or neither, for the whole earn), not both',
    when: (payload: { value: unknown }) => typeof payload.value === 'object' && payload.value !== null,
  },
};

export const reverseBody = z.strictObject(reversalFields).refine(oneMeasure.check, oneMeasure.params);
export const orderReverseBody = z
  .strictObject({ ...reversalFields, partnerId: slug.optional() })
  .refine(oneMeasure.check, oneMeasure.params);

export const adjustmentBody = z.strictObject({
  points: z
    .int()
    .min(-MAX_AMOUNT)
    .max(MAX_AMOUNT)
    .refine((points) => points !== 0, 'must not be 0'),
  reason,
});

export const transferBody = z.strictObject({
  toMemberId: idParam('mem'),
  points: positiveInt,
  reason: reason.optional(),
});

export const activityBody = z.strictObject({
  type: slug,
  /** The caller's reference of the activity (review id, referred member…): one award per ref. */
  ref: reference,
  /** A survey's score, 0–10 (feeds NPS). */
  score: z.int().min(0).max(10).optional(),
  occurredAt: timestamp.optional(),
});

export const redemptionParams = z.strictObject({ redemptionId: idParam('red') });
export const transactionParams = z.strictObject({ transactionId: idParam('txn') });
export const orderParams = z.strictObject({ orderRef: reference });

export const breakdownLine = z.object({ rule: z.string(), points: z.int() });

export const transactionView = z.object({
  id: z.string(),
  type: transactionType,
  memberId: z.string(),
  partnerId: z.string().nullable(),
  points: z.int(),
  status: z.enum(['pending', 'posted']),
  availableAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  breakdown: z.array(breakdownLine),
  orderRef: z.string().nullable(),
  amountMinor: z.int().nullable(),
  currency: z.string().nullable(),
  category: z.string().nullable(),
  channel: z.string().nullable(),
  redemptionId: z.string().nullable(),
  /** The entry this one answers: the earn a reversal takes back, the other side of a transfer. */
  relatedTransactionId: z.string().nullable(),
  reason: z.string().nullable(),
  /** The API key that made the change (null for the system: expiry, jobs, erasure). */
  actorKeyId: z.string().nullable(),
  occurredAt: z.string(),
  createdAt: z.string(),
});

export const earnResponse = z.object({ transaction: transactionView, balances: balancesSchema });

export const redemptionStatus = z.enum(['held', 'captured', 'released', 'refunded']);

export const redemptionView = z.object({
  id: z.string(),
  /** The `redeem` entry: set when the points were captured. */
  transactionId: z.string().nullable(),
  memberId: z.string(),
  partnerId: z.string().nullable(),
  status: redemptionStatus,
  /** Points reserved (held) or spent (captured) by the request. */
  points: z.int(),
  capturedPoints: z.int(),
  refundedPoints: z.int(),
  valueMinor: z.int(),
  currency: z.string(),
  rewardId: z.string().nullable(),
  orderRef: z.string().nullable(),
  holdExpiresAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const redemptionResponse = z.object({ redemption: redemptionView, balances: balancesSchema });
export const refundResponse = z.object({
  redemption: redemptionView,
  transaction: transactionView,
  balances: balancesSchema,
});

export const reversalView = z.object({
  earnTransactionId: z.string(),
  requestedPoints: z.int(),
  reversedPoints: z.int(),
  /** Of those, pending points cancelled before they matured. */
  cancelledPendingPoints: z.int(),
  /** Points already spent that could not be taken back (the program allows no negative balance). */
  shortfallPoints: z.int(),
});
export const reversalResponse = z.object({
  transaction: transactionView,
  reversal: reversalView,
  balances: balancesSchema,
});

export const transferView = z.object({ toMemberId: z.string(), inTransactionId: z.string() });
export const transferResponse = z.object({
  transaction: transactionView,
  transfer: transferView,
  balances: balancesSchema,
});

export type EarnBody = z.infer<typeof earnBody>;
export type RedemptionBody = z.infer<typeof redemptionBody>;
export type RefundBody = z.infer<typeof refundBody>;
export type ReverseBody = z.infer<typeof reverseBody>;
export type OrderReverseBody = z.infer<typeof orderReverseBody>;
export type AdjustmentBody = z.infer<typeof adjustmentBody>;
export type TransferBody = z.infer<typeof transferBody>;
export type ActivityBody = z.infer<typeof activityBody>;
export type TransactionView = z.infer<typeof transactionView>;
export type TransactionType = z.infer<typeof transactionType>;
export type BreakdownLine = z.infer<typeof breakdownLine>;
export type RedemptionView = z.infer<typeof redemptionView>;
export type RedemptionStatus = z.infer<typeof redemptionStatus>;
export type ReversalView = z.infer<typeof reversalView>;
export type TransferView = z.infer<typeof transferView>;
