import * as z from 'zod';
import { boundedRecord, multiplier, positiveInt, slug, text } from './common.ts';

const rate = z.int().min(0).max(1000);

export const earnRuleSchema = z.strictObject({
  pointsPerUnit: multiplier.pipe(z.number().positive()),
  unitMinor: positiveInt,
});

const partnerFields = {
  name: text(120),
  earnRule: earnRuleSchema,
  categoryMultipliers: boundedRecord(multiplier).optional(),
  // Per point, in minor units; ≤ 1000 keeps points × rate exact (≤ 10¹⁵) for any transaction.
  fundingRateMinor: rate,
  reimbursementRateMinor: rate,
  status: z.enum(['active', 'suspended']).default('active'),
};

export const createPartnerBody = z.strictObject({ id: slug, ...partnerFields });

export const updatePartnerBody = z
  .strictObject({
    name: partnerFields.name,
    earnRule: partnerFields.earnRule,
    categoryMultipliers: boundedRecord(multiplier),
    fundingRateMinor: partnerFields.fundingRateMinor,
    reimbursementRateMinor: partnerFields.reimbursementRateMinor,
    status: z.enum(['active', 'suspended']),
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, 'send at least one field to change');

export const partnerParams = z.strictObject({ partnerId: slug });

export const partnerResponse = z.object({
  id: slug,
  name: z.string(),
  earnRule: earnRuleSchema,
  categoryMultipliers: z.record(z.string(), z.number()),
  fundingRateMinor: z.int(),
  reimbursementRateMinor: z.int(),
  status: z.enum(['active', 'suspended']),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export type CreatePartnerBody = z.infer<typeof createPartnerBody>;
export type UpdatePartnerBody = z.infer<typeof updatePartnerBody>;
export type Partner = z.infer<typeof partnerResponse>;
