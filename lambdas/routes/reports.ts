import * as reports from '../schemas/reports.ts';
import { FINANCE, REPORT_READERS } from './access.ts';
import type { RouteSpec } from './spec.ts';

/** The routes of the `reports` group: its function bundles these schemas and no others. */
export const reportsRoutes = [
  {
    operationId: 'getSettlementReport',
    method: 'GET',
    path: '/v1/reports/settlement',
    group: 'reports',
    summary: 'Partner settlement: funding owed, reimbursement owed, net (JSON or CSV)',
    access: { roles: REPORT_READERS, scope: 'reports:read' },
    successStatus: 200,
    query: reports.settlementQuery,
    response: reports.settlementResponse,
    // An unknown partnerId is a 404, not an empty report.
    alsoAnswers: ['404'],
  },
  {
    operationId: 'getLiabilityReport',
    method: 'GET',
    path: '/v1/reports/liability',
    group: 'reports',
    summary:
      'Points liability at the end of a day: outstanding, pending and held points, value, net of breakage, by partner (FIFO) and expiry month (JSON or CSV)',
    access: { roles: REPORT_READERS, scope: 'reports:read' },
    successStatus: 200,
    query: reports.liabilityQuery,
    response: reports.liabilityResponse,
    // An unknown partnerId is a 404, not an empty report.
    alsoAnswers: ['404'],
  },
  {
    operationId: 'getRollForwardReport',
    method: 'GET',
    path: '/v1/reports/roll-forward',
    group: 'reports',
    summary:
      'Points roll-forward: opening, every movement, closing, for a period and each of its months (JSON or CSV)',
    access: { roles: FINANCE },
    successStatus: 200,
    query: reports.rollForwardQuery,
    response: reports.rollForwardResponse,
  },
  {
    operationId: 'getDeferredRevenueReport',
    method: 'GET',
    path: '/v1/reports/deferred-revenue',
    group: 'reports',
    summary:
      'IFRS 15 deferred revenue of points: allocation per monthly cohort, revenue recognised on redemption, deferred balance (JSON or CSV)',
    access: { roles: FINANCE },
    successStatus: 200,
    query: reports.deferredRevenueQuery,
    response: reports.deferredRevenueResponse,
  },
  {
    operationId: 'getKpiReport',
    method: 'GET',
    path: '/v1/reports/kpis',
    group: 'reports',
    summary:
      'Monthly KPIs: active, new, retained and repeat members, redemption rate, NPS, CLV, paid membership, by partner or channel (JSON or CSV)',
    access: { roles: REPORT_READERS, scope: 'reports:read' },
    successStatus: 200,
    query: reports.kpiQuery,
    response: reports.kpiResponse,
  },
  {
    operationId: 'getSubscriptionReport',
    method: 'GET',
    path: '/v1/reports/subscriptions',
    group: 'reports',
    summary: 'Paid membership figures: states and MRR at the end of a period, its transitions and revenue',
    access: { roles: FINANCE },
    successStatus: 200,
    query: reports.subscriptionReportQuery,
    response: reports.subscriptionReportResponse,
  },
] as const satisfies readonly RouteSpec[];
