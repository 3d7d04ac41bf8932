import * as z from 'zod';
import { idParam, listQuery, MAX_AMOUNT, nonNegativeInt, positiveInt, slug, text } from './common.ts';

const inventory = z.int().min(0).max(1_000_000_000).nullable();

export const createRewardBody = z.strictObject({
  partnerId: slug.optional(),
  name: text(120),
  description: text(1000).optional(),
  costPoints: positiveInt,
  valueMinor: nonNegativeInt,
  /** Units in stock; null (the default) for unlimited. */
  inventory: inventory.default(null),
  active: z.boolean().default(true),
});

export const updateRewardBody = z
  .strictObject({
    name: text(120),
    description: text(1000).nullable(),
    costPoints: positiveInt,
    valueMinor: z.int().min(0).max(MAX_AMOUNT),
    inventory,
    /** Units to add to the stock, atomically: safe while units sell, unlike setting `inventory`. */
    restock: z.int().min(1).max(1_000_000_000),
    active: z.boolean(),
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, 'send at least one field to change')
  .refine((body) => body.inventory === undefined || body.restock === undefined, {
    path: ['restock'],
    message: 'send either inventory (the new total) or restock (units to add), not both',
  });

export const rewardParams = z.strictObject({ rewardId: idParam('rwd') });

export const listRewardsQuery = listQuery.extend({
  partnerId: slug.optional(),
  active: z.enum(['true', 'false']).optional(),
});

export const rewardResponse = z.object({
  id: z.string(),
  partnerId: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  costPoints: z.int(),
  valueMinor: z.int(),
  inventory: z.int().nullable(),
  active: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export type CreateRewardBody = z.infer<typeof createRewardBody>;
export type UpdateRewardBody = z.infer<typeof updateRewardBody>;
export type Reward = z.infer<typeof rewardResponse>;
