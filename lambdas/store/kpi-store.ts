import { monthOf } from '../domain/time.ts';
import type { Store } from './client.ts';
import { counterShardOf, keys } from './keys.ts';
import type { TransactItem } from './transactions.ts';

/**
 * Add to the KPI counters of an activity's month on the member's shard (ADD commutes: no read, no
 * condition). None when there is nothing to add: most purchases are not a member's first of the
 * month, so most earns write no KPI item at all.
 */
export function kpiItemsOf(
  store: Store,
  memberId: string,
  occurredAt: string,
  counters: Record<string, number>,
): TransactItem[] {
  const entries = Object.entries(counters).filter(([, value]) => value !== 0);
  if (entries.length === 0) return [];
  return [
    {
      Update: {
        TableName: store.tableName,
        Key: keys.kpi(monthOf(occurredAt), counterShardOf(memberId)),
        UpdateExpression: `SET entity = :entity ADD ${entries.map((_, i) => `#k${i} :k${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(entries.map(([name], i) => [`#k${i}`, name])),
        ExpressionAttributeValues: {
          ':entity': 'kpi',
          ...Object.fromEntries(entries.map(([, value], i) => [`:k${i}`, value])),
        },
      },
    },
  ];
}
