import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClockAt } from '../../lambdas/config/clock.ts';
import { eventOfItem, type LoyaltyEvent } from '../../lambdas/domain/events.ts';
import { type ApiResponse, partnerBody, startTestApi, type TestApi } from '../support/api.ts';

/**
 * Every event type of the README's "Events" list, over HTTP, on the API's clock stepped forward
 * through two years: the test makes a known number of changes of each type (counting them in
 * `made`), sends every POST twice with the same Idempotency-Key, runs every job twice a day, erases
 * twice and repeats a payment webhook; then GET /v1/events must hold exactly `made[type]` events
 * of each type, no id twice, each in the envelope, and exactly the events the table's items carry
 * (an event is the item its change wrote, so it lives and dies with that change's transaction).
 */
const EVENT_TYPES = [
  'member.enrolled',
  'member.erased',
  'points.earned',
  'points.redeemed',
  'points.refunded',
  'points.reversed',
  'points.expired',
  'points.expiring',
  'points.adjusted',
  'points.transferred',
  'points.forfeited',
  'tier.changed',
  'tier.downgrade_warning',
  'reward.out_of_stock',
  'subscription.started',
  'subscription.renewed',
  'subscription.past_due',
  'subscription.canceled',
  'subscription.expired',
  'member.churn_risk.changed',
  'campaign.budget_exhausted',
] as const;
type EventType = (typeof EVENT_TYPES)[number];

const T0 = '2027-03-01T10:00:00Z';
const SHOP = 'ev-shop';

let api: TestApi;
beforeAll(async () => {
  startClockAt(T0);
  // The in-process server's feed lists events as soon as they are written.
  process.env.LOYALTY_FEED_HOLDBACK_SECONDS = '0';
  api = await startTestApi();
});
afterAll(async () => {
  delete process.env.LOYALTY_FEED_HOLDBACK_SECONDS;
  startClockAt(new Date().toISOString());
  await api.close();
});

// biome-ignore lint/suspicious/noExplicitAny: responses are read field by field
type Json = Record<string, any>;

/** The changes made so far, by the event type each must produce exactly once. */
const made = Object.fromEntries(EVENT_TYPES.map((type) => [type, 0])) as Record<EventType, number>;
const make = (type: EventType, count = 1) => {
  made[type] += count;
};
/** Ledger entries the requests answered with: each must be the one event `evt_<its ulid>`. */
const entries: { transactionId: string; type: EventType; memberId: string }[] = [];
const entry = (transactionId: string, type: EventType, memberId: string) => {
  entries.push({ transactionId, type, memberId });
  make(type);
};

const ok = (response: ApiResponse, status = 200): Json => {
  expect(response.status, response.text).toBe(status);
  return response.json;
};

let sent = 0;
/** A POST, then the same POST with the same Idempotency-Key: the replay answers the same, changes nothing. */
async function post(path: string, body: unknown, status = 201): Promise<Json> {
  const idempotencyKey = `event-types-${++sent}`;
  const first = ok(await api.request('POST', path, { body, idempotencyKey }), status);
  const again = await api.request('POST', path, { body, idempotencyKey });
  expect(again.headers.get('idempotent-replayed'), `replay of POST ${path}`).toBe('true');
  expect(again.status).toBe(status);
  expect(again.json).toEqual(first);
  return first;
}

/** A job as of now, then again the same day: the second run finds nothing left to do. */
async function job(name: string): Promise<Json> {
  const run = ok(await api.request('POST', `/v1/jobs/${name}`, { body: {} }));
  expect(run.complete).toBe(true);
  const again = ok(await api.request('POST', `/v1/jobs/${name}`, { body: {} }));
  expect(again).toMatchObject({ processed: run.processed, changed: run.changed });
  return run;
}

/** A history import (no points) or a points import, sent twice: the second imports nothing. */
async function importCsv(rows: string[], points: boolean): Promise<Json> {
  const body = `externalRef,partnerId,amountMinor,currency,occurredAt,orderRef\n${rows.join('\n')}\n`;
  const send = async () =>
    ok(
      await api.request('POST', `/v1/imports/transactions${points ? '?points=true' : ''}`, {
        rawBody: body,
        headers: { 'content-type': 'text/csv' },
      }),
    );
  const first = await send();
  expect(first).toMatchObject({ complete: true, rejectedCount: 0, imported: rows.length });
  expect(await send()).toMatchObject({ imported: 0, alreadyImported: rows.length, membersCreated: 0 });
  return first;
}

/**
 * Twelve customers' purchases over the six months before T0 (1 to 6 visits each): enough
 * purchasers, repeat purchasers and repeat spend for the churn model to fit.
 */
function purchaseHistory(): string[] {
  const rows: string[] = [];
  for (let customer = 1; customer <= 12; customer++) {
    for (let visit = 0; visit < 1 + (customer % 6); visit++) {
      const day = Date.parse('2026-09-01T12:00:00Z') + (3 * customer + visit * (10 + customer)) * 86_400_000;
      const amountMinor = 1_000 + 150 * ((customer + visit) % 7);
      rows.push(
        `hist-${customer},${SHOP},${amountMinor},USD,${new Date(day).toISOString()},hist-${customer}-${visit}`,
      );
    }
  }
  return rows;
}

/** Move the API's clock to `seconds` after `instant` (ids follow the clock: only ever forward). */
const at = (instant: string, seconds = 1) =>
  startClockAt(new Date(Date.parse(instant) + seconds * 1_000).toISOString());

/** The whole feed (or one type of it), page by page with `after`. */
async function readFeed(type?: string): Promise<LoyaltyEvent[]> {
  const read: LoyaltyEvent[] = [];
  let after: string | null = null;
  for (let page = 0; page < 100; page++) {
    const query = `limit=50${type ? `&type=${type}` : ''}${after ? `&after=${after}` : ''}`;
    const response = ok(await api.request('GET', `/v1/events?${query}`));
    read.push(...response.items);
    if (response.nextCursor === null) return read;
    after = response.nextCursor;
  }
  throw new Error('the feed never ended');
}

/** Every event the table's items carry, as the stream publisher would send them, in id order. */
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

describe('every event type', () => {
  const members = { ada: '', bob: '', cy: '', dee: '', eve: '', fay: '', hal: '', ivy: '' };
  /** Members whose purchases the churn scan scores (a first score is a band change). */
  const purchasers = new Set<string>();

  it('drives a known number of changes of every type, each write replayed', async () => {
    // ── Setup: a shop, a monthly plan, a plan with a 14-day trial and a monthly bonus, two rewards.
    ok(await api.request('POST', '/v1/partners', { body: partnerBody(SHOP) }), 201);
    const till = ok(
      await api.request('POST', '/v1/api-keys', { body: { name: 'till', role: 'partner', partnerId: SHOP } }),
      201,
    );
    const monthly = { priceMinor: 999, currency: 'USD', interval: 'month' };
    await post('/v1/plans', { id: 'ev-monthly', name: 'Monthly', ...monthly });
    await post('/v1/plans', {
      id: 'ev-trial',
      name: 'Trial',
      ...monthly,
      trialDays: 14,
      benefits: { earnMultiplier: 1, monthlyBonusPoints: 500 },
    });
    const reward = { partnerId: SHOP, costPoints: 100, valueMinor: 500 };
    const tote = await post('/v1/rewards', { ...reward, name: 'Tote bag', inventory: 1 });
    const mug = await post('/v1/rewards', { ...reward, name: 'Mug', inventory: 3 });

    // ── member.enrolled: 12 customers by a history import, 2 by a points import, 6 by the API.
    const history = await importCsv(purchaseHistory(), false);
    expect(history.membersCreated).toBe(12);
    make('member.enrolled', 12);
    for (let customer = 1; customer <= 12; customer++) purchasers.add(`hist-${customer}`);
    const imported = await importCsv(
      ['hal', 'ivy'].map((name) => `${name},${SHOP},1000,USD,2027-03-01T08:00:00Z,${name}-1`),
      true,
    );
    expect(imported.membersCreated).toBe(2);
    make('member.enrolled', 2);
    make('points.earned', 2);
    for (const name of ['hal', 'ivy'] as const) {
      // The shop's own reference finds the member (with the shop's key).
      const found = ok(await api.request('GET', `/v1/members?externalRef=${name}`, { key: till.key }));
      members[name] = found.items[0].id;
      purchasers.add(name);
    }
    for (const name of ['ada', 'bob', 'cy', 'dee', 'eve', 'fay'] as const) {
      members[name] = (await post('/v1/members', { name, externalRef: `ev-${name}` })).id;
      make('member.enrolled');
    }
    const { ada, bob, cy, dee, eve, fay, hal, ivy } = members;
    const earn = async (memberId: string, amountMinor: number, orderRef: string) => {
      const earned = await post(`/v1/members/${memberId}/earn`, {
        partnerId: SHOP,
        amountMinor,
        currency: 'USD',
        orderRef,
      });
      entry(earned.transaction.id, 'points.earned', memberId);
      return earned;
    };

    // ── points.earned + tier.changed (up): 5,000 points reach silver.
    expect((await earn(ada, 500_000, 'ev-1')).transaction.points).toBe(5_000);

    // ── campaign.budget_exhausted: 5 points in all, 3 a promo purchase; ivy's second empties it.
    const promo = ok(
      await api.request('POST', '/v1/campaigns', {
        body: {
          name: 'Tiny promo',
          partnerId: SHOP,
          startsAt: T0,
          endsAt: '2027-04-01T00:00:00Z',
          target: { categories: ['promo'] },
          reward: { bonusPoints: 3 },
          budgetPoints: 5,
        },
      }),
      201,
    );
    for (const [orderRef, bonus] of [
      ['promo-1', 3],
      ['promo-2', 2],
      ['promo-3', 0],
    ] as const) {
      const earned = await post(`/v1/members/${ivy}/earn`, {
        partnerId: SHOP,
        amountMinor: 100,
        currency: 'USD',
        orderRef,
        category: 'promo',
      });
      entry(earned.transaction.id, 'points.earned', ivy);
      const line = earned.transaction.breakdown.find((l: Json) => l.rule === `campaign:${promo.id}`);
      expect(line?.points ?? 0, orderRef).toBe(bonus);
    }
    make('campaign.budget_exhausted');
    purchasers.add('ada');
    expect(ok(await api.request('GET', `/v1/members/${ada}`)).tier.code).toBe('silver');
    make('tier.changed');

    // ── points.redeemed + reward.out_of_stock (the tote's last unit), refunded in two parts.
    const redeemed = await post(`/v1/members/${ada}/redemptions`, { rewardId: tote.id });
    entry(redeemed.redemption.transactionId, 'points.redeemed', ada);
    make('reward.out_of_stock');
    for (const points of [60, 40]) {
      const refunded = await post(`/v1/redemptions/${redeemed.redemption.id}/refund`, {
        points,
        reason: 'faulty',
      });
      entry(refunded.transaction.id, 'points.refunded', ada);
    }
    // ── reward.out_of_stock by PATCH; the same PATCH again sells nothing out.
    for (const attempt of [1, 2]) {
      const patched = ok(await api.request('PATCH', `/v1/rewards/${mug.id}`, { body: { inventory: 0 } }));
      expect(patched.inventory, `PATCH ${attempt}`).toBe(0);
    }
    make('reward.out_of_stock');

    // ── A hold captured in part is one points.redeemed; a hold released is none.
    const held = await post(`/v1/members/${ada}/redemptions`, { partnerId: SHOP, points: 30, hold: true });
    const captured = await post(`/v1/redemptions/${held.redemption.id}/capture`, { points: 25 }, 200);
    entry(captured.redemption.transactionId, 'points.redeemed', ada);
    const released = await post(`/v1/members/${ada}/redemptions`, {
      partnerId: SHOP,
      points: 20,
      hold: true,
    });
    await post(`/v1/redemptions/${released.redemption.id}/release`, {}, 200);

    // ── points.reversed: a return at the till by order reference, then by transaction id.
    const basket = await earn(ada, 10_000, 'ev-2');
    const byOrder = await post('/v1/orders/ev-2/reverse', {
      partnerId: SHOP,
      amountMinor: 4_000,
      reason: 'returned one item',
    });
    entry(byOrder.transaction.id, 'points.reversed', ada);
    const byId = await post(`/v1/transactions/${basket.transaction.id}/reverse`, {
      points: 10,
      reason: 'returned another',
    });
    entry(byId.transaction.id, 'points.reversed', ada);

    // ── points.adjusted (±), points.transferred (both sides), points.earned by an activity.
    for (const points of [10, -5]) {
      const adjusted = await post(`/v1/members/${ada}/adjustments`, { points, reason: 'correction' });
      entry(adjusted.transaction.id, 'points.adjusted', ada);
    }
    const transferred = await post(`/v1/members/${ada}/transfers`, { toMemberId: bob, points: 10 });
    entry(transferred.transaction.id, 'points.transferred', ada);
    entry(transferred.transfer.inTransactionId, 'points.transferred', bob);
    const review = await post(`/v1/members/${ada}/activities`, { type: 'review', ref: 'ev-review-1' });
    entry(review.transaction.id, 'points.earned', ada);

    // ── subscription.started: bob, cy, eve on the monthly plan, fay on a trial.
    const subscribe = async (memberId: string, planId: string) =>
      (
        await post(`/v1/members/${memberId}/subscriptions`, {
          planId,
          partnerId: SHOP,
          paymentRef: `ev-card-${memberId}`,
        })
      ).subscription as Json;
    const bobs = await subscribe(bob, 'ev-monthly');
    const cys = await subscribe(cy, 'ev-monthly');
    await subscribe(eve, 'ev-monthly');
    const fays = await subscribe(fay, 'ev-trial');
    expect([bobs.status, fays.status]).toEqual(['active', 'trialing']);
    make('subscription.started', 4);
    // ── subscription.canceled: cy now.
    const canceled = await post(`/v1/subscriptions/${cys.id}/cancel`, { atPeriodEnd: false }, 200);
    expect(canceled.subscription.status).toBe('canceled');
    make('subscription.canceled');

    // ── member.erased (asked twice each): dee with nothing; eve with 10 points (points.forfeited)
    // and a live subscription (subscription.canceled).
    await earn(eve, 1_000, 'ev-3');
    for (const memberId of [dee, eve]) {
      for (const attempt of [1, 2]) {
        const erased = ok(await api.request('DELETE', `/v1/members/${memberId}`));
        expect(erased.status, `erasure ${attempt}`).toBe('erased');
      }
      make('member.erased');
    }
    make('points.forfeited');
    make('subscription.canceled');
    expect(ok(await api.request('GET', `/v1/members/${eve}/subscription`)).status).toBe('canceled');

    // ── member.churn_risk.changed: every purchaser's first score (a change from nothing).
    ok(await api.request('POST', '/v1/analytics/churn-model/fit', { body: {} }));
    expect(await job('churn-scan')).toMatchObject({ changed: purchasers.size });
    make('member.churn_risk.changed', purchasers.size);

    // ── 15 March: fay's trial ends; her payment renews it (subscription.renewed) and credits the
    // month's bonus (points.earned). She cancels at the period's end: nothing happens yet.
    at(fays.currentPeriodEnd);
    await job('subscription-renewals');
    const fayPaid = await post(`/v1/subscriptions/${fays.id}/payments`, {
      status: 'succeeded',
      paymentRef: 'ev-fay-1',
      amountMinor: 999,
    });
    expect(fayPaid.subscription.status).toBe('active');
    make('subscription.renewed');
    make('points.earned');
    const scheduled = await post(`/v1/subscriptions/${fays.id}/cancel`, { atPeriodEnd: true }, 200);
    expect(scheduled.subscription).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });

    // ── 1 April: bob's second period begins awaiting its payment, which succeeds (the PSP's
    // webhook comes twice, the second time under another Idempotency-Key: recorded once).
    at(bobs.currentPeriodEnd);
    await job('subscription-renewals');
    const pay = (subscriptionId: string, status: string, paymentRef: string) =>
      post(`/v1/subscriptions/${subscriptionId}/payments`, { status, paymentRef, amountMinor: 999 });
    const april = await pay(bobs.id, 'succeeded', 'ev-bob-2');
    expect(april.subscription.status).toBe('active');
    make('subscription.renewed');
    const webhookAgain = await pay(bobs.id, 'succeeded', 'ev-bob-2');
    expect(webhookAgain.subscription.paidThrough).toBe(april.subscription.paidThrough);

    // ── 15 April: fay's paid period ends, and with it her subscription (subscription.canceled).
    at(fayPaid.subscription.currentPeriodEnd);
    await job('subscription-renewals');
    expect(ok(await api.request('GET', `/v1/subscriptions/${fays.id}`)).status).toBe('canceled');
    make('subscription.canceled');

    // ── 1 May: bob's charge fails (subscription.past_due); the PSP's retry succeeds inside the
    // grace (subscription.renewed).
    at(april.subscription.currentPeriodEnd);
    await job('subscription-renewals');
    expect((await pay(bobs.id, 'failed', 'ev-bob-3')).subscription.status).toBe('past_due');
    make('subscription.past_due');
    at(april.subscription.currentPeriodEnd, 86_400);
    const may = await pay(bobs.id, 'succeeded', 'ev-bob-3');
    expect(may.subscription.status).toBe('active');
    make('subscription.renewed');

    // ── 1 June: it fails again (subscription.past_due), and the grace runs out
    // (subscription.expired).
    at(may.subscription.currentPeriodEnd);
    await job('subscription-renewals');
    const june = await pay(bobs.id, 'failed', 'ev-bob-4');
    expect(june.subscription.status).toBe('past_due');
    make('subscription.past_due');
    at(june.subscription.graceEndsAt);
    expect(await job('subscription-renewals')).toMatchObject({ changed: 1 });
    expect(ok(await api.request('GET', `/v1/subscriptions/${bobs.id}`)).status).toBe('expired');
    make('subscription.expired');

    // ── tier.downgrade_warning: ada's points of March 2027 leave the 12-month window on
    // 2028-03-01. Warned once, however many days the review looks ahead.
    startClockAt('2028-02-10T09:00:00Z');
    expect(await job('tier-review')).toMatchObject({ changed: 1 });
    make('tier.downgrade_warning');
    startClockAt('2028-02-11T09:00:00Z');
    expect(await job('tier-review')).toMatchObject({ changed: 0 });
    // ── tier.changed (down) at the review.
    startClockAt('2028-03-02T09:00:00Z');
    expect(await job('tier-review')).toMatchObject({ changed: 1 });
    expect(ok(await api.request('GET', `/v1/members/${ada}`)).tier.code).toBe('member');
    make('tier.changed');

    // ── points.expiring: March 2027's points end on 2029-04-01; noticed 30 days ahead, once, for
    // everyone who holds some: ada, bob (given by ada: a transfer keeps the expiry), fay (her
    // bonus), hal and ivy (imported with points).
    const holders = [ada, bob, fay, hal, ivy];
    startClockAt('2029-03-05T09:00:00Z');
    expect(await job('expire-points')).toMatchObject({ changed: holders.length });
    make('points.expiring', holders.length);
    startClockAt('2029-03-06T09:00:00Z');
    expect(await job('expire-points')).toMatchObject({ changed: 0 });

    // ── points.expired: hal's own change (a purchase) expires his first, in its transaction; the
    // job expires the others'.
    startClockAt('2029-04-02T09:00:00Z');
    await earn(hal, 1_000, 'hal-2');
    make('points.expired');
    expect(await job('expire-points')).toMatchObject({ changed: holders.length - 1 });
    make('points.expired', holders.length - 1);
    for (const memberId of holders.filter((id) => id !== hal)) {
      expect(ok(await api.request('GET', `/v1/members/${memberId}`)).balances.available).toBe(0);
    }
  }, 180_000);

  it('lists each type exactly as often as it was made, no event twice, each in the envelope', async () => {
    const feed = await readFeed();
    const listed = Object.fromEntries(EVENT_TYPES.map((type) => [type, 0])) as Record<string, number>;
    for (const event of feed) listed[event.type] = (listed[event.type] ?? 0) + 1;

    // Every type was made, and the feed holds exactly as many of each (and no other type).
    expect(EVENT_TYPES.filter((type) => made[type] === 0)).toEqual([]);
    expect(listed).toEqual(made);
    const ids = feed.map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);

    const known = new Set(Object.values(members));
    for (const event of feed) {
      expect(Object.keys(event).sort(), event.id).toEqual(
        [
          'data',
          'id',
          'occurredAt',
          'partnerId',
          'type',
          'version',
          ...(event.memberId ? ['memberId'] : []),
        ].sort(),
      );
      expect(event, event.type).toEqual({
        id: expect.stringMatching(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/),
        type: event.type,
        version: 1,
        occurredAt: expect.stringMatching(/^20(27|28|29)-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        // A reward's sell-out and a budget's end are theirs; every other event is a member's.
        ...(event.type === 'reward.out_of_stock' || event.type === 'campaign.budget_exhausted'
          ? {}
          : { memberId: expect.stringMatching(/^mem_/) }),
        partnerId: event.partnerId === null ? null : SHOP,
        data: expect.any(Object),
      });
      if (event.type !== 'member.enrolled' && event.type !== 'member.churn_risk.changed' && event.memberId) {
        expect(known.has(event.memberId), `${event.type} of ${event.memberId}`).toBe(true);
      }
      if ('memberId' in event.data) expect(event.data.memberId, event.id).toBe(event.memberId);
    }

    // Each ledger entry a request answered with is the one event with its transaction's ulid.
    for (const { transactionId, type, memberId } of entries) {
      const id = `evt_${transactionId.slice('txn_'.length)}`;
      expect(feed.filter((event) => event.id === id)).toEqual([expect.objectContaining({ type, memberId })]);
    }
    // Purchases, activities and bonuses are all points.earned; data.type tells them apart.
    const earnedKinds = feed
      .filter((event) => event.type === 'points.earned')
      .map((event) => event.data.type);
    expect(new Set(earnedKinds)).toEqual(new Set(['earn', 'activity', 'bonus']));

    // Each member's story, in order.
    const story = (name: keyof typeof members, prefix: string) =>
      feed
        .filter((event) => event.memberId === members[name] && event.type.startsWith(prefix))
        .map((event) => event.type);
    expect(story('ada', 'tier.')).toEqual(['tier.changed', 'tier.downgrade_warning', 'tier.changed']);
    expect(story('bob', 'subscription.')).toEqual([
      'subscription.started',
      'subscription.renewed',
      'subscription.past_due',
      'subscription.renewed',
      'subscription.past_due',
      'subscription.expired',
    ]);
    expect(story('cy', 'subscription.')).toEqual(['subscription.started', 'subscription.canceled']);
    expect(story('fay', 'subscription.')).toEqual([
      'subscription.started',
      'subscription.renewed',
      'subscription.canceled',
    ]);
    expect(story('eve', '')).toEqual([
      'member.enrolled',
      'subscription.started',
      'points.earned',
      'points.forfeited',
      'subscription.canceled',
      'member.erased',
    ]);
    expect(story('dee', '')).toEqual(['member.enrolled', 'member.erased']);
    expect(story('hal', 'points.')).toEqual([
      'points.earned',
      'points.expiring',
      'points.expired',
      'points.earned',
    ]);

    // What the stream publisher sends is the same: no more, no fewer.
    expect(feed).toEqual(await eventsInTable());
    // And the type filter finds each type's events alone.
    for (const type of ['points.transferred', 'subscription.renewed', 'points.expiring']) {
      expect((await readFeed(type)).map((event) => event.id)).toEqual(
        feed.filter((event) => event.type === type).map((event) => event.id),
      );
    }
  });

  it('records a second reward.out_of_stock when a reward that got a unit back sells out again', async () => {
    // hal holds 10 points (his purchase of 2029-04-02): enough for one 5-point unit at a time.
    const { hal } = members;
    const soldOut = async (name: string) => {
      const reward = await post('/v1/rewards', {
        partnerId: SHOP,
        name,
        costPoints: 5,
        valueMinor: 100,
        inventory: 1,
      });
      const redeemed = await post(`/v1/members/${hal}/redemptions`, { rewardId: reward.id });
      await post(`/v1/redemptions/${redeemed.redemption.id}/refund`, { reason: 'faulty' });
      expect(ok(await api.request('GET', `/v1/rewards/${reward.id}`)).inventory).toBe(1);
      return reward.id as string;
    };
    // Each sold out once (by its last unit's redemption), then got the unit back (the refund):
    // selling out again is a change of its own, with its own event.
    const scarf = await soldOut('Scarf');
    const cap = await soldOut('Cap');
    // The scarf's last unit is redeemed again; the cap is taken off sale.
    const again = await api.request('POST', `/v1/members/${hal}/redemptions`, { body: { rewardId: scarf } });
    expect.soft(again.status, `redeem the scarf again: ${again.text}`).toBe(201);
    const offSale = await api.request('PATCH', `/v1/rewards/${cap}`, { body: { inventory: 0 } });
    expect.soft(offSale.status, `PATCH the cap to 0: ${offSale.text}`).toBe(200);

    const events = await readFeed('reward.out_of_stock');
    const of = (rewardId: string) => events.filter((event) => event.data.rewardId === rewardId).length;
    expect({ scarf: of(scarf), cap: of(cap) }).toEqual({ scarf: 2, cap: 2 });
  });
});
