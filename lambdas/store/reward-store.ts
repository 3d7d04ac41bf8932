import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../domain/errors.ts';
import type { Reward, UpdateRewardBody } from '../schemas/rewards.ts';
import type { Store } from './client.ts';
import { keys } from './keys.ts';
import { decodeCursor, encodeCursor } from './pagination.ts';
import type { TransactItem } from './transactions.ts';

/** A reward as stored: its API view in one map (what gsi1 projects) and a version for races. */
export interface RewardRecord {
  reward: Reward;
  version: number;
}

/** Rebuild the view in API field order (DynamoDB does not keep map key order). */
export function rewardViewOf(raw: Record<string, unknown>): Reward {
  return {
    id: String(raw.id),
    partnerId: String(raw.partnerId),
    name: String(raw.name),
    description: (raw.description as string | null | undefined) ?? null,
    costPoints: Number(raw.costPoints),
    valueMinor: Number(raw.valueMinor),
    inventory: raw.inventory === null || raw.inventory === undefined ? null : Number(raw.inventory),
    active: Boolean(raw.active),
    createdAt: String(raw.createdAt),
    updatedAt: String(raw.updatedAt),
  };
}

export function rewardFromItem(item: Record<string, unknown>): RewardRecord {
  return { reward: rewardViewOf(item.reward as Record<string, unknown>), version: Number(item.version) };
}

export function putNewReward(store: Store, reward: Reward): TransactItem {
  return {
    Put: {
      TableName: store.tableName,
      Item: {
        ...keys.reward(reward.id),
        ...keys.rewardListing(reward.partnerId, reward.id),
        entity: 'reward',
        partnerId: reward.partnerId,
        reward,
        version: 0,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

export async function getReward(store: Store, rewardId: string): Promise<RewardRecord | undefined> {
  const { Item } = await store.db.send(
    new GetCommand({ TableName: store.tableName, Key: keys.reward(rewardId), ConsistentRead: true }),
  );
  return Item ? rewardFromItem(Item) : undefined;
}

/** The catalogue, by partner then id; `partnerId` narrows it to one partner. */
export async function listRewards(
  store: Store,
  query: { limit: number; cursor?: string; partnerId?: string; active?: boolean },
): Promise<{ items: Reward[]; nextCursor: string | null }> {
  const { gsi1pk, gsi1sk: prefix } = keys.rewardListing(query.partnerId);
  const result = await store.db.send(
    new QueryCommand({
      TableName: store.tableName,
      IndexName: 'gsi1',
      // The whole catalogue, or one partner's part of it (DynamoDB refuses an empty prefix).
      KeyConditionExpression: prefix ? 'gsi1pk = :pk AND begins_with(gsi1sk, :prefix)' : 'gsi1pk = :pk',
      ExpressionAttributeValues: {
        ':pk': gsi1pk,
        ...(prefix ? { ':prefix': prefix } : {}),
        ...(query.active === undefined ? {} : { ':active': query.active }),
      },
      ...(query.active === undefined
        ? {}
        : {
            FilterExpression: '#reward.active = :active',
            ExpressionAttributeNames: { '#reward': 'reward' },
          }),
      Limit: query.limit,
      ExclusiveStartKey: decodeCursor(query.cursor, {
        pk: { prefix: 'REWARD#' },
        sk: 'REWARD',
        gsi1pk,
        gsi1sk: prefix ? { prefix } : { prefix: '' },
      }),
    }),
  );
  return {
    items: (result.Items ?? []).map((item) => rewardViewOf(item.reward as Record<string, unknown>)),
    nextCursor: encodeCursor(result.LastEvaluatedKey),
  };
}

/** Change catalogue fields; bumps the version so a redemption planned on the old state retries. */
export async function updateReward(
  store: Store,
  rewardId: string,
  changes: UpdateRewardBody,
  now: string,
): Promise<Reward> {
  const fields = { ...changes, updatedAt: now };
  const names: Record<string, string> = { '#reward': 'reward', '#version': 'version' };
  const values: Record<string, unknown> = { ':one': 1 };
  const sets = Object.entries(fields).map(([field, value], i) => {
    names[`#f${i}`] = field;
    values[`:v${i}`] = value;
    return `#reward.#f${i} = :v${i}`;
  });
  try {
    const { Attributes } = await store.db.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: keys.reward(rewardId),
        UpdateExpression: `SET ${sets.join(', ')} ADD #version :one`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return rewardFromItem(Attributes ?? {}).reward;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw new NotFoundError(`No reward ${rewardId}.`);
    throw error;
  }
}

/**
 * The reward's part of a redemption: take one unit (or, for unlimited stock, only check nothing
 * changed), conditioned on the version the redemption was planned on.
 */
export function redeemRewardUnit(store: Store, record: RewardRecord, now: string): TransactItem {
  const condition = {
    TableName: store.tableName,
    Key: keys.reward(record.reward.id),
    ConditionExpression: '#version = :version',
  };
  if (record.reward.inventory === null) {
    return {
      ConditionCheck: {
        ...condition,
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':version': record.version },
      },
    };
  }
  return {
    Update: {
      ...condition,
      UpdateExpression: 'SET #reward.inventory = :left, #reward.updatedAt = :now, #version = :next',
      ExpressionAttributeNames: { '#reward': 'reward', '#version': 'version' },
      ExpressionAttributeValues: {
        ':version': record.version,
        ':left': record.reward.inventory - 1,
        ':now': now,
        ':next': record.version + 1,
      },
    },
  };
}

/** An event that is not a ledger entry, written as an outbox item in the change's transaction. */
export function putOutboxEvent(
  store: Store,
  dedupeKey: string,
  event: {
    id: string;
    type: string;
    occurredAt: string;
    partnerId: string | null;
    data: Record<string, unknown>;
  },
): TransactItem {
  return {
    Put: {
      TableName: store.tableName,
      Item: { ...keys.outboxEvent(dedupeKey), entity: 'event', event: { ...event, version: 1 } },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}
