import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Store } from '../../lambdas/store/client.ts';

/** The outbox envelope of an event that is not a ledger entry. */
export interface OutboxEnvelope {
  id: string;
  version: number;
  type: string;
  occurredAt: string;
  memberId?: string;
  partnerId: string | null;
  data: Record<string, unknown> & { effectiveAt?: string };
}

/** Outbox events matching a filter on the envelope (`#event` names it), in table order. */
async function outboxEventsWhere(
  store: Store,
  condition: string,
  names: Record<string, string>,
  values: Record<string, unknown>,
): Promise<OutboxEnvelope[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await store.db.send(
      new ScanCommand({
        TableName: store.tableName,
        FilterExpression: `entity = :event AND ${condition}`,
        ExpressionAttributeNames: { '#event': 'event', ...names },
        ExpressionAttributeValues: { ':event': 'event', ...values },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items.map((item) => item.event as OutboxEnvelope);
}

/** A member's outbox events, oldest first (then by type): what the publisher will send. */
export async function outboxEventsOf(store: Store, memberId: string): Promise<OutboxEnvelope[]> {
  const events = await outboxEventsWhere(store, '#event.memberId = :member', {}, { ':member': memberId });
  return events.sort((a, b) => a.occurredAt.localeCompare(b.occurredAt) || a.type.localeCompare(b.type));
}

/** Every outbox event of one type (e.g. `member.churn_risk.changed`), in table order. */
export function outboxEventsOfType(store: Store, type: string): Promise<OutboxEnvelope[]> {
  return outboxEventsWhere(store, '#event.#type = :type', { '#type': 'type' }, { ':type': type });
}

/** GET /v1/reports/subscriptions with nothing in it. */
export const zeroSubscriptionReport = {
  currency: 'USD',
  trialing: 0,
  active: 0,
  pastDue: 0,
  mrrMinor: 0,
  arrMinor: 0,
  started: 0,
  renewed: 0,
  wentPastDue: 0,
  canceled: 0,
  expired: 0,
  churned: 0,
  revenueMinor: 0,
  bonusPoints: 0,
};
