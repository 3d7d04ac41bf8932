import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError, TooManyConcurrentUpdatesError } from '../domain/errors.ts';
import type { Reward, UpdateRewardBody } from '../schemas/rewards.ts';
import type { Store } from './client.ts';
import { setClause } from './expressions.ts';
import { keys } from './keys.ts';
import { putOutboxEvent } from './outbox.ts';
import { decodeCursor, encodeCursor } from './pagination.ts';
import { type TransactItem, TransactionCancelledError, transactWrite } from './transactions.ts';

/** Reads one catalogue page may take when a filter leaves pages sparse. */
const MAX_READS_PER_PAGE = 10;

/**
 * A reward as stored: its API view in one map (what gsi1 projects), the version of its
 * catalogue fields, bumped by every PATCH (not by redemptions, which only move `inventory`), and
 * how many times it has sold out: a refund or a restock can give a sold-out reward stock again, and
 * each later sell-out is a change with its own `reward.out_of_stock` (keyed by this count).
 */
export interface RewardRecord {
  reward: Reward;
  catalogueVersion: number;
  sellOuts: number;
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
  return {
    reward: rewardViewOf(item.reward as Record<string, unknown>),
    catalogueVersion: Number(item.catalogueVersion),
    // Absent on rewards that never sold out (and on items written before the count existed).
    sellOuts: Number(item.sellOuts ?? 0),
  };
}

/**
 * The condition that no sell-out happened since `record` was read, so the sell-out this change
 * records is the next one (a stale read is cancelled and planned again, never a duplicate key).
 */
function noSellOutSince(record: RewardRecord): { condition: string; values: Record<string, number> } {
  return record.sellOuts === 0
    ? { condition: '(attribute_not_exists(#sellOuts) OR #sellOuts = :sellOuts)', values: { ':sellOuts': 0 } }
    : { condition: '#sellOuts = :sellOuts', values: { ':sellOuts': record.sellOuts } };
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
        catalogueVersion: 0,
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
  let startKey: Record<string, unknown> | undefined = decodeCursor(query.cursor, {
    pk: { prefix: 'REWARD#' },
    sk: 'REWARD',
    gsi1pk,
    gsi1sk: prefix ? { prefix } : { prefix: '' },
  });
  const items: Reward[] = [];
  let reads = 0;
  // The `active` filter runs after DynamoDB's Limit: read on until the page is full (bounded).
  do {
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
        Limit: query.limit - items.length,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of result.Items ?? []) items.push(rewardViewOf(item.reward as Record<string, unknown>));
    startKey = result.LastEvaluatedKey;
    reads++;
  } while (startKey && items.length < query.limit && reads < MAX_READS_PER_PAGE);
  return { items, nextCursor: encodeCursor(startKey) };
}

/**
 * Change catalogue fields; bumps the catalogue version so a redemption planned on the old fields
 * plans again. Setting `inventory` to 0 from anything else sells the reward out: that change and
 * its `reward.out_of_stock` outbox item are one transaction.
 */
export async function updateReward(
  store: Store,
  rewardId: string,
  changes: UpdateRewardBody,
  now: string,
  newEventId: () => string,
): Promise<Reward> {
  const { restock, ...fields } = changes;
  const { set, names, values } = setClause({ ...fields, updatedAt: now }, '#reward');
  const update: RewardUpdate = {
    TableName: store.tableName,
    Key: keys.reward(rewardId),
    // A restock adds to whatever stock there is now (units sold meanwhile stay sold).
    UpdateExpression: `SET ${set} ADD #version :one${restock ? ', #reward.inventory :restock' : ''}`,
    ExpressionAttributeNames: { ...names, '#reward': 'reward', '#version': 'catalogueVersion' },
    ExpressionAttributeValues: { ...values, ':one': 1, ...(restock ? { ':restock': restock } : {}) },
  };
  if (changes.inventory === 0 && (await sellOutByPatch(store, update, rewardId, now, newEventId))) {
    const record = await getReward(store, rewardId);
    if (record) return record.reward;
  }
  try {
    const { Attributes } = await store.db.send(
      new UpdateCommand({
        ...update,
        // Unlimited stock (null) cannot be restocked: set `inventory` to a number first.
        ConditionExpression: restock
          ? 'attribute_exists(pk) AND attribute_type(#reward.inventory, :number)'
          : 'attribute_exists(pk)',
        ...(restock
          ? { ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':number': 'N' } }
          : {}),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return rewardFromItem(Attributes ?? {}).reward;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    if (restock && (await getReward(store, rewardId))) {
      throw new ConflictError(
        `Reward ${rewardId} has unlimited stock; set inventory to a number before restocking.`,
      );
    }
    throw new NotFoundError(`No reward ${rewardId}.`);
  }
}

interface RewardUpdate {
  TableName: string;
  Key: Record<string, string>;
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

/**
 * The PATCH that takes stock to 0, with its event. False when there is no stock to take (or no
 * reward): the caller then applies the PATCH as a plain update. A PATCH that raced another change
 * reads again, so a sell-out never goes unrecorded.
 */
async function sellOutByPatch(
  store: Store,
  update: RewardUpdate,
  rewardId: string,
  now: string,
  newEventId: () => string,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const record = await getReward(store, rewardId);
    if (!record || record.reward.inventory === 0) return false;
    const unchanged = noSellOutSince(record);
    try {
      await transactWrite(store, [
        {
          Update: {
            ...update,
            UpdateExpression: `${update.UpdateExpression}, #sellOuts :one`,
            ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#sellOuts': 'sellOuts' },
            ExpressionAttributeValues: {
              ...update.ExpressionAttributeValues,
              ...unchanged.values,
              ':seen': record.catalogueVersion,
            },
            ConditionExpression: `#version = :seen AND ${unchanged.condition}`,
          },
        },
        outOfStockEvent(store, record, now, newEventId()),
      ]);
      return true;
    } catch (error) {
      if (!(error instanceof TransactionCancelledError)) throw error;
      if (attempt === 5) {
        throw new TooManyConcurrentUpdatesError(
          `Reward ${rewardId} kept changing while this request tried to sell it out. Retry.`,
        );
      }
    }
  }
}

/** The `reward.out_of_stock` outbox item of the reward's next sell-out: one per sell-out. */
export function outOfStockEvent(
  store: Store,
  record: RewardRecord,
  now: string,
  eventId: string,
): TransactItem {
  return putOutboxEvent(store, `reward.out_of_stock#${record.reward.id}#sellout${record.sellOuts + 1}`, {
    id: eventId,
    type: 'reward.out_of_stock',
    occurredAt: now,
    partnerId: record.reward.partnerId,
    data: { rewardId: record.reward.id, name: record.reward.name },
  });
}

/**
 * The reward's part of a redemption, conditioned on the catalogue fields it was planned on. Units
 * other than the last are taken with a commutative `ADD -1` (concurrent buyers do not collide),
 * guarded by `inventory >= 2`; the last unit is taken exactly (`inventory = 1`), so exactly one
 * redemption sells the reward out and records it. A failed condition means: read again, plan again.
 */
export function redeemRewardUnit(store: Store, record: RewardRecord): TransactItem {
  const key = { TableName: store.tableName, Key: keys.reward(record.reward.id) };
  const names = { '#reward': 'reward', '#version': 'catalogueVersion' };
  if (record.reward.inventory === null) {
    return {
      ConditionCheck: {
        ...key,
        ConditionExpression: '#version = :version',
        ExpressionAttributeNames: { '#version': 'catalogueVersion' },
        ExpressionAttributeValues: { ':version': record.catalogueVersion },
      },
    };
  }
  if (record.reward.inventory !== 1) {
    return {
      Update: {
        ...key,
        UpdateExpression: 'ADD #reward.inventory :minusOne',
        ConditionExpression: '#version = :version AND #reward.inventory >= :two',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':version': record.catalogueVersion, ':minusOne': -1, ':two': 2 },
      },
    };
  }
  // The last unit: this redemption is the reward's next sell-out (counted, with its event).
  const unchanged = noSellOutSince(record);
  return {
    Update: {
      ...key,
      UpdateExpression: 'ADD #reward.inventory :minusOne, #sellOuts :one',
      ConditionExpression: `#version = :version AND #reward.inventory = :one AND ${unchanged.condition}`,
      ExpressionAttributeNames: { ...names, '#sellOuts': 'sellOuts' },
      ExpressionAttributeValues: {
        ':version': record.catalogueVersion,
        ':minusOne': -1,
        ':one': 1,
        ...unchanged.values,
      },
    },
  };
}

/**
 * Give one unit back to a reward's finite stock (a released hold, a refunded reward redemption).
 * `ADD` commutes with concurrent sales; the condition fails only if the reward has meanwhile become
 * unlimited (null stock, which cannot be added to): the change is then planned again without it.
 */
export function restockUnit(store: Store, rewardId: string): TransactItem {
  return {
    Update: {
      TableName: store.tableName,
      Key: keys.reward(rewardId),
      UpdateExpression: 'ADD #reward.inventory :one',
      ConditionExpression: 'attribute_type(#reward.inventory, :number)',
      ExpressionAttributeNames: { '#reward': 'reward' },
      ExpressionAttributeValues: { ':one': 1, ':number': 'N' },
    },
  };
}
