import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
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

/**
 * Record that a run of (job, day) started (once) and when it last ran. A scan run also records the
 * number of segments it is split in, fixed by its first call: a segment's position means nothing in
 * another split, so a call with another number gets the run's own back (the caller refuses).
 */
export async function startJobRun(
  store: Store,
  job: string,
  day: string,
  asOf: string,
  now: string,
  segments?: number,
): Promise<{ segments: number | undefined }> {
  const { Attributes } = await store.db.send(
    new UpdateCommand({
      TableName: store.tableName,
      Key: keys.jobRun(job, day),
      UpdateExpression: `SET entity = :entity, startedAt = if_not_exists(startedAt, :now), lastAsOf = :asOf, lastCallAt = :now${
        segments === undefined ? '' : ', scanSegments = if_not_exists(scanSegments, :segments)'
      }`,
      ExpressionAttributeValues: {
        ':entity': 'job',
        ':now': now,
        ':asOf': asOf,
        ...(segments === undefined ? {} : { ':segments': segments }),
      },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return { segments: typeof Attributes?.scanSegments === 'number' ? Attributes.scanSegments : undefined };
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

/** Every `SHARD#nn` item of a run (a fanned-out scan has thousands: more than one page). */
async function runShards(store: Store, job: string, day: string): Promise<Record<string, unknown>[]> {
  const { pk } = keys.jobRun(job, day);
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const result = await store.db.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :shard)',
        ExpressionAttributeValues: { ':pk': pk, ':shard': 'SHARD#' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(result.Items ?? []));
    start = result.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Totals of a run of (job, day) over all its calls. */
export async function jobTotals(
  store: Store,
  job: string,
  day: string,
): Promise<{ processed: number; changed: number }> {
  const { processed, changed } = await jobSums(store, job, day);
  return { processed: processed ?? 0, changed: changed ?? 0 };
}

/** Attributes of a run's segment items that are not sums. */
const NOT_SUMS = new Set(['pk', 'sk', 'entity', 'checkpoint', 'scanDone', 'scanAfter']);

/** Every sum a run's segments and shards hold (processed, changed, and what checkpoints added). */
export async function jobSums(store: Store, job: string, day: string): Promise<Record<string, number>> {
  const sums: Record<string, number> = { processed: 0, changed: 0 };
  for (const item of await runShards(store, job, day)) {
    for (const [name, value] of Object.entries(item)) {
      if (!NOT_SUMS.has(name) && typeof value === 'number') sums[name] = (sums[name] ?? 0) + value;
    }
  }
  return sums;
}

/** The latest complete run of a job and its sums (the KPIs read the churn scan's mean CLV). */
export async function recordLatestRun(
  store: Store,
  job: string,
  day: string,
  sums: Record<string, number>,
  now: string,
): Promise<void> {
  try {
    await store.db.send(
      new PutCommand({
        TableName: store.tableName,
        Item: { ...keys.latestJobRun(job), entity: 'jobLatest', day, sums, recordedAt: now },
        // A run of an earlier day completed late does not replace a later one.
        ConditionExpression: 'attribute_not_exists(#day) OR #day <= :day',
        ExpressionAttributeNames: { '#day': 'day' },
        ExpressionAttributeValues: { ':day': day },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

export async function latestRun(
  store: Store,
  job: string,
): Promise<{ day: string; sums: Record<string, number> } | undefined> {
  const { Item } = await store.db.send(
    new GetCommand({ TableName: store.tableName, Key: keys.latestJobRun(job), ConsistentRead: true }),
  );
  return Item ? { day: String(Item.day), sums: Item.sums as Record<string, number> } : undefined;
}

/** Whether the run of (job, day) has completed (a scan run then does nothing more). */
export async function jobRunCompleted(store: Store, job: string, day: string): Promise<boolean> {
  const { Item } = await store.db.send(
    new GetCommand({ TableName: store.tableName, Key: keys.jobRun(job, day), ConsistentRead: true }),
  );
  return typeof Item?.completedAt === 'string';
}

/**
 * Where one segment of a scan run stands, kept on its `SHARD#nn` item: `checkpoint` counts the
 * saves (the condition of the next one), `after` is the key the Scan continues after.
 */
export interface ScanSegmentProgress {
  checkpoint: number;
  after: Record<string, unknown> | undefined;
  done: boolean;
}

/** A segment no call has saved yet. */
export const SEGMENT_START: ScanSegmentProgress = { checkpoint: 0, after: undefined, done: false };

function segmentProgressOf(item: Record<string, unknown> | undefined): ScanSegmentProgress {
  if (!item || typeof item.checkpoint !== 'number') return SEGMENT_START;
  return {
    checkpoint: item.checkpoint,
    after:
      typeof item.scanAfter === 'string'
        ? (JSON.parse(item.scanAfter) as Record<string, unknown>)
        : undefined,
    done: item.scanDone === true,
  };
}

/** Every saved segment's progress in a scan run of (job, day), by segment number (absent: not started). */
export async function scanProgress(
  store: Store,
  job: string,
  day: string,
): Promise<Map<number, ScanSegmentProgress>> {
  const progress = new Map<number, ScanSegmentProgress>();
  for (const item of await runShards(store, job, day)) {
    progress.set(Number(String(item.sk).slice('SHARD#'.length)), segmentProgressOf(item));
  }
  return progress;
}

/** One segment's progress, read again after another call moved it on. */
export async function scanSegmentProgress(
  store: Store,
  job: string,
  day: string,
  segment: number,
): Promise<ScanSegmentProgress> {
  const { Item } = await store.db.send(
    new GetCommand({
      TableName: store.tableName,
      Key: keys.jobShard(job, day, segment),
      ConsistentRead: true,
    }),
  );
  return segmentProgressOf(Item);
}

/**
 * Save a segment's progress after handling `processed` members: continue after `after`, or done
 * (undefined). Conditioned on the checkpoint read, so of two calls working on the same segment only
 * one counts what both handled; false for the other, which reads where the segment stands now.
 */
export async function checkpointScanSegment(
  store: Store,
  job: string,
  day: string,
  segment: number,
  from: ScanSegmentProgress,
  after: Record<string, unknown> | undefined,
  processed: number,
  /** Further sums of the page (a reconciliation's balances, a scan's CLV), added exactly once. */
  sums: Record<string, number> = {},
): Promise<boolean> {
  const added = Object.entries(sums).filter(([, value]) => value !== 0);
  try {
    await store.db.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: keys.jobShard(job, day, segment),
        UpdateExpression: `SET entity = :entity, #checkpoint = :next, scanDone = :done${after ? ', scanAfter = :after' : ''} ADD #processed :processed${added.map((_, i) => `, #s${i} :s${i}`).join('')}`,
        ConditionExpression:
          from.checkpoint === 0 ? 'attribute_not_exists(#checkpoint)' : '#checkpoint = :checkpoint',
        ExpressionAttributeNames: {
          '#checkpoint': 'checkpoint',
          '#processed': 'processed',
          ...Object.fromEntries(added.map(([name], i) => [`#s${i}`, name])),
        },
        ExpressionAttributeValues: {
          ':entity': 'job',
          ':next': from.checkpoint + 1,
          ':done': after === undefined,
          ':processed': processed,
          ...(after ? { ':after': JSON.stringify(after) } : {}),
          ...(from.checkpoint === 0 ? {} : { ':checkpoint': from.checkpoint }),
          ...Object.fromEntries(added.map(([, value], i) => [`:s${i}`, value])),
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * A change a scan made (a churn risk band), counted in the change's own transaction (exact under a
 * crash); the members it processed are counted by its checkpoints.
 */
export function countScanChange(store: Store, job: string, day: string, segment: number): TransactItem {
  return {
    Update: {
      TableName: store.tableName,
      Key: keys.jobShard(job, day, segment),
      UpdateExpression: 'SET entity = :entity ADD #changed :one',
      ExpressionAttributeNames: { '#changed': 'changed' },
      ExpressionAttributeValues: { ':entity': 'job', ':one': 1 },
    },
  };
}
