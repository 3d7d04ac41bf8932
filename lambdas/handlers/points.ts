import { createRouteGroup } from '../http/route-group.ts';
import { earnPoints } from '../services/earn.ts';
import { listTransactions } from '../services/history.ts';
import { redeemPoints } from '../services/redeem.ts';

export const handler = createRouteGroup('points', {
  earnPoints: (input, ctx) => earnPoints(ctx, input.params.memberId, input.body),
  redeemPoints: (input, ctx) => redeemPoints(ctx, input.params.memberId, input.body),
  listTransactions: (input, ctx) => listTransactions(ctx, input.params.memberId, input.query),
});
