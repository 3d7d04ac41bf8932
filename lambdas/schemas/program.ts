import * as z from 'zod';
import { boundedRecord, currencyCode, decimal4, multiplier, nonNegativeInt, slug, text } from './common.ts';

export const tierSchema = z.strictObject({
  code: slug,
  name: text(80),
  minQualifyingPoints: nonNegativeInt,
  earnMultiplier: multiplier,
});

export const programSchema = z
  .strictObject({
    name: text(120),
    currency: currencyCode,
    pointValueMinor: z.int().min(1).max(1_000_000),
    expiryMonths: z.int().min(1).max(600).nullable(),
    expiryNoticeDays: z.int().min(0).max(365),
    pendingDays: z.int().min(0).max(365),
    tierWindowMonths: z.int().min(1).max(120),
    tiers: z.array(tierSchema).min(1).max(20),
    activityRules: boundedRecord(nonNegativeInt),
    churnRiskBands: z.strictObject({ high: z.number().min(0).max(1), medium: z.number().min(0).max(1) }),
    expectedRedemptionRate: z.number().min(0).max(1),
    allowNegativeBalance: z.boolean(),
    /** How long a held redemption reserves its points before it is released (minutes). */
    holdExpiryMinutes: z.int().min(1).max(10_080).default(30),
    /** Whether members may transfer points to one another (pooling). */
    transfersEnabled: z.boolean().default(true),
    /** Days before a tier review that a member about to drop a tier gets tier.downgrade_warning. */
    tierDowngradeWarningDays: z.int().min(0).max(365).default(30),
    /**
     * Days a paid membership keeps its benefits after a period begins unpaid (a failed renewal)
     * before it expires. Shorter than the shortest month, so a grace never outlasts a period.
     */
    subscriptionGraceDays: z.int().min(0).max(27).default(7),
    /** Lifetime value: the share of a member's spend the program keeps (gross margin). */
    clvMarginRate: decimal4.pipe(z.number().min(0).max(1)).default(0.3),
    /** Lifetime value: the yearly rate future months' margin is discounted at. */
    clvAnnualDiscountRate: decimal4.pipe(z.number().min(0).max(1)).default(0.1),
    /** Lifetime value: the months of future purchases it counts. */
    clvHorizonMonths: z.int().min(1).max(120).default(12),
  })
  .superRefine((program, ctx) => {
    const codes = new Set<string>();
    program.tiers.forEach((tier, index) => {
      if (codes.has(tier.code)) {
        ctx.addIssue({
          code: 'custom',
          path: ['tiers', index, 'code'],
          message: 'tier codes must be unique',
        });
      }
      codes.add(tier.code);
      const previous = program.tiers[index - 1];
      if (previous && tier.minQualifyingPoints <= previous.minQualifyingPoints) {
        ctx.addIssue({
          code: 'custom',
          path: ['tiers', index, 'minQualifyingPoints'],
          message: 'tiers must be ordered by strictly increasing minQualifyingPoints',
        });
      }
    });
    if (program.tiers[0] && program.tiers[0].minQualifyingPoints !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['tiers', 0, 'minQualifyingPoints'],
        message: 'the first tier is the entry tier and must start at 0',
      });
    }
    // Pending points must become available before they can expire (a month has at least 28 days).
    if (program.expiryMonths !== null && program.pendingDays >= 28 * program.expiryMonths) {
      ctx.addIssue({
        code: 'custom',
        path: ['pendingDays'],
        message: `must be less than ${28 * program.expiryMonths} days, or points would expire before they are available`,
      });
    }
    if (program.churnRiskBands.high > program.churnRiskBands.medium) {
      ctx.addIssue({
        code: 'custom',
        path: ['churnRiskBands', 'high'],
        message: 'the high-risk threshold must not exceed the medium-risk threshold',
      });
    }
  });

export type Program = z.infer<typeof programSchema>;
export type Tier = z.infer<typeof tierSchema>;

export const programResponse = programSchema.and(z.object({ updatedAt: z.string().nullable() }));

/** What a fresh installation starts with until an admin PUTs its own program. */
export const defaultProgram: Program = {
  name: 'Loyalty program',
  currency: 'USD',
  pointValueMinor: 1,
  expiryMonths: 24,
  expiryNoticeDays: 30,
  pendingDays: 0,
  tierWindowMonths: 12,
  tiers: [
    { code: 'member', name: 'Member', minQualifyingPoints: 0, earnMultiplier: 1 },
    { code: 'silver', name: 'Silver', minQualifyingPoints: 5_000, earnMultiplier: 1.25 },
    { code: 'gold', name: 'Gold', minQualifyingPoints: 20_000, earnMultiplier: 1.5 },
  ],
  activityRules: { referral: 500, review: 50, survey: 25 },
  churnRiskBands: { high: 0.3, medium: 0.6 },
  expectedRedemptionRate: 0.8,
  allowNegativeBalance: false,
  holdExpiryMinutes: 30,
  transfersEnabled: true,
  tierDowngradeWarningDays: 30,
  subscriptionGraceDays: 7,
  clvMarginRate: 0.3,
  clvAnnualDiscountRate: 0.1,
  clvHorizonMonths: 12,
};
