import * as z from 'zod';
import { idParam, roles, scopes, slug, text } from './common.ts';

export const createApiKeyBody = z
  .strictObject({
    name: text(120),
    role: z.enum(roles),
    partnerId: slug.optional(),
    scopes: z.array(z.enum(scopes)).min(1).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.role === 'partner' && body.partnerId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['partnerId'], message: 'required when role is partner' });
    }
    if (body.role !== 'partner' && body.partnerId !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['partnerId'],
        message: 'only partner keys are bound to a partner',
      });
    }
    if (body.role !== 'partner' && body.scopes !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['scopes'], message: 'scopes narrow partner keys only' });
    }
  });

export const apiKeyParams = z.strictObject({ keyId: idParam('key') });

export const apiKeyResponse = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(roles),
  partnerId: z.string().nullable(),
  scopes: z.array(z.enum(scopes)),
  last4: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

export const createdApiKeyResponse = apiKeyResponse.extend({ key: z.string().nullable() });

export type CreateApiKeyBody = z.infer<typeof createApiKeyBody>;
export type ApiKeyView = z.infer<typeof apiKeyResponse>;
