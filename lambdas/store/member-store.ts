import { BatchGetCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { TooManyConcurrentUpdatesError } from '../domain/errors.ts';
import type { MemberPoints } from '../domain/member-ledger.ts';
import type { Store } from './client.ts';
import { keys } from './keys.ts';
import type { TransactItem } from './transactions.ts';

/** The one item that holds a member's profile and points position; `version` orders every change. */
export interface MemberRecord {
  id: string;
  status: 'active' | 'erased';
  version: number;
  points: MemberPoints;
  email: string | null;
  name: string | null;
  channel: string | null;
  /** externalRef per namespace (a partner id, or `_coalition` for admin-created refs). */
  externalRefs: Record<string, string>;
  enrolledAt: string;
  createdAt: string;
  updatedAt: string;
}

export function memberFromItem(item: Record<string, unknown>): MemberRecord {
  const { pk: _pk, sk: _sk, entity: _entity, ...record } = item;
  return record as unknown as MemberRecord;
}

export function putNewMember(store: Store, member: MemberRecord): TransactItem {
  return {
    Put: {
      TableName: store.tableName,
      Item: { ...keys.member(member.id), entity: 'member', ...member },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** Claims an externalRef in a namespace; fails if another member holds it. */
export function putExternalRef(
  store: Store,
  namespace: string,
  externalRef: string,
  memberId: string,
): TransactItem {
  return {
    Put: {
      TableName: store.tableName,
      Item: { ...keys.externalRef(namespace, externalRef), entity: 'externalRef', memberId },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/**
 * Write a member's new points position, only if nobody changed the member since it was read
 * (optimistic concurrency: the caller re-reads and recomputes when this condition fails).
 */
export function updateMemberPoints(
  store: Store,
  member: MemberRecord,
  points: MemberPoints,
  now: string,
): TransactItem {
  return {
    Update: {
      TableName: store.tableName,
      Key: keys.member(member.id),
      UpdateExpression: 'SET points = :points, version = :next, updatedAt = :now',
      ConditionExpression: 'version = :version AND #status = :active',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':points': points,
        ':next': member.version + 1,
        ':version': member.version,
        ':now': now,
        ':active': 'active',
      },
    },
  };
}

export async function getMember(store: Store, memberId: string): Promise<MemberRecord | undefined> {
  const { Item } = await store.db.send(
    new GetCommand({ TableName: store.tableName, Key: keys.member(memberId), ConsistentRead: true }),
  );
  return Item ? memberFromItem(Item) : undefined;
}

export async function findMemberIdByExternalRef(
  store: Store,
  namespace: string,
  externalRef: string,
): Promise<string | undefined> {
  const { Item } = await store.db.send(
    new GetCommand({
      TableName: store.tableName,
      Key: keys.externalRef(namespace, externalRef),
      ConsistentRead: true,
    }),
  );
  return Item ? String(Item.memberId) : undefined;
}

/**
 * Read several items in one round trip (strongly consistent): the hot path reads the member, the
 * program and the partner together. Returns items by `pk|sk`.
 */
export async function batchGet(
  store: Store,
  itemKeys: { pk: string; sk: string }[],
): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  let pending: Record<string, unknown>[] = itemKeys;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * 2 ** attempt));
    if (attempt > 6)
      throw new TooManyConcurrentUpdatesError(
        'DynamoDB is throttling reads. Retry shortly with the same Idempotency-Key.',
      );
    const result = await store.db.send(
      new BatchGetCommand({
        RequestItems: { [store.tableName]: { Keys: pending, ConsistentRead: true } },
      }),
    );
    for (const item of result.Responses?.[store.tableName] ?? []) found.set(`${item.pk}|${item.sk}`, item);
    pending = result.UnprocessedKeys?.[store.tableName]?.Keys ?? [];
  }
  return found;
}
