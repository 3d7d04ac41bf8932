import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { addCounters, monthsBetween, type SettlementCounters, zeroCounters } from '../domain/settlement.ts';
import type { Store } from './client.ts';
import { keys } from './keys.ts';

/**
 * Sum a partner's day counters over [from, to] (days inclusive): one Query per month, reading at
 * most 16 shard items per day, whatever the number of members or transactions.
 */
export async function partnerCounters(
  store: Store,
  partnerId: string,
  from: string,
  to: string,
): Promise<SettlementCounters> {
  const total = zeroCounters();
  for (const month of monthsBetween(from, to)) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await store.db.send(
        new QueryCommand({
          TableName: store.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': keys.aggregatePartition(partnerId, month),
            ':from': `${from}#`,
            ':to': `${to}#~`,
          },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) addCounters(total, item as Partial<SettlementCounters>);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
  return total;
}
