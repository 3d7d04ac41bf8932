import * as z from 'zod';
import { channel, historicalTimestamp, idParam, listQuery, multiplier, slug, text } from './common.ts';

/** Most points one campaign may give in all (a budget) or per purchase (a fixed bonus). */
const MAX_CAMPAIGN_POINTS = 1_000_000_000_000;
const list = <T extends z.ZodType>(item: T) => z.array(item).min(1).max(20);

/** Who a campaign applies to: every dimension given must match (absent: any). */
export const targetSchema = z.strictObject({
  /** The member's tier codes at the time of the purchase. */
  tiers: list(slug).optional(),
  /** The purchase's channel (an earn without one matches no channel target). */
  channels: list(channel).optional(),
  /** The purchase's category. */
  categories: list(slug).optional(),
  /** The member's risk band from the latest churn scan (an unscored member matches none). */
  churnRisk: list(z.enum(['low', 'medium', 'high'])).optional(),
  /** Whether the member holds a live paid membership. */
  subscribed: z.boolean().optional(),
  /** The partners the purchase is made at (coalition-wide campaigns only). */
  partners: list(slug).optional(),
});

/** A multiplier on the purchase's points, or a fixed bonus per purchase. */
export const rewardSchema = z.union([
  z.strictObject({ multiplier: multiplier.pipe(z.number().gt(1)) }),
  z.strictObject({ bonusPoints: z.int().min(1).max(1_000_000_000) }),
]);

const window = (
  body: { startsAt?: string | undefined; endsAt?: string | undefined },
  ctx: z.RefinementCtx,
) => {
  if (
    body.startsAt !== undefined &&
    body.endsAt !== undefined &&
    Date.parse(body.endsAt) <= Date.parse(body.startsAt)
  ) {
    ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be after startsAt' });
  }
};

export const createCampaignBody = z
  .strictObject({
    name: text(120),
    /** The partner that runs and funds it; absent: coalition-wide, funded by the coalition (admin only). */
    partnerId: slug.optional(),
    /** Inclusive, UTC. */
    startsAt: historicalTimestamp,
    /** Exclusive, UTC. */
    endsAt: historicalTimestamp,
    target: targetSchema.default({}),
    reward: rewardSchema,
    /** Most points the campaign gives in all; absent: no limit. Fixed once created. */
    budgetPoints: z.int().min(1).max(MAX_CAMPAIGN_POINTS).optional(),
    active: z.boolean().default(true),
  })
  .superRefine(window);

export const updateCampaignBody = z
  .strictObject({
    name: text(120),
    startsAt: historicalTimestamp,
    endsAt: historicalTimestamp,
    target: targetSchema,
    reward: rewardSchema,
    active: z.boolean(),
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, 'send at least one field to change')
  .superRefine(window);

export const campaignParams = z.strictObject({ campaignId: idParam('cmp') });
export const listCampaignsQuery = listQuery.extend({
  /** An admin's filter: one partner's campaigns. */
  partnerId: slug.optional(),
});

export const campaignResponse = z.object({
  id: z.string(),
  name: z.string(),
  partnerId: z.string().nullable(),
  startsAt: z.string(),
  endsAt: z.string(),
  target: targetSchema,
  reward: rewardSchema,
  budgetPoints: z.int().nullable(),
  /** What the budget has given so far, and when it ran out (null: not yet, or no budget). */
  budget: z
    .object({ awardedPoints: z.int(), remainingPoints: z.int(), exhaustedAt: z.string().nullable() })
    .nullable(),
  active: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export type CreateCampaignBody = z.infer<typeof createCampaignBody>;
export type UpdateCampaignBody = z.infer<typeof updateCampaignBody>;
export type CampaignTarget = z.infer<typeof targetSchema>;
export type CampaignReward = z.infer<typeof rewardSchema>;
export type CampaignView = z.infer<typeof campaignResponse>;

/** A campaign as stored and as the earn reads it (its budget's state comes from its own items). */
export type Campaign = Omit<CampaignView, 'budget'>;

/** MAX_CAMPAIGN_POINTS for the domain's bounds. */
export { MAX_CAMPAIGN_POINTS };
