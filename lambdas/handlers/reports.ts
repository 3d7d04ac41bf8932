import { createRouteGroup } from '../http/route-group.ts';
import { settlementReport } from '../services/reports.ts';
import { subscriptionReport } from '../services/subscription-report.ts';

export const handler = createRouteGroup('reports', {
  getSettlementReport: (input, ctx) => settlementReport(ctx, input.query),
  getSubscriptionReport: (input, ctx) => subscriptionReport(ctx, input.query),
});
