import { createRouteGroup } from '../http/route-group.ts';
import { reportsRoutes } from '../routes/reports.ts';
import { deferredRevenueReport, liabilityReport, rollForwardReport } from '../services/finance-reports.ts';
import { kpiReport } from '../services/kpi-report.ts';
import { settlementReport } from '../services/reports.ts';
import { subscriptionReport } from '../services/subscription-report.ts';

export const handler = createRouteGroup(reportsRoutes, {
  getSettlementReport: (input, ctx) => settlementReport(ctx, input.query),
  getSubscriptionReport: (input, ctx) => subscriptionReport(ctx, input.query),
  getLiabilityReport: (input, ctx) => liabilityReport(ctx, input.query),
  getRollForwardReport: (input, ctx) => rollForwardReport(ctx, input.query),
  getDeferredRevenueReport: (input, ctx) => deferredRevenueReport(ctx, input.query),
  getKpiReport: (input, ctx) => kpiReport(ctx, input.query),
});
