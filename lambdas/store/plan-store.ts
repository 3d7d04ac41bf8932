import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../domain/errors.ts';
import type { PlanTerms } from '../domain/subscriptions.ts';
import type { Plan, UpdatePlanBody } from '../schemas/subscriptions.ts';
import type { Store } from './client.ts';
import { keys } from './keys.ts';
import { listPartition } from './pagination.ts';
import { patchExisting } from './patch.ts';
import type { TransactItem } from './transactions.ts';

export function planFromItem(item: Record<string, unknown>): Plan {
  const { pk: _pk, sk: _sk, entity: _entity, ...plan } = item;
  return { ...(plan as unknown as Plan), retiredAt: (plan.retiredAt as string | undefined) ?? null };
}

/** What a plan offers a subscriber's next period. */
export function termsOf(plan: Plan): PlanTerms {
  return {
    planId: plan.id,
    priceMinor: plan.priceMinor,
    interval: plan.interval,
    benefits: plan.benefits,
  };
}

export function putNewPlan(store: Store, plan: Plan): TransactItem {
  return {
    Put: {
      TableName: store.tableName,
      Item: { ...keys.plan(plan.id), entity: 'plan', ...plan },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

export async function getPlan(store: Store, planId: string): Promise<Plan | undefined> {
  const { Item } = await store.db.send(
    new GetCommand({ TableName: store.tableName, Key: keys.plan(planId), ConsistentRead: true }),
  );
  return Item ? planFromItem(Item) : undefined;
}

export function listPlans(
  store: Store,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: Plan[]; nextCursor: string | null }> {
  return listPartition(
    store,
    { pk: keys.plansPartition(), skPrefix: keys.planSkPrefix() },
    { limit, cursor },
    planFromItem,
  );
}

/** Every plan (a program has a handful): what a renewal or a payment prices periods with. */
export async function allPlans(store: Store): Promise<Map<string, Plan>> {
  const plans = new Map<string, Plan>();
  let cursor: string | undefined;
  do {
    const page = await listPlans(store, 100, cursor);
    for (const plan of page.items) plans.set(plan.id, plan);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return plans;
}

export async function updatePlan(
  store: Store,
  planId: string,
  changes: UpdatePlanBody & { retiredAt?: string | null },
  now: string,
): Promise<Plan> {
  const item = await patchExisting(store, keys.plan(planId), changes, now);
  if (!item) throw new NotFoundError(`No plan ${planId}.`);
  return planFromItem(item);
}
