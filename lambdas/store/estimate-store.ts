import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { RedemptionEstimate } from '../schemas/reports.ts';
import type { Store } from './client.ts';
import { keys } from './keys.ts';
import type { TransactItem } from './transactions.ts';

/** A revision of the expected redemption rate, unique per day it takes effect. */
export function putRedemptionEstimate(store: Store, estimate: RedemptionEstimate): TransactItem {
  return {
    Put: {
      TableName: store.tableName,
      Item: { ...keys.redemptionEstimate(estimate.effectiveFrom), entity: 'redemptionEstimate', ...estimate },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** Every revision, oldest first: a program revises its estimate a few times a year. */
export async function allRedemptionEstimates(store: Store): Promise<RedemptionEstimate[]> {
  const estimates: RedemptionEstimate[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await store.db.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.redemptionEstimatesPartition() },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      estimates.push({
        effectiveFrom: String(item.effectiveFrom),
        expectedRedemptionRate: Number(item.expectedRedemptionRate),
        createdAt: String(item.createdAt),
      });
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return estimates;
}
