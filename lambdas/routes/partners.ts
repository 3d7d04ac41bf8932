import { listOf } from '../schemas/common.ts';
import * as members from '../schemas/members.ts';
import * as partners from '../schemas/partners.ts';
import { ADMIN, ADMIN_PARTNER } from './access.ts';
import type { RouteSpec } from './spec.ts';

/** The routes of the `partners` group: its function bundles these schemas and no others. */
export const partnersRoutes = [
  {
    operationId: 'createPartner',
    method: 'POST',
    path: '/v1/partners',
    group: 'partners',
    summary: 'Add a partner brand to the coalition',
    access: { roles: ADMIN },
    idempotency: 'optional',
    successStatus: 201,
    body: partners.createPartnerBody,
    example: {
      id: 'acme-grocer',
      name: 'ACME Grocer',
      earnRule: { pointsPerUnit: 1, unitMinor: 100 },
      categoryMultipliers: { fresh: 2 },
      fundingRateMinor: 1,
      reimbursementRateMinor: 1,
    },
    response: partners.partnerResponse,
  },
  {
    operationId: 'listPartners',
    method: 'GET',
    path: '/v1/partners',
    group: 'partners',
    summary: 'List partners (a partner key sees only itself)',
    access: { roles: ADMIN_PARTNER },
    successStatus: 200,
    query: members.transactionsQuery.pick({ limit: true, cursor: true }),
    response: listOf(partners.partnerResponse),
  },
  {
    operationId: 'getPartner',
    method: 'GET',
    path: '/v1/partners/{partnerId}',
    group: 'partners',
    summary: 'Read a partner',
    access: { roles: ADMIN_PARTNER },
    successStatus: 200,
    params: partners.partnerParams,
    response: partners.partnerResponse,
  },
  {
    operationId: 'updatePartner',
    method: 'PATCH',
    path: '/v1/partners/{partnerId}',
    group: 'partners',
    summary: 'Change a partner',
    access: { roles: ADMIN },
    successStatus: 200,
    params: partners.partnerParams,
    body: partners.updatePartnerBody,
    response: partners.partnerResponse,
  },
] as const satisfies readonly RouteSpec[];
