import { type AttributeValue, QueryCommand } from '@aws-sdk/client-dynamodb';
import { monthsBetween, type SettlementCounters, zeroCounters } from '../domain/settlement.ts';
import type { Store } from './client.ts';
import { keys } from './keys.ts';

/**
 * Sum a partner's day counters over [from, to] (days inclusive): one Query per month, reading at
 * most 16 shard items per day, whatever the number of members or transactions. Counters are read
 * as exact decimals and summed as BigInt: a busy partner's totals may pass 2^53.
 */
export function partnerCounters(
  store: Store,
  partnerId: string,
  from: string,
  to: string,
): Promise<Record<keyof SettlementCounters, bigint>> {
  return sumCounters(store, partnerId, Object.keys(zeroCounters()) as (keyof SettlementCounters)[], from, to);
}

/** Sum the named day counters of one scope (a partner, or `_coalition`) over [from, to]. */
export async function sumCounters<Name extends string>(
  store: Store,
  scope: string,
  names: readonly Name[],
  from: string,
  to: string,
): Promise<Record<Name, bigint>> {
  const total = Object.fromEntries(names.map((name) => [name, 0n])) as Record<Name, bigint>;
  for (const month of monthsBetween(from, to)) {
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      // The low-level command: numbers come back as strings, so nothing is rounded on the way in.
      const page = await store.db.send(
        new QueryCommand({
          TableName: store.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': { S: keys.aggregatePartition(scope, month) },
            ':from': { S: `${from}#` },
            ':to': { S: `${to}#~` },
          },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        for (const name of names) {
          const value = item[name]?.N;
          if (value !== undefined) total[name] += BigInt(value);
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
  return total;
}
