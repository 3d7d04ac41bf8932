import * as analytics from '../schemas/analytics.ts';
import { listOf } from '../schemas/common.ts';
import * as members from '../schemas/members.ts';
import { ADMIN, FINANCE } from './access.ts';
import type { RouteSpec } from './spec.ts';

/** The routes of the `analytics` group: its function bundles these schemas and no others. */
export const analyticsRoutes = [
  {
    operationId: 'fitChurnModel',
    method: 'POST',
    path: '/v1/analytics/churn-model/fit',
    group: 'analytics',
    summary:
      "Fit the churn model (BG/NBD, Gamma-Gamma) on every active member's purchases up to calibrationEnd, and use it from now on",
    access: { roles: ADMIN },
    successStatus: 200,
    body: analytics.fitChurnModelBody,
    response: analytics.churnModelResponse,
  },
  {
    operationId: 'getChurnModel',
    method: 'GET',
    path: '/v1/analytics/churn-model',
    group: 'analytics',
    summary: 'The churn model in use',
    access: { roles: ADMIN },
    successStatus: 200,
    // Before the first fit.
    alsoAnswers: ['404'],
    response: analytics.churnModelResponse,
  },
  {
    operationId: 'getMemberAnalytics',
    method: 'GET',
    path: '/v1/analytics/members/{memberId}',
    group: 'analytics',
    summary:
      "A member's model inputs, its churn and lifetime value scores computed now, and the last stored scores",
    access: { roles: ADMIN },
    successStatus: 200,
    params: members.memberParams,
    response: analytics.memberAnalyticsResponse,
  },
  {
    operationId: 'getSegments',
    method: 'GET',
    path: '/v1/analytics/segments',
    group: 'analytics',
    summary: 'Members, mean CLV and available points per churn band × tier, from the latest churn scan',
    // Aggregates only (no member ids): finance reads them beside the KPIs, as /console does.
    access: { roles: FINANCE },
    successStatus: 200,
    query: analytics.segmentsQuery,
    response: analytics.segmentsResponse,
  },
  {
    operationId: 'listAtRiskMembers',
    method: 'GET',
    path: '/v1/analytics/members',
    group: 'analytics',
    summary: "One churn band's scored members, highest CLV first, from an index (a campaign's audience)",
    access: { roles: ADMIN },
    successStatus: 200,
    query: analytics.atRiskMembersQuery,
    response: listOf(analytics.atRiskMemberView),
  },
] as const satisfies readonly RouteSpec[];
