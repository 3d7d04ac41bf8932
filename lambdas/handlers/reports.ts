import { createRouteGroup } from '../http/route-group.ts';
import { settlementReport } from '../services/reports.ts';

export const handler = createRouteGroup('reports', {
  getSettlementReport: (input, ctx) => settlementReport(ctx, input.query),
});
