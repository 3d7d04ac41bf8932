import * as jobs from '../schemas/jobs.ts';
import { ADMIN } from './access.ts';
import type { RouteSpec } from './spec.ts';

/** The routes of the `jobs` group: its function bundles these schemas and no others. */
export const jobsRoutes = [
  {
    operationId: 'runJob',
    method: 'POST',
    path: '/v1/jobs/{name}',
    group: 'jobs',
    summary: 'Run a lifecycle job as of an instant (idempotent per job and asOf day, resumable)',
    access: { roles: ADMIN },
    successStatus: 200,
    params: jobs.jobParams,
    body: jobs.jobBody,
    example: {},
    response: jobs.jobResponse,
  },
] as const satisfies readonly RouteSpec[];
