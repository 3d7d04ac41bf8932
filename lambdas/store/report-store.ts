import {
  type AttributeValue,
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { COUNTER_PARTITIONS, COUNTER_SHARDS } from '../config/capacity.ts';
import { monthsBetween, type SettlementCounters, zeroCounters } from '../domain/settlement.ts';
import type { Store } from './client.ts';
import { keys } from './keys.ts';

/** Report counters as exact integers: a busy scope's totals may pass 2^53. */
export type Counters = Record<string, bigint>;

/** Attributes of a counters item that are not counters. */
const NOT_COUNTERS = new Set(['pk', 'sk', 'entity', 'closedAt']);

/**
 * Sum a partner's day counters over [from, to] (days inclusive): one Query per month and counter
 * partition, reading one item per shard and day, whatever the number of members or transactions. Counters are read
 * as exact decimals and summed as BigInt: a busy partner's totals may pass 2^53.
 */
export function partnerCounters(
  store: Store,
  partnerId: string,
  from: string,
  to: string,
): Promise<Record<keyof SettlementCounters, bigint>> {
  return sumCounters(store, partnerId, Object.keys(zeroCounters()) as (keyof SettlementCounters)[], from, to);
}

/** Sum the named day counters of one scope (a partner, or `_coalition`) over [from, to]. */
export async function sumCounters<Name extends string>(
  store: Store,
  scope: string,
  names: readonly Name[],
  from: string,
  to: string,
): Promise<Record<Name, bigint>> {
  const all = await sumDays(store, scope, from, to);
  return Object.fromEntries(names.map((name) => [name, all[name] ?? 0n])) as Record<Name, bigint>;
}

/** Every counter of one scope's day items over [from, to] (days inclusive), summed. */
export async function sumDays(store: Store, scope: string, from: string, to: string): Promise<Counters> {
  const total: Counters = {};
  for (const month of monthsBetween(from, to)) {
    await Promise.all(
      Array.from({ length: COUNTER_PARTITIONS }, (_, partition) =>
        queryAll(
          store,
          {
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: {
              ':pk': { S: keys.aggregatePartition(scope, month, partition) },
              ':from': { S: `${from}#` },
              ':to': { S: `${to}#~` },
            },
          },
          (item) => addItem(total, item),
        ),
      ),
    );
  }
  return total;
}

/** The stored snapshots of one scope's closed months, by month. */
export async function monthSnapshots(store: Store, scope: string): Promise<Map<string, Counters>> {
  const snapshots = new Map<string, Counters>();
  await queryAll(
    store,
    {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: keys.monthSnapshotPartition(scope) } },
    },
    (item) => {
      const counters: Counters = {};
      addItem(counters, item);
      snapshots.set(String(item.sk?.S), counters);
    },
  );
  return snapshots;
}

/**
 * Record a closed month's totals. Written once (a month's counters never change once it is over,
 * days being posting days); a second writer finds it there and writes nothing.
 */
export async function putMonthSnapshot(
  store: Store,
  scope: string,
  month: string,
  counters: Counters,
  now: string,
): Promise<void> {
  // Low-level numbers: exact at any size (a JavaScript number would round past 2^53).
  const values = Object.fromEntries(
    Object.entries(counters)
      .filter(([, value]) => value !== 0n)
      .map(([name, value]) => [name, { N: value.toString() }]),
  );
  const { pk, sk } = keys.monthSnapshot(scope, month);
  try {
    await store.db.send(
      new PutItemCommand({
        TableName: store.tableName,
        Item: {
          pk: { S: pk },
          sk: { S: sk },
          entity: { S: 'monthSnapshot' },
          closedAt: { S: now },
          ...values,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** The days whose writes have made sure the epoch is at or before them, per table (this process). */
const ensured = new Map<string, string>();

/**
 * Make sure the report epoch (the first posting day counters may hold) is at or before `day`:
 * called before a write that adds to counters. One conditional write per table and process and
 * earlier day, nothing after that; a lost race or a later day is already covered.
 */
export async function ensureReportEpoch(store: Store, day: string): Promise<void> {
  const known = ensured.get(store.tableName);
  if (known !== undefined && known <= day) return;
  try {
    await store.db.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: keys.reportEpoch(),
        UpdateExpression: 'SET entity = :entity, firstDay = :day',
        ConditionExpression: 'attribute_not_exists(firstDay) OR firstDay > :day',
        ExpressionAttributeValues: { ':entity': 'reportEpoch', ':day': day },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  ensured.set(store.tableName, day);
}

/** The first posting day report counters may hold, or undefined when nothing was ever counted. */
export async function reportEpoch(store: Store): Promise<string | undefined> {
  const { Item } = await store.db.send(
    new GetCommand({ TableName: store.tableName, Key: keys.reportEpoch(), ConsistentRead: true }),
  );
  return Item?.firstDay as string | undefined;
}

/** Every counter of the KPI items of one activity month (one item per counter shard), summed. */
export async function kpiCounters(store: Store, month: string): Promise<Counters> {
  const total: Counters = {};
  const shardKeys = Array.from({ length: COUNTER_SHARDS }, (_, shard) => keys.kpi(month, shard));
  for (let i = 0; i < shardKeys.length; i += 100) {
    let pending: Record<string, AttributeValue>[] = shardKeys
      .slice(i, i + 100)
      .map(({ pk, sk }) => ({ pk: { S: pk }, sk: { S: sk } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 6) throw new Error('DynamoDB kept the KPI counters unprocessed');
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
      const result = await store.db.send(
        new BatchGetItemCommand({
          RequestItems: { [store.tableName]: { Keys: pending, ConsistentRead: true } },
        }),
      );
      for (const item of result.Responses?.[store.tableName] ?? []) addItem(total, item);
      pending = result.UnprocessedKeys?.[store.tableName]?.Keys ?? [];
    }
  }
  return total;
}

/** Add every numeric attribute of a low-level item to `total` (numbers arrive as exact strings). */
function addItem(total: Counters, item: Record<string, AttributeValue>): void {
  for (const [name, value] of Object.entries(item)) {
    if (NOT_COUNTERS.has(name) || value.N === undefined) continue;
    total[name] = (total[name] ?? 0n) + BigInt(value.N);
  }
}

/** Every page of a strongly consistent Query, with the low-level client (numbers stay exact). */
async function queryAll(
  store: Store,
  query: { KeyConditionExpression: string; ExpressionAttributeValues: Record<string, AttributeValue> },
  onItem: (item: Record<string, AttributeValue>) => void,
): Promise<void> {
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await store.db.send(
      new QueryCommand({
        TableName: store.tableName,
        ...query,
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) onItem(item);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}
