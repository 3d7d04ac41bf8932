/**
 * Campaigns as stored: the definition (`CAMPAIGNS` / `CAMPAIGN#<id>`), its copy sorted by end
 * (`ENDS#<endsAt>#<id>`, what the earn's cache reads), and a budget's shards and state.
 */
import { BatchWriteCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { budgetShards } from '../domain/campaigns.ts';
import { TooManyConcurrentUpdatesError } from '../domain/errors.ts';
import type { Campaign } from '../schemas/campaigns.ts';
import type { Store } from './client.ts';
import { keys } from './keys.ts';
import { batchGet } from './member-store.ts';
import { decodeCursor, encodeCursor } from './pagination.ts';
import type { TransactItem } from './transactions.ts';

/** A campaign with what the earn needs besides its definition. */
export interface CampaignRecord {
  campaign: Campaign;
  /** Bumped by every PATCH: a change planned on an older read is refused and read again. */
  version: number;
  /** How many shards its budget has (0: no budget). */
  shards: number;
  /** When its budget ran out (it applies no more), null while it has points or has no budget. */
  exhaustedAt: string | null;
}

/** Rebuild the view in API field order (DynamoDB does not keep map key order). */
export function campaignViewOf(raw: Record<string, unknown>): Campaign {
  const reward = raw.reward as Record<string, unknown>;
  return {
    id: String(raw.id),
    name: String(raw.name),
    partnerId: (raw.partnerId as string | null | undefined) ?? null,
    startsAt: String(raw.startsAt),
    endsAt: String(raw.endsAt),
    target: raw.target as Campaign['target'],
    reward:
      reward.multiplier !== undefined
        ? { multiplier: Number(reward.multiplier) }
        : { bonusPoints: Number(reward.bonusPoints) },
    budgetPoints:
      raw.budgetPoints === null || raw.budgetPoints === undefined ? null : Number(raw.budgetPoints),
    active: Boolean(raw.active),
    createdAt: String(raw.createdAt),
    updatedAt: String(raw.updatedAt),
  };
}

export function campaignFromItem(item: Record<string, unknown>): CampaignRecord {
  return {
    campaign: campaignViewOf(item.campaign as Record<string, unknown>),
    version: Number(item.version ?? 0),
    shards: Number(item.shards ?? 0),
    exhaustedAt: typeof item.exhaustedAt === 'string' ? item.exhaustedAt : null,
  };
}

const recordAttributes = (record: CampaignRecord) => ({
  entity: 'campaign',
  partnerId: record.campaign.partnerId,
  campaign: record.campaign,
  version: record.version,
  shards: record.shards,
  exhaustedAt: record.exhaustedAt,
});

/**
 * A new campaign: its budget's shards (returned to be written first: up to 256 of them do not fit in
 * one transaction, and shards of a campaign that was never created are never read), then the
 * definition, its schedule copy and the budget's state in one transaction.
 */
export function newCampaignItems(
  store: Store,
  campaign: Campaign,
  maxShards: number,
): { shards: Record<string, unknown>[]; items: TransactItem[] } {
  const allotments = campaign.budgetPoints === null ? [] : budgetShards(campaign.budgetPoints, maxShards);
  const record: CampaignRecord = { campaign, version: 0, shards: allotments.length, exhaustedAt: null };
  const put = (key: { pk: string; sk: string }, item: Record<string, unknown>): TransactItem => ({
    Put: {
      TableName: store.tableName,
      Item: { ...key, ...item },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  });
  return {
    shards: allotments.map((points, shard) => ({
      ...keys.campaignBudgetShard(campaign.id, shard),
      entity: 'campaignBudgetShard',
      campaignId: campaign.id,
      allotted: points,
      remaining: points,
    })),
    items: [
      put(keys.campaign(campaign.id), recordAttributes(record)),
      put(keys.campaignSchedule(campaign.endsAt, campaign.id), recordAttributes(record)),
      ...(allotments.length > 0
        ? [
            put(keys.campaignBudgetState(campaign.id), {
              entity: 'campaignBudget',
              campaignId: campaign.id,
              budgetPoints: campaign.budgetPoints,
              shards: allotments.length,
            }),
          ]
        : []),
    ],
  };
}

/** Write items with BatchWriteItem, 25 a call, sending again what DynamoDB left unprocessed. */
export async function putAll(store: Store, items: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * 2 ** attempt));
      if (attempt > 6)
        throw new TooManyConcurrentUpdatesError('DynamoDB is throttling writes. Retry shortly.');
      const result = await store.db.send(
        new BatchWriteCommand({ RequestItems: { [store.tableName]: pending } }),
      );
      pending = (result.UnprocessedItems?.[store.tableName] ?? []) as typeof pending;
    }
  }
}

/**
 * A PATCH: the definition at the version read and its schedule copy (moved when the end moves),
 * as one transaction's items. The first item's condition fails when another change came first.
 */
export function replaceCampaign(store: Store, before: CampaignRecord, campaign: Campaign): TransactItem[] {
  // Updates, not puts: an exhaustion recorded meanwhile (it does not move the version) stays.
  const update = (key: { pk: string; sk: string }, condition: string): TransactItem => ({
    Update: {
      TableName: store.tableName,
      Key: key,
      UpdateExpression: 'SET campaign = :campaign, version = :next',
      ConditionExpression: condition,
      ExpressionAttributeValues: {
        ':campaign': campaign,
        ':next': before.version + 1,
        ...(condition.includes(':version') ? { ':version': before.version } : {}),
      },
    },
  });
  const items: TransactItem[] = [update(keys.campaign(campaign.id), 'version = :version')];
  if (before.campaign.endsAt === campaign.endsAt) {
    items.push(update(keys.campaignSchedule(campaign.endsAt, campaign.id), 'attribute_exists(pk)'));
  } else {
    const record: CampaignRecord = { ...before, campaign, version: before.version + 1 };
    items.push(
      {
        Put: {
          TableName: store.tableName,
          Item: { ...keys.campaignSchedule(campaign.endsAt, campaign.id), ...recordAttributes(record) },
        },
      },
      {
        Delete: {
          TableName: store.tableName,
          Key: keys.campaignSchedule(before.campaign.endsAt, campaign.id),
        },
      },
    );
  }
  return items;
}

/** The budget ran out: both copies say so, and caches drop it on their next read. */
export function markExhausted(store: Store, campaign: Campaign, at: string): TransactItem[] {
  return [keys.campaign(campaign.id), keys.campaignSchedule(campaign.endsAt, campaign.id)].map((key) => ({
    Update: {
      TableName: store.tableName,
      Key: key,
      UpdateExpression: 'SET exhaustedAt = :at',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':at': at },
    },
  }));
}

export async function getCampaign(store: Store, campaignId: string): Promise<CampaignRecord | undefined> {
  const { Item } = await store.db.send(
    new GetCommand({ TableName: store.tableName, Key: keys.campaign(campaignId), ConsistentRead: true }),
  );
  return Item ? campaignFromItem(Item) : undefined;
}

/** Reads one listing page may take when the partner filter leaves pages sparse. */
const MAX_READS_PER_PAGE = 10;

/** Campaigns newest first; `partnerId` keeps one partner's (`null`: the coalition-wide ones). */
export async function listCampaigns(
  store: Store,
  query: { limit: number; cursor?: string | undefined; partnerId?: string | null | undefined },
): Promise<{ items: CampaignRecord[]; nextCursor: string | null }> {
  let startKey: Record<string, unknown> | undefined = decodeCursor(query.cursor, {
    pk: keys.campaignsPartition(),
    sk: { prefix: 'CAMPAIGN#' },
  });
  // One partner's, or the coalition-wide ones (a null partnerId), or all.
  const filter =
    query.partnerId === undefined
      ? {}
      : query.partnerId === null
        ? { expression: 'attribute_type(#partnerId, :partnerId)', value: 'NULL' }
        : { expression: '#partnerId = :partnerId', value: query.partnerId };
  const items: CampaignRecord[] = [];
  let reads = 0;
  do {
    const result = await store.db.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': keys.campaignsPartition(),
          ':prefix': 'CAMPAIGN#',
          ...('value' in filter ? { ':partnerId': filter.value } : {}),
        },
        ...('expression' in filter
          ? { FilterExpression: filter.expression, ExpressionAttributeNames: { '#partnerId': 'partnerId' } }
          : {}),
        ScanIndexForward: false,
        Limit: query.limit - items.length,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of result.Items ?? []) items.push(campaignFromItem(item));
    startKey = result.LastEvaluatedKey;
    reads++;
  } while (startKey && items.length < query.limit && reads < MAX_READS_PER_PAGE);
  return { items, nextCursor: encodeCursor(startKey) };
}

/** Every campaign ending after `endsAfter`, from the schedule copies (what the earn's cache holds). */
export async function campaignsEndingAfter(store: Store, endsAfter: string): Promise<CampaignRecord[]> {
  const records: CampaignRecord[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const result = await store.db.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': keys.campaignsPartition(),
          ':from': `ENDS#${endsAfter}`,
          ':to': 'ENDS#~',
        },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of result.Items ?? []) records.push(campaignFromItem(item));
    startKey = result.LastEvaluatedKey;
  } while (startKey);
  return records;
}

/** A budget as read: points left per shard, and the state item's exhaustion. */
export interface BudgetRead {
  remaining: Map<number, number>;
  exhaustedAt: string | null;
  /** Whether every shard (and the state) was read, not just the member's own. */
  complete: boolean;
}

export const shardItemOf = (item: Record<string, unknown> | undefined) =>
  item ? Number(item.remaining ?? 0) : 0;

/** Points left in every shard and the state of each budget (a second read, when the own shard is short). */
export async function readBudgets(
  store: Store,
  budgets: { campaignId: string; shards: number }[],
): Promise<Map<string, BudgetRead>> {
  const wanted = budgets.flatMap(({ campaignId, shards }) => [
    keys.campaignBudgetState(campaignId),
    ...Array.from({ length: shards }, (_, shard) => keys.campaignBudgetShard(campaignId, shard)),
  ]);
  const found = await batchGet(store, wanted);
  const read = new Map<string, BudgetRead>();
  for (const { campaignId, shards } of budgets) {
    const state = found.get(`${keys.campaignBudgetState(campaignId).pk}|STATE`);
    const remaining = new Map<number, number>();
    for (let shard = 0; shard < shards; shard++) {
      const key = keys.campaignBudgetShard(campaignId, shard);
      remaining.set(shard, shardItemOf(found.get(`${key.pk}|${key.sk}`)));
    }
    read.set(campaignId, {
      remaining,
      exhaustedAt: typeof state?.exhaustedAt === 'string' ? state.exhaustedAt : null,
      complete: true,
    });
  }
  return read;
}

/** Take points from a shard: set to what is left, on condition it still holds what was read. */
export function takeFromShard(
  store: Store,
  campaignId: string,
  shard: number,
  read: number,
  left: number,
): TransactItem {
  return {
    Update: {
      TableName: store.tableName,
      Key: keys.campaignBudgetShard(campaignId, shard),
      UpdateExpression: 'SET remaining = :left',
      ConditionExpression: 'remaining = :read',
      ExpressionAttributeValues: { ':left': left, ':read': read },
    },
  };
}

/** The budget's state says it ran out, once (the condition fails for a second writer). */
export function exhaustBudget(store: Store, campaignId: string, at: string): TransactItem {
  return {
    Update: {
      TableName: store.tableName,
      Key: keys.campaignBudgetState(campaignId),
      UpdateExpression: 'SET exhaustedAt = :at',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(exhaustedAt)',
      ExpressionAttributeValues: { ':at': at },
    },
  };
}
