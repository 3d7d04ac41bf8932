import { createRouteGroup } from '../http/route-group.ts';
import { programRoutes } from '../routes/program.ts';
import { readProgram, replaceProgram } from '../services/program.ts';
import { createRedemptionEstimate, listRedemptionEstimates } from '../services/redemption-estimates.ts';

export const handler = createRouteGroup(programRoutes, {
  getProgram: (_input, ctx) => readProgram(ctx),
  putProgram: (input, ctx) => replaceProgram(ctx, input.body),
  createRedemptionEstimate: (input, ctx) => createRedemptionEstimate(ctx, input.body),
  listRedemptionEstimates: (_input, ctx) => listRedemptionEstimates(ctx),
});
