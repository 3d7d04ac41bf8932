import { createRouteGroup, type Operation } from '../http/route-group.ts';
import type { OperationsOf } from '../routes/manifest.ts';
import { subscriptionsRoutes } from '../routes/subscriptions.ts';
import {
  cancelSubscription,
  changePlan,
  createPlan,
  listPlansFor,
  readMemberSubscription,
  readPlan,
  readSubscription,
  recordPayment,
  subscribe,
  updateSubscription,
} from '../services/subscriptions.ts';

/** The subscriptions group's operations (tests run them over a store of their own). */
export const subscriptionOperations = {
  createPlan: (input, ctx) => createPlan(ctx, input.body),
  listPlans: (input, ctx) => listPlansFor(ctx, input.query),
  getPlan: (input, ctx) => readPlan(ctx, input.params.planId),
  updatePlan: (input, ctx) => changePlan(ctx, input.params.planId, input.body),
  createSubscription: (input, ctx) => subscribe(ctx, input.params.memberId, input.body),
  getMemberSubscription: (input, ctx) => readMemberSubscription(ctx, input.params.memberId),
  getSubscription: (input, ctx) => readSubscription(ctx, input.params.subscriptionId),
  updateSubscription: (input, ctx) => updateSubscription(ctx, input.params.subscriptionId, input.body),
  recordSubscriptionPayment: (input, ctx) => recordPayment(ctx, input.params.subscriptionId, input.body),
  cancelSubscription: (input, ctx) => cancelSubscription(ctx, input.params.subscriptionId, input.body),
} satisfies Record<OperationsOf<'subscriptions'>, Operation>;

export const handler = createRouteGroup(subscriptionsRoutes, subscriptionOperations);
