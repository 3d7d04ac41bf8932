import type { RouteSpec } from './spec.ts';

/** The routes of the `health` group: its function bundles these schemas and no others. */
export const healthRoutes = [
  {
    operationId: 'getHealth',
    method: 'GET',
    path: '/v1/health',
    group: 'health',
    summary: 'Liveness check',
    access: 'public',
    successStatus: 200,
  },
  {
    operationId: 'getOpenApi',
    method: 'GET',
    path: '/openapi.json',
    group: 'health',
    summary: 'This API described as OpenAPI 3.1',
    access: 'public',
    successStatus: 200,
  },
] as const satisfies readonly RouteSpec[];
