import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventOfItem, type LoyaltyEvent } from '../../lambdas/domain/events.ts';
import { partnerBody, startTestApi, type TestApi } from '../support/api.ts';

/**
 * GET /v1/events over HTTP: after a mixed, concurrent load with retries and replays, the feed holds
 * exactly one event per ledger entry, outbox item and enrolment — none doubled — in id order, pages
 * with `after` without loss or repeat, filters by type, and a partner key reads only its own.
 */
let api: TestApi;
const keyOf: Record<string, string> = {};

beforeAll(async () => {
  // The in-process server's feed lists events as soon as they are written.
  process.env.LOYALTY_FEED_HOLDBACK_SECONDS = '0';
  api = await startTestApi();
  for (const id of ['feed-a', 'feed-b']) {
    await api.request('POST', '/v1/partners', { body: partnerBody(id) });
    keyOf[id] = (
      await api.request('POST', '/v1/api-keys', { body: { name: id, role: 'partner', partnerId: id } })
    ).json.key;
  }
});
afterAll(async () => {
  delete process.env.LOYALTY_FEED_HOLDBACK_SECONDS;
  await api.close();
});

/** Every event the table's items carry, as the stream publisher would send them. */
async function eventsInTable(): Promise<LoyaltyEvent[]> {
  const events: LoyaltyEvent[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await api.store.db.send(
      new ScanCommand({ TableName: api.store.tableName, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    for (const item of page.Items ?? []) {
      const event = eventOfItem(item);
      if (event) events.push(event);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return events.sort((a, b) => (a.id < b.id ? -1 : 1));
}

async function readFeed(key: string, query = '', limit = 7): Promise<LoyaltyEvent[]> {
  const read: LoyaltyEvent[] = [];
  let after: string | undefined;
  for (let page = 0; page < 200; page++) {
    const response = await api.request(
      'GET',
      `/v1/events?limit=${limit}${query}${after ? `&after=${after}` : ''}`,
      { key },
    );
    expect(response.status).toBe(200);
    read.push(...response.json.items);
    if (response.json.nextCursor === null) return read;
    after = response.json.nextCursor;
  }
  throw new Error('the feed never ended');
}

describe('events feed', () => {
  it('after a concurrent mixed load with replays: one event per change, in order, pages without loss or repeat', async () => {
    const members = await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const partner = i % 2 === 0 ? 'feed-a' : 'feed-b';
        const key = keyOf[partner] as string;
        return { id: (await api.request('POST', '/v1/members', { key, body: {} })).json.id as string, key };
      }),
    );
    // Earns (each sent twice with the same key: the replay writes nothing), then redemptions.
    await Promise.all(
      members.flatMap(({ id, key }, i) =>
        [0, 1, 2].flatMap((n) => {
          const request = {
            key,
            idempotencyKey: `feed-earn-${i}-${n}`,
            body: { amountMinor: 10_000, currency: 'USD', orderRef: `feed-${i}-${n}` },
          };
          return [
            api.request('POST', `/v1/members/${id}/earn`, request),
            api.request('POST', `/v1/members/${id}/earn`, request),
          ];
        }),
      ),
    );
    await Promise.all(
      members.map(({ id, key }) =>
        api.request('POST', `/v1/members/${id}/redemptions`, { key, body: { points: 50 } }),
      ),
    );

    const table = await eventsInTable();
    const feed = await readFeed(api.adminKey);
    expect(feed.map((event) => event.id)).toEqual(table.map((event) => event.id));
    expect(new Set(feed.map((event) => event.id)).size).toBe(feed.length);
    // 4 enrolments, 12 earns, 4 redemptions: nothing doubled by the replays.
    const count = (type: string) => feed.filter((event) => event.type === type).length;
    expect([count('member.enrolled'), count('points.earned'), count('points.redeemed')]).toEqual([4, 12, 4]);
    expect(feed).toEqual(table);

    const earned = await readFeed(api.adminKey, '&type=points.earned', 5);
    expect(earned.map((event) => event.id)).toEqual(
      table.filter((event) => event.type === 'points.earned').map((event) => event.id),
    );
  });

  it('gives a partner key its own events only', async () => {
    const own = await readFeed(keyOf['feed-a'] as string);
    expect(own.length).toBeGreaterThan(0);
    expect(own.every((event) => event.partnerId === 'feed-a')).toBe(true);
    const all = await eventsInTable();
    expect(own.map((event) => event.id)).toEqual(
      all.filter((event) => event.partnerId === 'feed-a').map((event) => event.id),
    );
  });

  it('holds back the last seconds of ids, and refuses a malformed cursor', async () => {
    process.env.LOYALTY_FEED_HOLDBACK_SECONDS = '3600';
    const held = await api.request('GET', '/v1/events');
    expect(held.json.items).toEqual([]);
    expect(Date.parse(held.json.settledThrough)).toBeLessThan(Date.now() - 3_500_000);
    process.env.LOYALTY_FEED_HOLDBACK_SECONDS = '0';
    expect((await api.request('GET', '/v1/events?after=txn_1')).status).toBe(400);
  });
});
