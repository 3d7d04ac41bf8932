/**
 * GET /v1/events: the feed of every event, in event id order (a ULID: the writer's clock, then
 * randomness), merged from the 16 shards of the feed index. A partner key reads its own index
 * (events made at its partner). Ids are taken when a request starts and committed up to its
 * deadline later, so the feed lists only ids older than the holdback: a reader that has passed an
 * id never misses an event committed later with a smaller one.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { encodeTime } from 'ulid';
import { eventOfItem, type LoyaltyEvent } from '../domain/events.ts';
import type { EventsQuery } from '../schemas/events.ts';
import { FEED_SHARDS, feedPartition } from '../store/keys.ts';
import { type RequestContext, respond, type UseCaseResponse } from './context.ts';

/** Seconds an event id must age before it is listed: the longest a request may take to commit. */
export function feedHoldbackSeconds(): number {
  const value = Number(process.env.LOYALTY_FEED_HOLDBACK_SECONDS ?? 30);
  return Number.isFinite(value) && value >= 0 ? value : 30;
}

export async function listEvents(ctx: RequestContext, query: EventsQuery): Promise<UseCaseResponse> {
  const partnerId = ctx.principal.role === 'partner' ? ctx.principal.partnerId : null;
  const index = partnerId === null ? 'gsi9' : 'gsi10';
  const settled = Date.parse(ctx.now) - feedHoldbackSeconds() * 1000;
  // Every id made at or before `settled` sorts at or below this one (the largest random part).
  const upper = `evt_${encodeTime(Math.max(0, settled), 10)}ZZZZZZZZZZZZZZZZ`;
  const lower = query.after ? `${query.after}\u0000` : 'evt_';
  const perShard = await Promise.all(
    Array.from({ length: FEED_SHARDS }, (_, shard) =>
      firstMatching(ctx, index, feedPartition(partnerId, shard), lower, upper, query),
    ),
  );
  // Each shard's first `limit` matches hold the feed's first `limit`.
  const items = perShard
    .flat()
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, query.limit);
  return respond(200, {
    items,
    nextCursor: items.length === query.limit ? (items.at(-1)?.id ?? null) : null,
    settledThrough: new Date(Math.max(0, settled)).toISOString(),
  });
}

/** One shard's first `limit` events (of the type asked for) in (lower, upper]. */
async function firstMatching(
  ctx: RequestContext,
  index: 'gsi9' | 'gsi10',
  partition: string,
  lower: string,
  upper: string,
  query: EventsQuery,
): Promise<LoyaltyEvent[]> {
  const found: LoyaltyEvent[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await ctx.store.db.send(
      new QueryCommand({
        TableName: ctx.store.tableName,
        IndexName: index,
        KeyConditionExpression: `${index}pk = :pk AND ${index}sk BETWEEN :lower AND :upper`,
        ExpressionAttributeValues: { ':pk': partition, ':lower': lower, ':upper': upper },
        Limit: query.limit,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const event = eventOfItem(item);
      if (event && (query.type === undefined || event.type === query.type)) found.push(event);
      if (found.length === query.limit) return found;
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return found;
}
