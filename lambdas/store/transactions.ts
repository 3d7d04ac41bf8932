import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Store } from './client.ts';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface CancellationReason {
  code: string;
  /** The item as it was, when the operation asked for ALL_OLD on a failed condition. */
  item?: Record<string, unknown>;
}

/** A transaction DynamoDB refused, with one reason per item in request order. */
export class TransactionCancelledError extends Error {
  readonly reasons: CancellationReason[];
  constructor(reasons: CancellationReason[], cause: unknown) {
    super(`transaction cancelled: ${reasons.map((reason) => reason.code).join(', ')}`, { cause });
    this.name = 'TransactionCancelledError';
    this.reasons = reasons;
  }

  failedAt(index: number): CancellationReason | undefined {
    const reason = this.reasons[index];
    return reason && reason.code === 'ConditionalCheckFailed' ? reason : undefined;
  }

  /** Another transaction touched the same item (AWS reports TransactionConflict; retry). */
  get isConflict(): boolean {
    return this.reasons.some((reason) => reason.code === 'TransactionConflict');
  }
}

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
