import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Store } from './client.ts';
import { setClause } from './expressions.ts';

/**
 * Set fields of an existing item (a PATCH) and its `updatedAt`, returning the item as it now is;
 * undefined when there is no such item (nothing is created).
 */
export async function patchExisting(
  store: Store,
  key: { pk: string; sk: string },
  changes: Record<string, unknown>,
  now: string,
): Promise<Record<string, unknown> | undefined> {
  const { set, names, values } = setClause({ ...changes, updatedAt: now });
  try {
    const { Attributes } = await store.db.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: key,
        UpdateExpression: `SET ${set}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes ?? {};
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}
