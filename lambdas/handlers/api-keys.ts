import { createRouteGroup } from '../http/route-group.ts';
import { apiKeysRoutes } from '../routes/api-keys.ts';
import { createKey, listKeys, revokeKey } from '../services/api-keys.ts';

export const handler = createRouteGroup(apiKeysRoutes, {
  createApiKey: (input, ctx) => createKey(ctx, input.body),
  listApiKeys: (input, ctx) => listKeys(ctx, input.query),
  revokeApiKey: (input, ctx) => revokeKey(ctx, input.params.keyId),
});
