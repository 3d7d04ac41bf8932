import * as z from 'zod';
import { channel, idParam, listQuery, reference, text, timestamp, transactionType } from './common.ts';

export const externalRef = reference;

export const createMemberBody = z.strictObject({
  externalRef: externalRef.optional(),
  email: z.email().max(254).optional(),
  name: text(200).optional(),
  channel: channel.optional(),
  enrolledAt: timestamp.optional(),
});

export const memberParams = z.strictObject({ memberId: idParam('mem') });

export const findMembersQuery = z.strictObject({ externalRef });

export const balancesSchema = z.object({
  available: z.int(),
  pending: z.int(),
  reserved: z.int(),
  lifetimeEarned: z.int(),
  lifetimeRedeemed: z.int(),
  expiringNext: z.object({ points: z.int(), on: z.string() }).nullable(),
});

export const memberResponse = z.object({
  id: z.string(),
  status: z.enum(['active', 'erased']),
  externalRef: z.string().nullable(),
  email: z.string().nullable(),
  name: z.string().nullable(),
  channel: z.string().nullable(),
  enrolledAt: z.string(),
  tier: z.object({ code: z.string(), since: z.string(), qualifyingPoints: z.int() }),
  balances: balancesSchema,
  subscription: z.null(),
  churn: z.null(),
  createdAt: z.string(),
});

export const transactionsQuery = listQuery.extend({ type: transactionType.optional() });

export type CreateMemberBody = z.infer<typeof createMemberBody>;
export type Balances = z.infer<typeof balancesSchema>;
export type MemberView = z.infer<typeof memberResponse>;
