import type { Store } from './client.ts';
import { keys } from './keys.ts';
import type { TransactItem } from './transactions.ts';

/**
 * A customer's externalRef guard, claimed by an import on first sight: it also records which of the
 * partner's orderRefs were imported for it, so importing them again changes nothing.
 */
export function putImportGuard(
  store: Store,
  partnerId: string,
  externalRef: string,
  memberId: string,
  orderRefs: string[],
): TransactItem {
  return {
    Put: {
      TableName: store.tableName,
      Item: {
        ...keys.externalRef(partnerId, externalRef),
        entity: 'externalRef',
        memberId,
        ...(orderRefs.length > 0 ? { importedOrders: new Set(orderRefs) } : {}),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** Add imported orderRefs to a known customer's guard, only while it still names this member. */
export function addImportedOrders(
  store: Store,
  partnerId: string,
  externalRef: string,
  memberId: string,
  orderRefs: string[],
): TransactItem {
  return {
    Update: {
      TableName: store.tableName,
      Key: keys.externalRef(partnerId, externalRef),
      UpdateExpression: 'ADD importedOrders :refs',
      ConditionExpression: 'memberId = :member',
      ExpressionAttributeValues: { ':refs': new Set(orderRefs), ':member': memberId },
    },
  };
}
