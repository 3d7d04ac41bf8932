import { createRouteGroup } from '../http/route-group.ts';
import { analyticsRoutes } from '../routes/analytics.ts';
import { fitChurnModel, memberAnalytics, readChurnModel } from '../services/analytics.ts';
import { atRiskMembers, segments } from '../services/segments.ts';

export const handler = createRouteGroup(analyticsRoutes, {
  fitChurnModel: (input, ctx) => fitChurnModel(ctx, input.body),
  getChurnModel: (_input, ctx) => readChurnModel(ctx),
  getMemberAnalytics: (input, ctx) => memberAnalytics(ctx, input.params.memberId),
  getSegments: (input, ctx) => segments(ctx, input.query),
  listAtRiskMembers: (input, ctx) => atRiskMembers(ctx, input.query),
});
