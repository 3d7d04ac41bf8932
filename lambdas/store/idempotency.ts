import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { IdempotencyKeyReusedError } from '../domain/errors.ts';
import type { Store } from './client.ts';
import { keys } from './keys.ts';
import { ledgerResponseBody } from './ledger-store.ts';
import type { TransactItem } from './transactions.ts';

/** Who asked, with which key, for exactly what (hash of method, path and canonical body). */
export interface IdempotencyRequest {
  scope: string;
  key: string;
  requestHash: string;
}

/** A response as first sent: replays return these exact bytes. */
export interface StoredResponse {
  status: number;
  body: string;
}

/** Non-ledger records (created resources) are kept 7 days, beyond the 24 h the contract promises. */
export const IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600;

/**
 * The conditional put that makes a request idempotent. It goes into the same transaction as the
 * change it guards; `attributes` lets a ledger entry be that record itself.
 */
export function putIdempotencyRecord(
  store: Store,
  request: IdempotencyRequest,
  /** A ledger entry stores no body: `replayOf` renders it from the entry's own attributes. */
  response: { status: number; body?: string },
  attributes: Record<string, unknown> & { createdAt: string },
  expires: boolean,
): TransactItem {
  return {
    Put: {
      TableName: store.tableName,
      Item: {
        ...keys.idempotency(request.scope, request.key),
        ...attributes,
        requestHash: request.requestHash,
        responseStatus: response.status,
        ...(response.body === undefined ? {} : { responseBody: response.body }),
        ...(expires
          ? { ttl: Math.floor(Date.parse(attributes.createdAt) / 1000) + IDEMPOTENCY_TTL_SECONDS }
          : {}),
      },
      // An existing record means this is a replay (or a key reused for another request).
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** The stored response for a record, or 422 when the key was first used for a different request. */
export function replayOf(record: Record<string, unknown>, request: IdempotencyRequest): StoredResponse {
  if (record.requestHash !== request.requestHash) throw new IdempotencyKeyReusedError();
  const body = typeof record.responseBody === 'string' ? record.responseBody : ledgerResponseBody(record);
  return { status: Number(record.responseStatus), body };
}

export async function findReplay(
  store: Store,
  request: IdempotencyRequest,
): Promise<StoredResponse | undefined> {
  const { Item } = await store.db.send(
    new GetCommand({
      TableName: store.tableName,
      Key: keys.idempotency(request.scope, request.key),
      ConsistentRead: true,
    }),
  );
  return Item ? replayOf(Item, request) : undefined;
}
