import * as apiKeys from '../schemas/api-keys.ts';
import { listOf } from '../schemas/common.ts';
import * as members from '../schemas/members.ts';
import { ADMIN } from './access.ts';
import type { RouteSpec } from './spec.ts';

/** The routes of the `apiKeys` group: its function bundles these schemas and no others. */
export const apiKeysRoutes = [
  {
    operationId: 'createApiKey',
    method: 'POST',
    path: '/v1/api-keys',
    group: 'apiKeys',
    summary: 'Create an API key (the secret is shown once)',
    access: { roles: ADMIN },
    idempotency: 'optional',
    successStatus: 201,
    body: apiKeys.createApiKeyBody,
    example: {
      name: 'ACME checkout',
      role: 'partner',
      partnerId: 'acme-grocer',
      scopes: ['members:write', 'points:earn', 'points:redeem'],
    },
    response: apiKeys.createdApiKeyResponse,
  },
  {
    operationId: 'listApiKeys',
    method: 'GET',
    path: '/v1/api-keys',
    group: 'apiKeys',
    summary: 'List API keys (never their secrets)',
    access: { roles: ADMIN },
    successStatus: 200,
    query: members.transactionsQuery.pick({ limit: true, cursor: true }),
    response: listOf(apiKeys.apiKeyResponse),
  },
  {
    operationId: 'revokeApiKey',
    method: 'DELETE',
    path: '/v1/api-keys/{keyId}',
    group: 'apiKeys',
    summary: 'Revoke an API key; it fails with 401 from the next request on',
    access: { roles: ADMIN },
    successStatus: 200,
    params: apiKeys.apiKeyParams,
    response: apiKeys.apiKeyResponse,
  },
] as const satisfies readonly RouteSpec[];
