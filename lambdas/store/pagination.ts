import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../domain/errors.ts';
import type { Store } from './client.ts';

/** Opaque list cursors: the DynamoDB LastEvaluatedKey, base64url-encoded JSON. */
export function encodeCursor(lastKey: Record<string, unknown> | undefined): string | null {
  return lastKey ? Buffer.from(JSON.stringify(lastKey)).toString('base64url') : null;
}

/** What each key attribute of a cursor must be: exactly this value, or a value with this prefix. */
export type CursorRules = Record<string, string | { prefix: string }>;

/**
 * Decode a cursor and check that it is a position inside the list being read: exactly the key
 * attributes of that list, the same partition, sort keys of the listed entity. A cursor from
 * another list, or a forged one, is a 400: never a DynamoDB error, never a way into other data.
 */
export function decodeCursor(
  cursor: string | undefined,
  rules: CursorRules,
): Record<string, string> | undefined {
  if (cursor === undefined) return undefined;
  const invalid = () =>
    new ValidationError([{ path: 'query.cursor', message: 'is not a cursor this list returned' }]);
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) throw invalid();
  const record = decoded as Record<string, unknown>;
  if (Object.keys(record).length !== Object.keys(rules).length) throw invalid();
  for (const [name, rule] of Object.entries(rules)) {
    const value = Object.hasOwn(record, name) ? record[name] : undefined;
    if (typeof value !== 'string' || value.length === 0 || value.length > 1024) throw invalid();
    const ok =
      typeof rule === 'string'
        ? value === rule
        : value.startsWith(rule.prefix) && value.length > rule.prefix.length;
    if (!ok) throw invalid();
  }
  return record as Record<string, string>;
}

/**
 * One page of the items of a partition whose sort keys start with `skPrefix` (partners, API keys):
 * the small, admin-sized lists that live in a single partition.
 */
export async function listPartition<T>(
  store: Store,
  partition: { pk: string; skPrefix: string },
  page: { limit: number; cursor: string | undefined },
  map: (item: Record<string, unknown>) => T,
): Promise<{ items: T[]; nextCursor: string | null }> {
  const { pk, skPrefix } = partition;
  const result = await store.db.send(
    new QueryCommand({
      TableName: store.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': pk, ':prefix': skPrefix },
      Limit: page.limit,
      ExclusiveStartKey: decodeCursor(page.cursor, { pk, sk: { prefix: skPrefix } }),
    }),
  );
  return { items: (result.Items ?? []).map(map), nextCursor: encodeCursor(result.LastEvaluatedKey) };
}
