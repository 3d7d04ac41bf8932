import * as z from 'zod';
import { churnView } from './analytics.ts';
import {
  balancesSchema,
  channel,
  idParam,
  listQuery,
  reference,
  text,
  timestamp,
  transactionType,
} from './common.ts';
import { subscriptionView } from './subscriptions.ts';

export const externalRef = reference;

export const createMemberBody = z.strictObject({
  externalRef: externalRef.optional(),
  email: z.email().max(254).optional(),
  name: text(200).optional(),
  channel: channel.optional(),
  enrolledAt: timestamp.optional(),
});

export const updateMemberBody = z
  .strictObject({
    email: z.email().max(254).nullable(),
    name: text(200).nullable(),
    channel: channel.nullable(),
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, 'send at least one field to change');

export const memberParams = z.strictObject({ memberId: idParam('mem') });

export const findMembersQuery = z.strictObject({ externalRef });

export { balancesSchema };

export const memberResponse = z.object({
  id: z.string(),
  status: z.enum(['active', 'erased']),
  externalRef: z.string().nullable(),
  email: z.string().nullable(),
  name: z.string().nullable(),
  channel: z.string().nullable(),
  enrolledAt: z.string(),
  tier: z.object({
    code: z.string(),
    name: z.string(),
    since: z.string(),
    qualifyingPoints: z.int(),
    /**
     * The next tier review, and the points to earn before it to keep the tier, counting what is earned
     * from `countingFrom` on (null in the entry tier).
     */
    review: z.object({ on: z.string(), pointsToKeep: z.int(), countingFrom: z.string() }).nullable(),
    /** The next tier up and the qualifying points still needed to reach it (null at the top). */
    next: z.object({ code: z.string(), pointsNeeded: z.int() }).nullable(),
  }),
  balances: balancesSchema,
  /** The member's latest subscription (null: never subscribed). */
  subscription: subscriptionView.nullable(),
  /** The last churn scan's scores (see /v1/analytics): null until the member is first scored. */
  churn: churnView.nullable(),
  createdAt: z.string(),
  /** When the member was erased (status `erased`); null otherwise. */
  erasedAt: z.string().nullable(),
});

export const transactionsQuery = listQuery.extend({ type: transactionType.optional() });

export type CreateMemberBody = z.infer<typeof createMemberBody>;
export type UpdateMemberBody = z.infer<typeof updateMemberBody>;
export type Balances = z.infer<typeof balancesSchema>;
export type MemberView = z.infer<typeof memberResponse>;
