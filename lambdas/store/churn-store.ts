import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { PurchaseHistory } from '../domain/purchase-history.ts';
import type { ChurnModelView, ChurnView } from '../schemas/analytics.ts';
import type { Store } from './client.ts';
import { keys } from './keys.ts';
import type { TransactItem } from './transactions.ts';

/** The stored churn model: what POST /v1/analytics/churn-model/fit answers and GET reads. */
export type ChurnModelRecord = ChurnModelView;

export async function getChurnModel(store: Store): Promise<ChurnModelRecord | undefined> {
  const { Item } = await store.db.send(
    new GetCommand({ TableName: store.tableName, Key: keys.churnModel(), ConsistentRead: true }),
  );
  if (!Item) return undefined;
  const { pk: _pk, sk: _sk, entity: _entity, ...model } = Item;
  return model as ChurnModelRecord;
}

/** Replace the model in use (the latest fit wins). */
export async function putChurnModel(store: Store, model: ChurnModelRecord): Promise<void> {
  await store.db.send(
    new PutCommand({
      TableName: store.tableName,
      Item: { ...keys.churnModel(), entity: 'churnModel', ...model },
    }),
  );
}

/** What a scan reads of a member: its key, state, purchase history and stored scores, nothing else. */
export interface ScannedMember {
  key: { pk: string; sk: string };
  id: string;
  status: 'active' | 'erased';
  purchases: PurchaseHistory | null;
  churn: ChurnView | null;
  /** Its tier and available points as read (the segments' cells). */
  tier: string | null;
  availablePoints: number;
}

const MEMBER_PROJECTION = {
  ProjectionExpression: '#pk, #sk, #id, #status, #purchases, #churn, #points.#tier.#code, #points.#available',
  names: {
    '#points': 'points',
    '#tier': 'tier',
    '#code': 'code',
    '#available': 'available',
    '#pk': 'pk',
    '#sk': 'sk',
    '#id': 'id',
    '#status': 'status',
    '#purchases': 'purchases',
    '#churn': 'churn',
  },
};

function scannedMember(item: Record<string, unknown>): ScannedMember {
  return {
    key: { pk: String(item.pk), sk: String(item.sk) },
    id: String(item.id),
    status: item.status as ScannedMember['status'],
    purchases: (item.purchases as PurchaseHistory | undefined) ?? null,
    churn: (item.churn as ChurnView | undefined) ?? null,
    tier:
      ((item.points as { tier?: { code?: string } } | undefined)?.tier?.code as string | undefined) ?? null,
    availablePoints: Number((item.points as { available?: number } | undefined)?.available ?? 0),
  };
}

type ScanOptions = {
  segment: number;
  segments: number;
  /** A page's LastEvaluatedKey, or the key of a member of this segment already handled. */
  startKey?: Record<string, unknown> | undefined;
  /** Items read (before the filter) per page; default: DynamoDB's 1 MB page. */
  limit?: number;
};

/**
 * One page of one segment of a parallel Scan over the table, keeping active members with a purchase
 * history. The filter and the projection cut what is sent back, not what is read (a Scan reads every
 * item of its segment). The Scan continues after `startKey`.
 */
async function scanActivePurchasers(
  store: Store,
  options: ScanOptions,
  projection: { expression: string; names: Record<string, string> },
): Promise<{ items: Record<string, unknown>[]; next: Record<string, unknown> | undefined }> {
  const result = await store.db.send(
    new ScanCommand({
      TableName: store.tableName,
      Segment: options.segment,
      TotalSegments: options.segments,
      ProjectionExpression: projection.expression,
      FilterExpression: '#entity = :member AND #status = :active AND attribute_exists(#purchases.firstDay)',
      ExpressionAttributeNames: {
        ...projection.names,
        '#entity': 'entity',
        '#status': 'status',
        '#purchases': 'purchases',
      },
      ExpressionAttributeValues: { ':member': 'member', ':active': 'active' },
      ...(options.startKey ? { ExclusiveStartKey: options.startKey } : {}),
      ...(options.limit ? { Limit: options.limit } : {}),
    }),
  );
  return { items: result.Items ?? [], next: result.LastEvaluatedKey };
}

/** What a fit reads: active members' purchase histories, and nothing else of them. */
export async function scanPurchaseHistories(
  store: Store,
  options: ScanOptions,
): Promise<{ histories: PurchaseHistory[]; next: Record<string, unknown> | undefined }> {
  const page = await scanActivePurchasers(store, options, {
    expression: '#purchases',
    names: { '#purchases': 'purchases' },
  });
  return { histories: page.items.map((item) => item.purchases as PurchaseHistory), next: page.next };
}

/** What a churn scan reads: active purchasers' keys, histories and stored scores. */
export async function scanPurchasers(
  store: Store,
  options: ScanOptions,
): Promise<{ members: ScannedMember[]; next: Record<string, unknown> | undefined }> {
  const page = await scanActivePurchasers(store, options, {
    expression: MEMBER_PROJECTION.ProjectionExpression,
    names: MEMBER_PROJECTION.names,
  });
  return { members: page.items.map(scannedMember), next: page.next };
}

/** A member as a scan sees it, read again (strongly consistent) after its write lost a race. */
export async function getScannedMember(store: Store, memberId: string): Promise<ScannedMember | undefined> {
  const { Item } = await store.db.send(
    new GetCommand({
      TableName: store.tableName,
      Key: keys.member(memberId),
      ProjectionExpression: MEMBER_PROJECTION.ProjectionExpression,
      ExpressionAttributeNames: MEMBER_PROJECTION.names,
      ConsistentRead: true,
    }),
  );
  return Item ? scannedMember(Item) : undefined;
}

/**
 * Set a member's scores, only if it is still active and its stored scores are still those read
 * (compare-and-set: two scans cannot both decide a band change). Points and `version` are not
 * touched: scores are not a change of the member's position.
 */
function churnUpdate(memberId: string, churn: ChurnView, previous: ChurnView | null) {
  const index = keys.churnIndex(memberId, churn.risk, churn.clvMinor);
  return {
    Key: keys.member(memberId),
    // The scores, and the member's place in the at-risk index (band, CLV).
    UpdateExpression: 'SET #churn = :churn, gsi11pk = :indexPk, gsi11sk = :indexSk',
    ConditionExpression: previous
      ? 'attribute_exists(pk) AND #status = :active AND #churn.#risk = :risk AND #churn.#scoredAt = :scoredAt'
      : 'attribute_exists(pk) AND #status = :active AND attribute_not_exists(#churn.#risk)',
    ExpressionAttributeNames: {
      '#churn': 'churn',
      '#status': 'status',
      ...(previous ? { '#risk': 'risk', '#scoredAt': 'scoredAt' } : { '#risk': 'risk' }),
    },
    ExpressionAttributeValues: {
      ':churn': churn,
      ':indexPk': index.gsi11pk,
      ':indexSk': index.gsi11sk,
      ':active': 'active',
      ...(previous ? { ':risk': previous.risk, ':scoredAt': previous.scoredAt } : {}),
    },
  };
}

/** {@link churnUpdate} on its own (the band did not change): false when the condition failed. */
export async function setMemberChurn(
  store: Store,
  memberId: string,
  churn: ChurnView,
  previous: ChurnView | null,
): Promise<boolean> {
  try {
    await store.db.send(
      new UpdateCommand({ TableName: store.tableName, ...churnUpdate(memberId, churn, previous) }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** {@link churnUpdate} as an item of a transaction (with the band change's event and counter). */
export function memberChurnItem(
  store: Store,
  memberId: string,
  churn: ChurnView,
  previous: ChurnView | null,
): TransactItem {
  return { Update: { TableName: store.tableName, ...churnUpdate(memberId, churn, previous) } };
}
