import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Store } from './client.ts';
import { type DueKind, dueIndexOf, duePartition, keys } from './keys.ts';
import type { TransactItem } from './transactions.ts';

/** One page of a due index shard: the ids (member, or member of a hold) due up to `upTo`. */
export async function dueIds(
  store: Store,
  kind: DueKind,
  shard: number,
  upTo: string,
  startKey?: Record<string, unknown>,
): Promise<{ ids: string[]; next: Record<string, unknown> | undefined }> {
  const index = dueIndexOf[kind];
  const result = await store.db.send(
    new QueryCommand({
      TableName: store.tableName,
      IndexName: index,
      // `<date>#<id>` ≤ `<upTo>#~`: every entry due on or before upTo ('~' sorts after any id).
      KeyConditionExpression: `${index}pk = :pk AND ${index}sk <= :upTo`,
      ExpressionAttributeValues: { ':pk': duePartition(kind, shard), ':upTo': `${upTo}#~` },
      Limit: 100,
      ExclusiveStartKey: startKey,
    }),
  );
  const ids = (result.Items ?? []).map((item) => {
    const sortKey = String(item[`${index}sk`]);
    return sortKey.slice(sortKey.indexOf('#') + 1);
  });
  return { ids, next: result.LastEvaluatedKey };
}

/** Record that a run of (job, day) started (once) and when it last ran. */
export async function startJobRun(
  store: Store,
  job: string,
  day: string,
  asOf: string,
  now: string,
): Promise<void> {
  await store.db.send(
    new UpdateCommand({
      TableName: store.tableName,
      Key: keys.jobRun(job, day),
      UpdateExpression:
        'SET entity = :entity, startedAt = if_not_exists(startedAt, :now), lastAsOf = :asOf, lastCallAt = :now',
      ExpressionAttributeValues: { ':entity': 'job', ':now': now, ':asOf': asOf },
    }),
  );
}

export async function completeJobRun(store: Store, job: string, day: string, now: string): Promise<void> {
  await store.db.send(
    new UpdateCommand({
      TableName: store.tableName,
      Key: keys.jobRun(job, day),
      UpdateExpression: 'SET completedAt = :now',
      ExpressionAttributeValues: { ':now': now },
    }),
  );
}

/** The shard counter of a run, in the transaction of a change the job made (exact under a crash). */
export function countJobChange(store: Store, job: string, day: string, shard: number): TransactItem {
  return {
    Update: {
      TableName: store.tableName,
      Key: keys.jobShard(job, day, shard),
      UpdateExpression: 'SET entity = :entity ADD #processed :one, #changed :one',
      ExpressionAttributeNames: { '#processed': 'processed', '#changed': 'changed' },
      ExpressionAttributeValues: { ':entity': 'job', ':one': 1 },
    },
  };
}

/** A due item looked at that needed no change. */
export async function countJobVisit(store: Store, job: string, day: string, shard: number): Promise<void> {
  await store.db.send(
    new UpdateCommand({
      TableName: store.tableName,
      Key: keys.jobShard(job, day, shard),
      UpdateExpression: 'SET entity = :entity ADD #processed :one',
      ExpressionAttributeNames: { '#processed': 'processed' },
      ExpressionAttributeValues: { ':entity': 'job', ':one': 1 },
    }),
  );
}

/** Totals of a run of (job, day) over all its calls. */
export async function jobTotals(
  store: Store,
  job: string,
  day: string,
): Promise<{ processed: number; changed: number }> {
  const { pk } = keys.jobRun(job, day);
  const result = await store.db.send(
    new QueryCommand({
      TableName: store.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :shard)',
      ExpressionAttributeValues: { ':pk': pk, ':shard': 'SHARD#' },
      ConsistentRead: true,
    }),
  );
  let processed = 0;
  let changed = 0;
  for (const item of result.Items ?? []) {
    processed += Number(item.processed ?? 0);
    changed += Number(item.changed ?? 0);
  }
  return { processed, changed };
}
