import * as z from 'zod';
import {
  channel,
  currencyCode,
  idParam,
  MAX_AMOUNT,
  positiveInt,
  reference,
  slug,
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
  occurredAt: z.string(),
  createdAt: z.string(),
});

export const earnResponse = z.object({ transaction: transactionView, balances: balancesSchema });

export const redemptionView = z.object({
  id: z.string(),
  transactionId: z.string(),
  memberId: z.string(),
  partnerId: z.string().nullable(),
  status: z.enum(['captured', 'held']),
  points: z.int(),
  valueMinor: z.int(),
  currency: z.string(),
  rewardId: z.string().nullable(),
  orderRef: z.string().nullable(),
  createdAt: z.string(),
});

export const redemptionResponse = z.object({ redemption: redemptionView, balances: balancesSchema });

export type EarnBody = z.infer<typeof earnBody>;
export type RedemptionBody = z.infer<typeof redemptionBody>;
export type TransactionView = z.infer<typeof transactionView>;
export type TransactionType = z.infer<typeof transactionType>;
export type BreakdownLine = z.infer<typeof breakdownLine>;
export type RedemptionView = z.infer<typeof redemptionView>;
