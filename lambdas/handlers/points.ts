import { createRouteGroup, type Operation } from '../http/route-group.ts';
import type { OperationsOf } from '../routes/manifest.ts';
import { pointsRoutes } from '../routes/points.ts';
import { recordActivity } from '../services/activities.ts';
import { adjustPoints } from '../services/adjustments.ts';
import { earnPoints } from '../services/earn.ts';
import { listTransactions } from '../services/history.ts';
import { redeemPoints } from '../services/redeem.ts';
import {
  captureRedemption,
  readRedemption,
  refundRedemption,
  releaseRedemption,
} from '../services/redemptions.ts';
import { reverseOrder, reverseTransaction } from '../services/reverse.ts';
import { transferPoints } from '../services/transfers.ts';

/** The points group's operations (tests run them over a store of their own). */
export const pointsOperations = {
  earnPoints: (input, ctx) => earnPoints(ctx, input.params.memberId, input.body),
  redeemPoints: (input, ctx) => redeemPoints(ctx, input.params.memberId, input.body),
  getRedemption: (input, ctx) => readRedemption(ctx, input.params.redemptionId),
  captureRedemption: (input, ctx) => captureRedemption(ctx, input.params.redemptionId, input.body),
  releaseRedemption: (input, ctx) => releaseRedemption(ctx, input.params.redemptionId),
  refundRedemption: (input, ctx) => refundRedemption(ctx, input.params.redemptionId, input.body),
  reverseTransaction: (input, ctx) => reverseTransaction(ctx, input.params.transactionId, input.body),
  reverseOrder: (input, ctx) => reverseOrder(ctx, input.params.orderRef, input.body),
  adjustPoints: (input, ctx) => adjustPoints(ctx, input.params.memberId, input.body),
  transferPoints: (input, ctx) => transferPoints(ctx, input.params.memberId, input.body),
  recordActivity: (input, ctx) => recordActivity(ctx, input.params.memberId, input.body),
  listTransactions: (input, ctx) => listTransactions(ctx, input.params.memberId, input.query),
} satisfies Record<OperationsOf<'points'>, Operation>;

export const handler = createRouteGroup(pointsRoutes, pointsOperations);
