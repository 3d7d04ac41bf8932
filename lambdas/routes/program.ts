import { listOf } from '../schemas/common.ts';
import * as program from '../schemas/program.ts';
import * as reports from '../schemas/reports.ts';
import { ADMIN, ANY_ROLE, FINANCE } from './access.ts';
import type { RouteSpec } from './spec.ts';

/** The routes of the `program` group: its function bundles these schemas and no others. */
export const programRoutes = [
  {
    operationId: 'getProgram',
    method: 'GET',
    path: '/v1/program',
    group: 'program',
    summary: 'Read the program configuration',
    access: { roles: ANY_ROLE },
    successStatus: 200,
    response: program.programResponse,
  },
  {
    operationId: 'putProgram',
    method: 'PUT',
    path: '/v1/program',
    group: 'program',
    summary: 'Replace the program configuration',
    access: { roles: ADMIN },
    successStatus: 200,
    body: program.programSchema,
    response: program.programResponse,
  },
  {
    operationId: 'createRedemptionEstimate',
    method: 'POST',
    path: '/v1/program/redemption-estimates',
    group: 'program',
    summary: 'Revise the expected redemption rate (IFRS 15) from a day on',
    access: { roles: ADMIN },
    idempotency: 'optional',
    successStatus: 201,
    body: reports.redemptionEstimateBody,
    response: reports.redemptionEstimateResponse,
  },
  {
    operationId: 'listRedemptionEstimates',
    method: 'GET',
    path: '/v1/program/redemption-estimates',
    group: 'program',
    summary: 'Every revision of the expected redemption rate, oldest first',
    access: { roles: FINANCE },
    successStatus: 200,
    response: listOf(reports.redemptionEstimateResponse),
  },
] as const satisfies readonly RouteSpec[];
