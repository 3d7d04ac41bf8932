import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Store } from './client.ts';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

// The error lives apart from the SDK calls, so code that only recognises it (the problem
// middleware of every function) bundles no DynamoDB client.
export { type CancellationReason, TransactionCancelledError } from './transaction-cancelled.ts';

import { TransactionCancelledError } from './transaction-cancelled.ts';

export async function transactWrite(store: Store, items: TransactItem[]): Promise<void> {
  try {
    await store.db.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    if (error instanceof TransactionCanceledException) {
      const reasons = (error.CancellationReasons ?? []).map((reason) => ({
        code: reason.Code ?? 'None',
        ...(reason.Item ? { item: unmarshall(reason.Item) } : {}),
      }));
      throw new TransactionCancelledError(reasons, error);
    }
    throw error;
  }
}
