import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DueDates } from '../domain/due.ts';
import { TooManyConcurrentUpdatesError } from '../domain/errors.ts';
import { type MemberPoints, memberPointsOf } from '../domain/member-ledger.ts';
import type { BalanceCut, BalanceFigures } from '../domain/position.ts';
import type { PurchaseHistory } from '../domain/purchase-history.ts';
import type { ChurnView } from '../schemas/analytics.ts';
import type { Store } from './client.ts';
import { setClause } from './expressions.ts';
import { type DueKind, dueIndexOf, keys, shardOf } from './keys.ts';
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
  erasedAt: string | null;
  /** The due index attributes as stored (gsi4pk…gsi8sk): a job rewrites them only if they moved. */
  indexed: Record<string, string>;
  /** The partner whose key (or import) enrolled the member (null: an admin): its member.enrolled. */
  enrolledBy?: string | null;
  /** `import` for members created on first sight by an import (absent: the API). */
  enrolledVia?: 'import';
  /** What the churn model reads: purchase days and spend (absent until the first purchase). */
  purchases?: PurchaseHistory | null;
  /** The churn-scan job's last scores (absent until scored; null once erased). */
  churn?: ChurnView | null;
  /** Balances at the start of the latest posting days it was written on (for reconciliation). */
  balanceCuts?: BalanceCut[];
  /** The latest purchase day per KPI group (`all`, `p:<partner>`, `c:<channel>`), `*` once a repeat. */
  activity?: Record<string, string>;
}

const DUE_ATTRIBUTES = (['expire', 'notice', 'mature', 'review', 'warn'] as const).flatMap((kind) => [
  `${dueIndexOf[kind]}pk`,
  `${dueIndexOf[kind]}sk`,
]);

export function memberFromItem(item: Record<string, unknown>): MemberRecord {
  const { pk: _pk, sk: _sk, entity: _entity, ...record } = item;
  const indexed: Record<string, string> = {};
  for (const name of DUE_ATTRIBUTES) {
    if (typeof record[name] === 'string') indexed[name] = record[name];
    delete record[name];
  }
  // The feed entry of its enrolment is written once, with the member, and never changes.
  for (const name of ['gsi9pk', 'gsi9sk', 'gsi10pk', 'gsi10sk']) delete record[name];
  // The at-risk index entry is the churn scan's, kept with the scores.
  for (const name of ['gsi11pk', 'gsi11sk']) delete record[name];
  const stored = record as unknown as MemberRecord;
  return {
    ...stored,
    erasedAt: stored.erasedAt ?? null,
    points: memberPointsOf(stored.points),
    indexed,
  };
}

/** The due index attributes of a member whose position has these due dates. */
export function dueIndexAttributes(memberId: string, dates: DueDates): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [kind, date] of Object.entries(dates) as [Exclude<DueKind, 'hold'>, string | null][]) {
    if (date !== null) Object.assign(attributes, keys.due(kind, shardOf(memberId), date, memberId));
  }
  return attributes;
}

/** Whether writing `attributes` would change the member's due index entries. */
export function indexMoved(member: MemberRecord, attributes: Record<string, string>): boolean {
  return DUE_ATTRIBUTES.some((name) => member.indexed[name] !== attributes[name]);
}

export function putNewMember(store: Store, member: MemberRecord): TransactItem {
  const { indexed, ...stored } = member;
  return {
    Put: {
      TableName: store.tableName,
      Item: {
        ...keys.member(member.id),
        entity: 'member',
        ...stored,
        ...indexed,
        // Its insert is its member.enrolled event: listed in the events feed under that event's id.
        ...keys.feed(`evt_${member.id.slice('mem_'.length)}`, member.enrolledBy),
      },
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

export interface MemberUpdate {
  points: MemberPoints;
  /** The due index attributes for the new position (absent ones are removed). */
  indexed: Record<string, string>;
  /** Further attributes to set (erasure: status, profile). */
  set?: Record<string, unknown>;
}

/**
 * Write a member's new points position and due index entries, only if nobody changed the member
 * since it was read (optimistic concurrency: the caller re-reads and recomputes when this
 * condition fails) and it is still active.
 */
export function updateMember(
  store: Store,
  member: MemberRecord,
  update: MemberUpdate,
  now: string,
): TransactItem {
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = {
    ':points': update.points,
    ':next': member.version + 1,
    ':version': member.version,
    ':now': now,
    ':active': 'active',
  };
  const sets = ['points = :points', 'version = :next', 'updatedAt = :now'];
  const extra = { ...update.indexed, ...update.set };
  Object.entries(extra).forEach(([name, value], i) => {
    names[`#a${i}`] = name;
    values[`:a${i}`] = value;
    sets.push(`#a${i} = :a${i}`);
  });
  const removed = DUE_ATTRIBUTES.filter((name) => !(name in update.indexed));
  // Scores cleared (erasure): the member leaves the at-risk index with them.
  if (update.set?.churn === null) removed.push('gsi11pk', 'gsi11sk');
  removed.forEach((name, i) => {
    names[`#r${i}`] = name;
  });
  return {
    Update: {
      TableName: store.tableName,
      Key: keys.member(member.id),
      UpdateExpression: `SET ${sets.join(', ')}${removed.length ? ` REMOVE ${removed.map((_, i) => `#r${i}`).join(', ')}` : ''}`,
      ConditionExpression: 'version = :version AND #status = :active',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

/** A member's purchase history replaced (an import), at the version it was computed from. */
export function setPurchases(
  store: Store,
  member: MemberRecord,
  purchases: PurchaseHistory,
  now: string,
): TransactItem {
  return {
    Update: {
      TableName: store.tableName,
      Key: keys.member(member.id),
      UpdateExpression: 'SET purchases = :purchases, version = :next, updatedAt = :now',
      ConditionExpression: 'version = :version AND #status = :active',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':purchases': purchases,
        ':next': member.version + 1,
        ':version': member.version,
        ':now': now,
        ':active': 'active',
      },
    },
  };
}

/** Releases an externalRef (erasure), only if it still names this member. */
export function deleteExternalRef(
  store: Store,
  namespace: string,
  externalRef: string,
  memberId: string,
): TransactItem {
  return {
    Delete: {
      TableName: store.tableName,
      Key: keys.externalRef(namespace, externalRef),
      ConditionExpression: 'memberId = :member',
      ExpressionAttributeValues: { ':member': memberId },
    },
  };
}

/**
 * Set profile fields of an active member (null clears one). False when there is no active member:
 * it is missing or erased. The points and their version are not touched.
 */
export async function updateProfile(
  store: Store,
  memberId: string,
  changes: Record<string, unknown>,
  now: string,
): Promise<boolean> {
  const { set, names, values } = setClause({ ...changes, updatedAt: now });
  try {
    await store.db.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: keys.member(memberId),
        UpdateExpression: `SET ${set}`,
        ConditionExpression: 'attribute_exists(pk) AND #status = :active',
        ExpressionAttributeNames: { ...names, '#status': 'status' },
        ExpressionAttributeValues: { ...values, ':active': 'active' },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
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
  // BatchGetItem takes at most 100 keys: larger reads go in parallel parts.
  if (itemKeys.length > BATCH_GET_LIMIT) {
    const parts: { pk: string; sk: string }[][] = [];
    for (let i = 0; i < itemKeys.length; i += BATCH_GET_LIMIT)
      parts.push(itemKeys.slice(i, i + BATCH_GET_LIMIT));
    const found = await Promise.all(parts.map((part) => batchGet(store, part)));
    return new Map(found.flatMap((map) => [...map]));
  }
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

const BATCH_GET_LIMIT = 100;

/** What a reconciliation reads of a member: its balances and their cuts, nothing else. */
export interface ScannedBalances {
  key: { pk: string; sk: string };
  id: string;
  balances: BalanceFigures;
  cuts: BalanceCut[];
  createdAt: string;
}

/**
 * One page of one segment of a parallel Scan over every member (erased ones too: their forfeits
 * are in the counters). The filter and projection cut what is returned, not what is read.
 */
export async function scanMemberBalances(
  store: Store,
  options: {
    segment: number;
    segments: number;
    startKey?: Record<string, unknown> | undefined;
    limit: number;
  },
): Promise<{ members: ScannedBalances[]; next: Record<string, unknown> | undefined }> {
  const result = await store.db.send(
    new ScanCommand({
      TableName: store.tableName,
      Segment: options.segment,
      TotalSegments: options.segments,
      ProjectionExpression:
        '#pk, #sk, #id, #points.#available, #points.#pending, #points.#held, #cuts, #createdAt',
      FilterExpression: '#entity = :member',
      ExpressionAttributeNames: {
        '#pk': 'pk',
        '#sk': 'sk',
        '#id': 'id',
        '#points': 'points',
        '#available': 'available',
        '#pending': 'pending',
        '#held': 'held',
        '#cuts': 'balanceCuts',
        '#createdAt': 'createdAt',
        '#entity': 'entity',
      },
      ExpressionAttributeValues: { ':member': 'member' },
      ...(options.startKey ? { ExclusiveStartKey: options.startKey } : {}),
      Limit: options.limit,
    }),
  );
  const members = (result.Items ?? []).map((item) => {
    const points = (item.points ?? {}) as Partial<BalanceFigures>;
    return {
      key: { pk: String(item.pk), sk: String(item.sk) },
      id: String(item.id),
      balances: {
        available: Number(points.available ?? 0),
        pending: Number(points.pending ?? 0),
        held: Number(points.held ?? 0),
      },
      cuts: (item.balanceCuts as BalanceCut[] | undefined) ?? [],
      createdAt: String(item.createdAt),
    };
  });
  return { members, next: result.LastEvaluatedKey };
}
