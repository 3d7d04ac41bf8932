import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClockAt } from '../../lambdas/config/clock.ts';
import { type ApiResponse, partnerBody, startTestApi, type TestApi } from '../support/api.ts';
import { outboxEventsOf, zeroSubscriptionReport } from '../support/subscriptions.ts';

/**
 * Paid membership over HTTP, on the API's clock moved in-process: a year of a monthly plan and of
 * a yearly plan driven through the renewals job (trial, payments, failures, recovery in the grace,
 * expiry after it, cancellation at the period's end), the benefits at earn time, the tier floor,
 * retired plans, price changes, the payment webhook's replay and the subscription report.
 *
 * The report is global to the table and its state levels are cumulative, so every test works in
 * its own stretch of the calendar and ends what it started before the next one begins: the
 * `plans and rules` tests in 2026, the monthly year in 2027, the yearly plan from 2028 to 2030.
 * Instants carry the milliseconds the real clock ran on since it was set, so period boundaries are
 * read from responses (the time of day of the anchor) rather than hard-coded.
 */
let api: TestApi;
let seller = '';

const SECOND = 1_000;
const DAY = 86_400_000;
const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();
const clockTo = (instant: string) => startClockAt(instant);

const plans = {
  monthly: {
    id: 'ym-plus',
    name: 'Plus monthly',
    priceMinor: 999,
    currency: 'USD',
    interval: 'month',
    trialDays: 14,
    benefits: { earnMultiplier: 2, monthlyBonusPoints: 100, tierFloor: null },
  },
  yearly: {
    id: 'yy-plus',
    name: 'Plus yearly',
    priceMinor: 9999,
    currency: 'USD',
    interval: 'year',
    benefits: { earnMultiplier: 1, monthlyBonusPoints: 50, tierFloor: null },
  },
  basic: { id: 'basic-month', name: 'Basic', priceMinor: 999, currency: 'USD', interval: 'month' },
  boost: {
    id: 'boost',
    name: 'Boost',
    priceMinor: 1_500,
    currency: 'USD',
    interval: 'month',
    benefits: { earnMultiplier: 1.5, monthlyBonusPoints: 0, tierFloor: 'silver' },
  },
  legacy: { id: 'legacy', name: 'Legacy', priceMinor: 500, currency: 'USD', interval: 'month' },
  flex: { id: 'flex', name: 'Flex', priceMinor: 1_000, currency: 'USD', interval: 'month' },
} as const;

beforeAll(async () => {
  clockTo('2026-06-01T09:00:00Z');
  api = await startTestApi();
  expect((await api.request('POST', '/v1/partners', { body: partnerBody('sub-shop') })).status).toBe(201);
  seller = (
    await api.request('POST', '/v1/api-keys', {
      body: { name: 'shop', role: 'partner', partnerId: 'sub-shop' },
    })
  ).json.key;
  for (const plan of Object.values(plans)) {
    const created = await api.request('POST', '/v1/plans', { body: plan });
    expect(created.status).toBe(201);
  }
});
afterAll(async () => {
  clockTo(new Date().toISOString());
  await api.close();
});

// ─── Helpers ────────────────────────────────────────────────────────────────────────────────────

async function newMember(): Promise<string> {
  const created = await api.request('POST', '/v1/members', { body: {} });
  expect(created.status).toBe(201);
  return created.json.id;
}

const subscribe = (memberId: string, planId: string, paymentRef?: string) =>
  api.request('POST', `/v1/members/${memberId}/subscriptions`, {
    key: seller,
    body: paymentRef === undefined ? { planId } : { planId, paymentRef },
  });

const pay = (
  subscriptionId: string,
  status: 'succeeded' | 'failed',
  paymentRef: string,
  amountMinor: number,
  idempotencyKey?: string,
) =>
  api.request('POST', `/v1/subscriptions/${subscriptionId}/payments`, {
    key: seller,
    body: { status, paymentRef, amountMinor, currency: 'USD' },
    ...(idempotencyKey ? { idempotencyKey } : {}),
  });

const cancel = (subscriptionId: string, body: { atPeriodEnd?: boolean } = {}) =>
  api.request('POST', `/v1/subscriptions/${subscriptionId}/cancel`, { key: seller, body });

async function subscription(subscriptionId: string) {
  const read = await api.request('GET', `/v1/subscriptions/${subscriptionId}`, { key: seller });
  expect(read.status).toBe(200);
  return read.json;
}

async function member(memberId: string) {
  const read = await api.request('GET', `/v1/members/${memberId}`);
  expect(read.status).toBe(200);
  return read.json;
}

/** Runs a job as of the API's now; answers its asOf (the instant events of the run carry). */
async function runJob(
  name: 'subscription-renewals' | 'tier-review' = 'subscription-renewals',
  asOf?: string,
) {
  const run = await api.request('POST', `/v1/jobs/${name}`, { body: asOf ? { asOf } : {} });
  expect(run.status).toBe(200);
  expect(run.json.complete).toBe(true);
  return run.json.asOf as string;
}

async function earn(memberId: string, amountMinor: number, orderRef: string) {
  const earned = await api.request('POST', `/v1/members/${memberId}/earn`, {
    key: seller,
    body: { amountMinor, currency: 'USD', orderRef },
  });
  expect(earned.status).toBe(201);
  return earned.json;
}

async function expectReport(from: string, to: string, figures: Partial<typeof zeroSubscriptionReport>) {
  const report = await api.request('GET', `/v1/reports/subscriptions?from=${from}&to=${to}`);
  expect(report.status).toBe(200);
  expect(report.json).toEqual({ from, to, ...zeroSubscriptionReport, ...figures });
}

/**
 * The member's outbox events (envelope without id and version), oldest first. `member.enrolled` is
 * not among them: it is the member item's own insert (see event-publisher.ts).
 */
async function eventsOf(memberId: string) {
  const events = await outboxEventsOf(api.store, memberId);
  for (const event of events) {
    expect(event.id).toMatch(/^evt_/);
    expect(event.version).toBe(1);
  }
  return events.map(({ id: _id, version: _version, ...event }) => event);
}

async function bonusesOf(memberId: string) {
  const history = await api.request('GET', `/v1/members/${memberId}/transactions?type=bonus&limit=100`);
  expect(history.status).toBe(200);
  return (history.json.items as { occurredAt: string }[]).sort((a, b) =>
    a.occurredAt.localeCompare(b.occurredAt),
  );
}

const conflict = (response: ApiResponse, detail: string | RegExp) => {
  expect(response.status).toBe(409);
  expect(response.json).toMatchObject({ type: '/problems/conflict', status: 409 });
  if (typeof detail === 'string') expect(response.json.detail).toBe(detail);
  else expect(response.json.detail).toMatch(detail);
};

// ─── Plans and rules (2026) ─────────────────────────────────────────────────────────────────────

describe('plans and rules', () => {
  it('MRR counts a yearly plan as price/12: 999 monthly + 9999 yearly → 1832, ARR 21987; churned = canceled + expired', async () => {
    clockTo('2026-06-01T10:00:00Z');
    await expectReport('2026-06-01', '2026-06-01', {});
    const monthlyMember = await newMember();
    const yearlyMember = await newMember();
    const monthly = await subscribe(monthlyMember, 'basic-month', 'mrr-monthly');
    const yearly = await subscribe(yearlyMember, 'yy-plus', 'mrr-yearly');
    expect([monthly.status, yearly.status]).toEqual([201, 201]);
    expect(monthly.json.subscription).toMatchObject({ status: 'active', priceMinor: 999, interval: 'month' });
    expect(yearly.json.subscription).toMatchObject({ status: 'active', priceMinor: 9999, interval: 'year' });
    // The yearly plan's first month of bonus is credited at signup.
    expect(yearly.json.balances.available).toBe(50);
    await expectReport('2026-06-01', '2026-06-01', {
      active: 2,
      mrrMinor: 1832,
      arrMinor: 21987,
      started: 2,
      revenueMinor: 999 + 9999,
      bonusPoints: 50,
    });
    const csv = await api.request(
      'GET',
      '/v1/reports/subscriptions?from=2026-06-01&to=2026-06-01&format=csv',
    );
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.text.split('\r\n')[1]).toBe('2026-06-01,2026-06-01,USD,0,2,0,1832,21987,2,0,0,0,0,0,10998,50');

    clockTo('2026-06-02T10:00:00Z');
    const ended = await cancel(monthly.json.subscription.id, { atPeriodEnd: false });
    expect(ended.status).toBe(200);
    expect(ended.json.subscription).toMatchObject({ status: 'canceled', nextPayment: null });
    expect(ended.json.subscription.endedAt).toBe(ended.json.subscription.canceledAt);
    expect((await cancel(yearly.json.subscription.id, { atPeriodEnd: false })).status).toBe(200);
    // Canceling an ended subscription is an illegal transition: 409 naming its state.
    conflict(
      await cancel(monthly.json.subscription.id),
      `Subscription ${monthly.json.subscription.id} is canceled: it has already ended.`,
    );
    await expectReport('2026-06-01', '2026-06-02', {
      started: 2,
      canceled: 2,
      churned: 2,
      revenueMinor: 10998,
      bonusPoints: 50,
    });
    await expectReport('2026-06-02', '2026-06-02', { canceled: 2, churned: 2 });
  });

  it('benefits at earn time and the tier floor: up at once while live, down only at the review after it ends', async () => {
    clockTo('2026-06-10T10:00:00Z');
    const memberId = await newMember();
    expect((await member(memberId)).tier.code).toBe('member');
    const started = await subscribe(memberId, 'boost', 'boost-0');
    expect(started.status).toBe(201);
    const sub = started.json.subscription;
    const tod = sub.createdAt.slice(10);
    const P1 = `2026-07-10${tod}`;
    let view = await member(memberId);
    expect(view.tier).toMatchObject({ code: 'silver', since: sub.createdAt, review: null });
    expect(view.subscription).toMatchObject({ id: sub.id, planId: 'boost', status: 'active' });

    // floor(12345 / 100 × 1 × 1.25 (silver) × 1.5 (boost)) = floor(231.47) = 231.
    const first = await earn(memberId, 12_345, 'boost-order-1');
    expect(first.transaction.points).toBe(231);
    expect(first.transaction.breakdown).toEqual([
      { rule: 'base', points: 123 },
      { rule: 'tier:silver', points: 31 },
      { rule: 'subscription:boost', points: 77 },
    ]);

    // A month later, paid: the tier review finds nothing to review while the floor holds.
    clockTo(plus(P1, SECOND));
    const renewed = await pay(sub.id, 'succeeded', 'boost-1', 1_500);
    expect(renewed.status).toBe(201);
    await runJob('tier-review');
    expect((await member(memberId)).tier.code).toBe('silver');

    const ended = await cancel(sub.id, { atPeriodEnd: false });
    expect(ended.status).toBe(200);
    const canceledAt = ended.json.subscription.canceledAt;
    // Ending the floor moves nobody down: the tier stays until its review date.
    view = await member(memberId);
    expect(view.tier.code).toBe('silver');
    expect(view.tier.review.on).toBe('2026-08-01');
    const second = await earn(memberId, 12_345, 'boost-order-2');
    expect(second.transaction.breakdown).toEqual([
      { rule: 'base', points: 123 },
      { rule: 'tier:silver', points: 31 },
    ]);
    expect(second.transaction.points).toBe(154);

    clockTo('2026-08-01T00:01:00Z');
    await runJob('tier-review', '2026-07-31T23:59:00Z');
    expect((await member(memberId)).tier.code).toBe('silver');
    const reviewedAt = await runJob('tier-review');
    view = await member(memberId);
    expect(view.tier).toMatchObject({ code: 'member', since: reviewedAt });

    const events = await eventsOf(memberId);
    expect(events.map((event) => event.type)).toEqual([
      'subscription.started',
      'tier.changed',
      'subscription.renewed',
      'subscription.canceled',
      'tier.downgrade_warning',
      'tier.changed',
    ]);
    expect(events[1]).toMatchObject({
      occurredAt: sub.createdAt,
      data: { previous: 'member', current: 'silver', direction: 'up' },
    });
    expect(events[3]).toMatchObject({
      occurredAt: canceledAt,
      data: { subscriptionId: sub.id, status: 'canceled', atPeriodEnd: false, previousStatus: 'active' },
    });
    expect(events[5]).toMatchObject({
      occurredAt: reviewedAt,
      data: { previous: 'silver', current: 'member', direction: 'down' },
    });
  });

  it('a retired plan refuses new subscribers (409) while its existing subscription keeps renewing', async () => {
    clockTo('2026-08-10T10:00:00Z');
    const existing = await newMember();
    const newcomer = await newMember();
    const started = await subscribe(existing, 'legacy', 'legacy-0');
    expect(started.status).toBe(201);
    const sub = started.json.subscription;
    const tod = sub.createdAt.slice(10);
    const retired = await api.request('PATCH', '/v1/plans/legacy', { body: { status: 'retired' } });
    expect(retired.status).toBe(200);
    expect(retired.json).toMatchObject({ id: 'legacy', status: 'retired', priceMinor: 500 });
    expect(retired.json.retiredAt).toEqual(retired.json.updatedAt);
    expect((await api.request('GET', '/v1/plans/legacy')).json.status).toBe('retired');
    const listed = await api.request('GET', '/v1/plans?limit=50');
    expect(listed.json.items.map((plan: { id: string }) => plan.id)).toContain('legacy');

    conflict(
      await subscribe(newcomer, 'legacy', 'legacy-new'),
      'Plan legacy is retired: it takes no new subscribers.',
    );
    expect((await api.request('GET', `/v1/members/${newcomer}/subscription`, { key: seller })).status).toBe(
      404,
    );

    clockTo(plus(`2026-09-10${tod}`, SECOND));
    await runJob();
    const renewed = await pay(sub.id, 'succeeded', 'legacy-1', 500);
    expect(renewed.status).toBe(201);
    expect(renewed.json.subscription).toMatchObject({
      planId: 'legacy',
      status: 'active',
      priceMinor: 500,
      currentPeriodStart: `2026-09-10${tod}`,
      currentPeriodEnd: `2026-10-10${tod}`,
      paidThrough: `2026-10-10${tod}`,
      nextPayment: { amountMinor: 500, dueAt: `2026-10-10${tod}` },
    });
    expect((await cancel(sub.id, { atPeriodEnd: false })).status).toBe(200);
  });

  it('a price change reaches a subscriber from its next period; a second live subscription is 409', async () => {
    clockTo('2026-09-20T10:00:00Z');
    const memberId = await newMember();
    const started = await subscribe(memberId, 'flex', 'flex-0');
    expect(started.status).toBe(201);
    const sub = started.json.subscription;
    const tod = sub.createdAt.slice(10);
    const [P1, P2] = [`2026-10-20${tod}`, `2026-11-20${tod}`];
    expect(sub).toMatchObject({ priceMinor: 1_000, nextPayment: { amountMinor: 1_000, dueAt: P1 } });

    conflict(
      await subscribe(memberId, 'basic-month', 'flex-second'),
      `Subscription ${sub.id} is active: member ${memberId} already has this live subscription; cancel it or change its plan instead.`,
    );

    const repriced = await api.request('PATCH', '/v1/plans/flex', { body: { priceMinor: 1_200 } });
    expect(repriced.status).toBe(200);
    expect(repriced.json.priceMinor).toBe(1_200);
    expect(await subscription(sub.id)).toMatchObject({
      priceMinor: 1_000,
      currentPeriodEnd: P1,
      nextPayment: { amountMinor: 1_200, dueAt: P1 },
    });
    conflict(
      await pay(sub.id, 'succeeded', 'flex-1-old-price', 1_000),
      `The period starting ${P1} costs 1200; a payment of 1000 does not pay it.`,
    );
    const paid = await pay(sub.id, 'succeeded', 'flex-1', 1_200);
    expect(paid.status).toBe(201);
    expect(paid.json.payment).toMatchObject({ amountMinor: 1_200, periodStart: P1, status: 'succeeded' });
    expect(paid.json.subscription).toMatchObject({
      priceMinor: 1_000,
      paidThrough: P2,
      nextPayment: { amountMinor: 1_200, dueAt: P2 },
    });
    // A newcomer pays the new price at signup.
    const newcomer = await subscribe(await newMember(), 'flex', 'flex-newcomer');
    expect(newcomer.json.subscription).toMatchObject({ priceMinor: 1_200 });
    expect(newcomer.json.subscription.lastPayment).toMatchObject({ amountMinor: 1_200 });

    clockTo(plus(P1, SECOND));
    const renewedAt = await runJob();
    expect(await subscription(sub.id)).toMatchObject({
      status: 'active',
      priceMinor: 1_200,
      currentPeriodStart: P1,
      currentPeriodEnd: P2,
    });
    const events = await eventsOf(memberId);
    expect(events.filter((event) => event.type === 'subscription.renewed')).toEqual([
      {
        type: 'subscription.renewed',
        occurredAt: renewedAt,
        memberId,
        partnerId: 'sub-shop',
        data: {
          subscriptionId: sub.id,
          planId: 'flex',
          status: 'active',
          currentPeriodStart: P1,
          currentPeriodEnd: P2,
          previousStatus: 'active',
          memberId,
          effectiveAt: P1,
        },
      },
    ]);
    expect((await cancel(sub.id, { atPeriodEnd: false })).status).toBe(200);
    expect((await cancel(newcomer.json.subscription.id, { atPeriodEnd: false })).status).toBe(200);
  });

  it('an unpaid period expires at the grace end even without a failure report; then every change is 409', async () => {
    clockTo('2026-11-01T10:00:00Z');
    const memberId = await newMember();
    const started = await subscribe(memberId, 'basic-month', 'basic-0');
    const sub = started.json.subscription;
    const tod = sub.createdAt.slice(10);
    const [P1, P2, grace] = [`2026-12-01${tod}`, `2027-01-01${tod}`, `2026-12-08${tod}`];
    clockTo(plus(P1, SECOND));
    await runJob();
    expect(await subscription(sub.id)).toMatchObject({
      status: 'active',
      currentPeriodStart: P1,
      currentPeriodEnd: P2,
      graceEndsAt: grace,
      paidThrough: P1,
      nextPayment: { amountMinor: 999, dueAt: P1 },
    });
    clockTo(plus(grace, SECOND));
    const expiredAt = await runJob();
    expect(await subscription(sub.id)).toMatchObject({
      status: 'expired',
      endedAt: grace,
      graceEndsAt: null,
      nextPayment: null,
      paidThrough: P1,
    });
    conflict(
      await pay(sub.id, 'succeeded', 'basic-1', 999),
      `Subscription ${sub.id} is expired: it takes no more payments.`,
    );
    conflict(
      await api.request('PATCH', `/v1/subscriptions/${sub.id}`, { key: seller, body: { planId: 'flex' } }),
      `Subscription ${sub.id} is expired: it has ended; subscribe again instead.`,
    );
    conflict(await cancel(sub.id), `Subscription ${sub.id} is expired: it has already ended.`);
    const events = await eventsOf(memberId);
    expect(events.at(-1)).toEqual({
      type: 'subscription.expired',
      occurredAt: expiredAt,
      memberId,
      partnerId: 'sub-shop',
      data: {
        subscriptionId: sub.id,
        planId: 'basic-month',
        status: 'expired',
        currentPeriodStart: P1,
        currentPeriodEnd: P2,
        previousStatus: 'active',
        memberId,
        effectiveAt: grace,
      },
    });
    expect(events.map((event) => event.type)).toEqual(['subscription.started', 'subscription.expired']);
  });

  it('replays answer the first response even after a later subscription replaced the one they changed', async () => {
    clockTo('2026-12-15T10:00:00Z');
    const memberId = await newMember();
    const first = (await subscribe(memberId, 'basic-month', 'replaced-0')).json.subscription;
    const ahead = await pay(first.id, 'succeeded', 'replaced-1', 999);
    expect(ahead.status).toBe(201);
    const canceled = await api.request('POST', `/v1/subscriptions/${first.id}/cancel`, {
      key: seller,
      idempotencyKey: 'replaced-cancel',
      body: { atPeriodEnd: false },
    });
    expect(canceled.status).toBe(200);
    const next = await subscribe(memberId, 'basic-month', 'replaced-2');
    expect(next.status).toBe(201);
    expect((await cancel(next.json.subscription.id, { atPeriodEnd: false })).status).toBe(200);
    // Retries of the requests that succeeded on the first subscription still answer as the first time.
    const webhookRetry = await pay(first.id, 'succeeded', 'replaced-1', 999, 'psp-retry-after-replaced');
    expect
      .soft([webhookRetry.status, webhookRetry.headers.get('idempotent-replayed')])
      .toEqual([201, 'true']);
    expect.soft(webhookRetry.text).toBe(ahead.text);
    const cancelRetry = await api.request('POST', `/v1/subscriptions/${first.id}/cancel`, {
      key: seller,
      idempotencyKey: 'replaced-cancel',
      body: { atPeriodEnd: false },
    });
    expect.soft([cancelRetry.status, cancelRetry.headers.get('idempotent-replayed')]).toEqual([200, 'true']);
    expect.soft(cancelRetry.text).toBe(canceled.text);
    // A new payment for it is refused, naming its final state.
    conflict(
      await pay(first.id, 'succeeded', 'replaced-3', 999),
      `Subscription ${first.id} is canceled: a later subscription of its member replaced it.`,
    );
  });
});

// ─── A year of the monthly plan (2027) ──────────────────────────────────────────────────────────

describe('a year of a monthly plan with a 14-day trial', () => {
  it('trial, renewals, a failure recovered in the grace, expiry after the grace, a new subscription canceled at the period end', async () => {
    await expectReport('2027-01-01', '2027-12-31', {});
    clockTo('2027-01-15T10:00:00Z');
    const memberId = await newMember();
    const started = await subscribe(memberId, 'ym-plus', 'card-m');
    expect(started.status).toBe(201);
    const first = started.json.subscription;
    const id = first.id;
    const t0 = first.createdAt;
    const tod = t0.slice(10);
    const on = (day: string) => `${day}${tod}`;
    // Period k starts k months after the trial's end, on its day of the month (Feb has no 29th).
    const P = [
      '2027-01-29',
      '2027-02-28',
      '2027-03-29',
      '2027-04-29',
      '2027-05-29',
      '2027-06-29',
      '2027-07-29',
      '2027-08-29',
    ].map(on) as [string, string, string, string, string, string, string, string];
    expect(first).toEqual({
      id: expect.stringMatching(/^sub_/),
      memberId,
      partnerId: 'sub-shop',
      planId: 'ym-plus',
      status: 'trialing',
      priceMinor: 999,
      currency: 'USD',
      interval: 'month',
      benefits: plans.monthly.benefits,
      currentPeriodStart: t0,
      currentPeriodEnd: P[0],
      trialEndsAt: P[0],
      graceEndsAt: null,
      cancelAtPeriodEnd: false,
      canceledAt: null,
      endedAt: null,
      scheduledPlanId: null,
      paidThrough: null,
      nextPayment: { amountMinor: 999, dueAt: P[0] },
      lastPayment: null,
      createdAt: t0,
      updatedAt: t0,
    });
    expect(started.json.balances.available).toBe(0);
    conflict(
      await subscribe(memberId, 'basic-month', 'second'),
      /^Subscription sub_\w+ is trialing: member /,
    );
    await expectReport('2027-01-01', '2027-01-15', { trialing: 1, started: 1 });

    const renewedAt: string[] = [];
    const expectPaid = (response: ApiResponse, paymentRef: string, period: number, available: number) => {
      expect(response.status).toBe(201);
      expect(response.json.payment).toEqual({
        paymentRef,
        status: 'succeeded',
        amountMinor: 999,
        recordedAt: expect.any(String),
        periodStart: P[period],
      });
      expect(response.json.subscription).toMatchObject({
        id,
        status: 'active',
        currentPeriodStart: P[period],
        currentPeriodEnd: P[period + 1],
        graceEndsAt: null,
        paidThrough: P[period + 1],
        nextPayment: { amountMinor: 999, dueAt: P[period + 1] },
        lastPayment: response.json.payment,
      });
      expect(response.json.balances.available).toBe(available);
      renewedAt.push(response.json.payment.recordedAt);
    };

    // Month 0: the trial ends; the job begins the first period, awaiting its payment for 7 days.
    clockTo(plus(P[0], SECOND));
    await runJob();
    expect(await subscription(id)).toMatchObject({
      status: 'active',
      currentPeriodStart: P[0],
      currentPeriodEnd: P[1],
      trialEndsAt: P[0],
      graceEndsAt: on('2027-02-05'),
      paidThrough: null,
      nextPayment: { amountMinor: 999, dueAt: P[0] },
    });
    await expectReport('2027-01-01', '2027-01-29', { active: 1, mrrMinor: 999, arrMinor: 11988, started: 1 });
    expectPaid(await pay(id, 'succeeded', 'm-0', 999), 'm-0', 0, 100);

    // Month 1: paid as the period begins; the PSP's retried webhook is answered as the first time.
    clockTo(plus(P[1], SECOND));
    const paid1 = await pay(id, 'succeeded', 'm-1', 999, 'psp-webhook-1');
    expectPaid(paid1, 'm-1', 1, 200);
    const replay = await pay(id, 'succeeded', 'm-1', 999, 'psp-webhook-1-retry');
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.text).toBe(paid1.text);
    conflict(
      await pay(id, 'failed', 'm-1', 999),
      `Subscription ${id} is active: payment m-1 already succeeded.`,
    );
    await runJob();
    expect((await subscription(id)).paidThrough).toBe(P[2]);

    // Month 2: the job begins it unpaid, the PSP reports a failure (past_due), then a success in the grace.
    clockTo(plus(P[2], SECOND));
    await runJob();
    expect(await subscription(id)).toMatchObject({ status: 'active', graceEndsAt: on('2027-04-05') });
    const failed = await pay(id, 'failed', 'm-2-a', 999);
    expect(failed.status).toBe(201);
    expect(failed.json.payment).toEqual({
      paymentRef: 'm-2-a',
      status: 'failed',
      amountMinor: 999,
      recordedAt: expect.any(String),
      periodStart: P[2],
    });
    expect(failed.json.subscription).toMatchObject({
      status: 'past_due',
      currentPeriodStart: P[2],
      currentPeriodEnd: P[3],
      graceEndsAt: on('2027-04-05'),
      paidThrough: P[2],
      nextPayment: { amountMinor: 999, dueAt: P[2] },
    });
    const pastDueAt = failed.json.payment.recordedAt;
    await expectReport('2027-01-01', '2027-03-29', {
      pastDue: 1,
      mrrMinor: 999,
      arrMinor: 11988,
      started: 1,
      renewed: 2,
      wentPastDue: 1,
      revenueMinor: 1998,
      bonusPoints: 200,
    });
    clockTo(plus(P[2], 3 * DAY));
    await runJob();
    expect((await subscription(id)).status).toBe('past_due');
    // Benefits continue while past_due: floor(1000 / 100 × 2) = 20.
    const pastDueEarn = await earn(memberId, 1_000, 'ym-order-past-due');
    expect(pastDueEarn.transaction.breakdown).toEqual([
      { rule: 'base', points: 10 },
      { rule: 'subscription:ym-plus', points: 10 },
    ]);
    expectPaid(await pay(id, 'succeeded', 'm-2-b', 999), 'm-2-b', 2, 320);

    // Month 3: paid on time.
    clockTo(plus(P[3], SECOND));
    expectPaid(await pay(id, 'succeeded', 'm-3', 999), 'm-3', 3, 420);

    // Month 4: paid a day ahead; the job renews it when it begins (event at the period start).
    clockTo(plus(P[4], -DAY));
    const ahead = await pay(id, 'succeeded', 'm-4', 999);
    expect(ahead.status).toBe(201);
    expect(ahead.json.payment.periodStart).toBe(P[4]);
    expect(ahead.json.subscription).toMatchObject({
      status: 'active',
      currentPeriodStart: P[3],
      paidThrough: P[5],
      nextPayment: { amountMinor: 999, dueAt: P[5] },
    });
    expect(ahead.json.balances.available).toBe(420);
    clockTo(plus(P[4], SECOND));
    const month4RunAt = await runJob();
    expect(await subscription(id)).toMatchObject({
      status: 'active',
      currentPeriodStart: P[4],
      currentPeriodEnd: P[5],
      paidThrough: P[5],
    });
    expect((await member(memberId)).balances.available).toBe(520);

    // Month 5: paid on time.
    clockTo(plus(P[5], SECOND));
    expectPaid(await pay(id, 'succeeded', 'm-5', 999), 'm-5', 5, 620);

    // Month 6: the payment fails and is never recovered: expired when the grace ends.
    clockTo(plus(P[6], SECOND));
    const failed6 = await pay(id, 'failed', 'm-6', 999);
    expect(failed6.json.subscription).toMatchObject({ status: 'past_due', graceEndsAt: on('2027-08-05') });
    const pastDue6At = failed6.json.payment.recordedAt;
    const graceEnd = on('2027-08-05');
    clockTo(plus(graceEnd, -60 * SECOND));
    await runJob();
    expect((await subscription(id)).status).toBe('past_due');
    clockTo(plus(graceEnd, SECOND));
    const expiredRunAt = await runJob();
    const expired = await subscription(id);
    expect(expired).toMatchObject({
      status: 'expired',
      currentPeriodStart: P[6],
      currentPeriodEnd: P[7],
      endedAt: graceEnd,
      graceEndsAt: null,
      paidThrough: P[6],
      nextPayment: null,
    });
    await expectReport('2027-01-01', '2027-08-05', {
      started: 1,
      renewed: 6,
      wentPastDue: 2,
      expired: 1,
      churned: 1,
      revenueMinor: 6 * 999,
      bonusPoints: 600,
    });
    conflict(
      await pay(id, 'succeeded', 'm-6-late', 999),
      `Subscription ${id} is expired: it takes no more payments.`,
    );
    // The PSP's retries of earlier webhooks are still answered as the first time, state unchanged.
    const lateRetry = await pay(id, 'succeeded', 'm-1', 999, 'psp-webhook-1-late-retry');
    expect([lateRetry.status, lateRetry.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
    expect(lateRetry.text).toBe(paid1.text);
    const failureRetry = await pay(id, 'failed', 'm-2-a', 999, 'psp-webhook-2a-retry');
    expect([failureRetry.status, failureRetry.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
    expect(failureRetry.text).toBe(failed.text);
    expect((await subscription(id)).status).toBe('expired');
    const afterExpiry = await earn(memberId, 1_000, 'ym-order-expired');
    expect(afterExpiry.transaction.breakdown).toEqual([{ rule: 'base', points: 10 }]);

    // A new subscription: no second trial, so the first period is paid at signup.
    clockTo('2027-08-10T12:00:00Z');
    const noCard = await subscribe(memberId, 'ym-plus');
    expect(noCard.status).toBe(400);
    expect(noCard.json.errors).toEqual([
      {
        path: 'body.paymentRef',
        message:
          'required: plan ym-plus has no trial left for this member, so its first period is paid at signup',
      },
    ]);
    const again = await subscribe(memberId, 'ym-plus', 'm2-0');
    expect(again.status).toBe(201);
    const second = again.json.subscription;
    const t1 = second.createdAt;
    const tod1 = t1.slice(10);
    const B = [
      t1,
      ...['2027-09-10', '2027-10-10', '2027-11-10', '2027-12-10'].map((day) => `${day}${tod1}`),
    ] as [string, string, string, string, string];
    expect(second).toMatchObject({
      status: 'active',
      trialEndsAt: null,
      currentPeriodStart: t1,
      currentPeriodEnd: B[1],
      paidThrough: B[1],
      nextPayment: { amountMinor: 999, dueAt: B[1] },
      lastPayment: {
        paymentRef: 'm2-0',
        status: 'succeeded',
        amountMinor: 999,
        recordedAt: t1,
        periodStart: t1,
      },
    });
    expect(again.json.balances.available).toBe(730);
    // The first subscription is kept as it ended, and refuses changes.
    expect(await subscription(id)).toMatchObject({ status: 'expired', endedAt: graceEnd });
    conflict(
      await pay(id, 'succeeded', 'm-6-later', 999),
      /is expired: a later subscription of its member replaced it/,
    );

    const secondRenewedAt: string[] = [];
    for (const [k, available] of [
      [1, 830],
      [2, 930],
      [3, 1030],
    ] as const) {
      clockTo(plus(B[k], SECOND));
      const paid = await pay(second.id, 'succeeded', `m2-${k}`, 999);
      expect(paid.status).toBe(201);
      expect(paid.json.subscription).toMatchObject({
        status: 'active',
        currentPeriodStart: B[k],
        currentPeriodEnd: B[k + 1],
        paidThrough: B[k + 1],
      });
      expect(paid.json.balances.available).toBe(available);
      secondRenewedAt.push(paid.json.payment.recordedAt);
    }

    // Canceled at the period's end: it runs on, takes no further payment, ends with the period.
    clockTo('2027-11-20T08:00:00Z');
    const canceling = await cancel(second.id);
    expect(canceling.status).toBe(200);
    expect(canceling.json.subscription).toMatchObject({
      status: 'active',
      cancelAtPeriodEnd: true,
      endedAt: null,
      paidThrough: B[4],
      nextPayment: null,
    });
    const canceledAt = canceling.json.subscription.canceledAt;
    expect(canceledAt).toEqual(expect.stringMatching(/^2027-11-20T08:00/));
    conflict(
      await pay(second.id, 'succeeded', 'm2-4', 999),
      /is active: it is canceled at the end of the period/,
    );
    await expectReport('2027-11-20', '2027-11-20', { active: 1, mrrMinor: 999, arrMinor: 11988 });
    clockTo(plus(B[4], SECOND));
    const canceledRunAt = await runJob();
    expect(await subscription(second.id)).toMatchObject({
      status: 'canceled',
      canceledAt,
      endedAt: B[4],
      currentPeriodStart: B[3],
      currentPeriodEnd: B[4],
      nextPayment: null,
    });

    // The year: 9 renewals (6 + 3), 2 failures, 1 expiry and 1 cancellation, 10 payments, 10 bonuses.
    await expectReport('2027-01-01', '2027-12-31', {
      started: 2,
      renewed: 9,
      wentPastDue: 2,
      canceled: 1,
      expired: 1,
      churned: 2,
      revenueMinor: 10 * 999,
      bonusPoints: 1_000,
    });
    expect((await member(memberId)).balances.available).toBe(1_030);
    const bonuses = await bonusesOf(memberId);
    expect(bonuses).toHaveLength(10);
    const bonusMonths = [
      ...P.slice(0, 6).map((at, k) => [id, k, at]),
      ...B.slice(0, 4).map((at, k) => [second.id, k, at]),
    ];
    bonuses.forEach((bonus, index) => {
      const [subscriptionId, month, at] = bonusMonths[index] as [string, number, string];
      expect(bonus).toMatchObject({
        type: 'bonus',
        memberId,
        points: 100,
        breakdown: [{ rule: 'subscription:ym-plus', points: 100 }],
        orderRef: `${subscriptionId}:m${month}`,
        occurredAt: at,
      });
    });

    const data = (
      subscriptionId: string,
      status: string,
      start: string,
      end: string,
      effectiveAt: string,
      extra: Record<string, unknown>,
    ) => ({
      subscriptionId,
      planId: 'ym-plus',
      status,
      currentPeriodStart: start,
      currentPeriodEnd: end,
      memberId,
      effectiveAt,
      ...extra,
    });
    const event = (type: string, occurredAt: string, eventData: Record<string, unknown>) => ({
      type,
      occurredAt,
      memberId,
      partnerId: 'sub-shop',
      data: eventData,
    });
    const renewal = (k: number, at: string, occurredAt = at, previousStatus = 'active') =>
      event(
        'subscription.renewed',
        occurredAt,
        data(id, 'active', P[k] as string, P[k + 1] as string, at, { previousStatus }),
      );
    const events = await eventsOf(memberId);
    expect(events).toEqual([
      event('subscription.started', t0, data(id, 'trialing', t0, P[0], t0, { trial: true })),
      renewal(0, renewedAt[0] as string),
      renewal(1, renewedAt[1] as string),
      event(
        'subscription.past_due',
        pastDueAt,
        data(id, 'past_due', P[2], P[3], pastDueAt, { previousStatus: 'active', paymentRef: 'm-2-a' }),
      ),
      renewal(2, renewedAt[2] as string, renewedAt[2], 'past_due'),
      renewal(3, renewedAt[3] as string),
      renewal(4, P[4], month4RunAt),
      renewal(5, renewedAt[4] as string),
      event(
        'subscription.past_due',
        pastDue6At,
        data(id, 'past_due', P[6], P[7], pastDue6At, { previousStatus: 'active', paymentRef: 'm-6' }),
      ),
      event(
        'subscription.expired',
        expiredRunAt,
        data(id, 'expired', P[6], P[7], graceEnd, { previousStatus: 'past_due' }),
      ),
      event('subscription.started', t1, data(second.id, 'active', t1, B[1], t1, { trial: false })),
      ...[1, 2, 3].map((k) =>
        event(
          'subscription.renewed',
          secondRenewedAt[k - 1] as string,
          data(second.id, 'active', B[k] as string, B[k + 1] as string, secondRenewedAt[k - 1] as string, {
            previousStatus: 'active',
          }),
        ),
      ),
      event(
        'subscription.canceled',
        canceledRunAt,
        data(second.id, 'canceled', B[3], B[4], B[4], { previousStatus: 'active', atPeriodEnd: true }),
      ),
    ]);
  });
});

// ─── The yearly plan (2028–2030) ────────────────────────────────────────────────────────────────

describe('a yearly plan', () => {
  it('12 monthly bonuses, one renewal paid ahead, a cancel at the period end, MRR at price/12', async () => {
    await expectReport('2028-01-01', '2028-12-31', {});
    clockTo('2028-01-31T10:00:00Z');
    const memberId = await newMember();
    const started = await subscribe(memberId, 'yy-plus', 'y-0');
    expect(started.status).toBe(201);
    const sub = started.json.subscription;
    const t0 = sub.createdAt;
    const tod = t0.slice(10);
    const on = (day: string) => `${day}${tod}`;
    const [Y1, Y2] = [on('2029-01-31'), on('2030-01-31')];
    // Bonus month k starts k calendar months after the anchor, on the 31st or the month's last day.
    const months = [
      '2028-01-31',
      '2028-02-29',
      '2028-03-31',
      '2028-04-30',
      '2028-05-31',
      '2028-06-30',
      '2028-07-31',
      '2028-08-31',
      '2028-09-30',
      '2028-10-31',
      '2028-11-30',
      '2028-12-31',
      '2029-01-31',
      '2029-02-28',
      '2029-03-31',
      '2029-04-30',
      '2029-05-31',
      '2029-06-30',
      '2029-07-31',
      '2029-08-31',
      '2029-09-30',
      '2029-10-31',
      '2029-11-30',
      '2029-12-31',
    ].map(on);
    expect(sub).toMatchObject({
      status: 'active',
      priceMinor: 9999,
      interval: 'year',
      currentPeriodStart: t0,
      currentPeriodEnd: Y1,
      trialEndsAt: null,
      paidThrough: Y1,
      nextPayment: { amountMinor: 9999, dueAt: Y1 },
      lastPayment: {
        paymentRef: 'y-0',
        status: 'succeeded',
        amountMinor: 9999,
        recordedAt: t0,
        periodStart: t0,
      },
    });
    expect(started.json.balances.available).toBe(50);
    await expectReport('2028-01-01', '2028-01-31', {
      active: 1,
      mrrMinor: 833,
      arrMinor: 9999,
      started: 1,
      revenueMinor: 9999,
      bonusPoints: 50,
    });

    // A month's bonus is due at its start, not a moment before (Feb 29 in a leap year).
    clockTo(plus(months[1] as string, -2 * SECOND));
    await runJob();
    expect((await member(memberId)).balances.available).toBe(50);
    for (let k = 1; k <= 11; k++) {
      clockTo(plus(months[k] as string, SECOND));
      await runJob();
      expect((await member(memberId)).balances.available).toBe(50 * (k + 1));
    }
    expect(await subscription(sub.id)).toMatchObject({
      status: 'active',
      currentPeriodStart: t0,
      currentPeriodEnd: Y1,
      paidThrough: Y1,
    });
    await expectReport('2028-01-01', '2028-12-31', {
      active: 1,
      mrrMinor: 833,
      arrMinor: 9999,
      started: 1,
      revenueMinor: 9999,
      bonusPoints: 600,
    });

    // The renewal is paid a day ahead; the job renews it when the year ends.
    clockTo(on('2029-01-30'));
    const ahead = await pay(sub.id, 'succeeded', 'y-1', 9999);
    expect(ahead.status).toBe(201);
    expect(ahead.json.payment.periodStart).toBe(Y1);
    expect(ahead.json.subscription).toMatchObject({
      currentPeriodStart: t0,
      currentPeriodEnd: Y1,
      paidThrough: Y2,
      nextPayment: { amountMinor: 9999, dueAt: Y2 },
    });
    expect(ahead.json.balances.available).toBe(600);
    clockTo(plus(Y1, SECOND));
    const renewedRunAt = await runJob();
    expect(await subscription(sub.id)).toMatchObject({
      status: 'active',
      priceMinor: 9999,
      currentPeriodStart: Y1,
      currentPeriodEnd: Y2,
      paidThrough: Y2,
    });
    expect((await member(memberId)).balances.available).toBe(650);

    // Canceled at the period's end in March: the cancel itself credits February's bonus.
    clockTo('2029-03-05T09:00:00Z');
    const canceling = await cancel(sub.id);
    expect(canceling.status).toBe(200);
    expect(canceling.json.subscription).toMatchObject({
      status: 'active',
      cancelAtPeriodEnd: true,
      nextPayment: null,
      paidThrough: Y2,
    });
    expect(canceling.json.balances.available).toBe(700);
    const canceledAt = canceling.json.subscription.canceledAt;

    // One run at the end of the year catches up ten months of bonuses, then ends it.
    clockTo(plus(Y2, SECOND));
    const endedRunAt = await runJob();
    expect(await subscription(sub.id)).toMatchObject({
      status: 'canceled',
      canceledAt,
      endedAt: Y2,
      nextPayment: null,
    });
    expect((await member(memberId)).balances.available).toBe(1_200);
    const bonuses = await bonusesOf(memberId);
    expect(bonuses).toHaveLength(24);
    bonuses.forEach((bonus, k) => {
      expect(bonus).toMatchObject({
        type: 'bonus',
        points: 50,
        breakdown: [{ rule: 'subscription:yy-plus', points: 50 }],
        orderRef: `${sub.id}:m${k}`,
        occurredAt: months[k],
      });
    });

    await expectReport('2029-01-01', '2029-12-31', {
      active: 1,
      mrrMinor: 833,
      arrMinor: 9999,
      renewed: 1,
      revenueMinor: 9999,
      bonusPoints: 100,
    });
    await expectReport('2030-01-01', '2030-01-31', { canceled: 1, churned: 1, bonusPoints: 500 });

    const data = (
      status: string,
      start: string,
      end: string,
      effectiveAt: string,
      extra: Record<string, unknown>,
    ) => ({
      subscriptionId: sub.id,
      planId: 'yy-plus',
      status,
      currentPeriodStart: start,
      currentPeriodEnd: end,
      memberId,
      effectiveAt,
      ...extra,
    });
    const events = await eventsOf(memberId);
    expect(events.map((event) => event.type)).toEqual([
      'subscription.started',
      'subscription.renewed',
      'subscription.canceled',
    ]);
    expect(events).toEqual([
      {
        type: 'subscription.started',
        occurredAt: t0,
        memberId,
        partnerId: 'sub-shop',
        data: data('active', t0, Y1, t0, { trial: false }),
      },
      {
        type: 'subscription.renewed',
        occurredAt: renewedRunAt,
        memberId,
        partnerId: 'sub-shop',
        data: data('active', Y1, Y2, Y1, { previousStatus: 'active' }),
      },
      {
        type: 'subscription.canceled',
        occurredAt: endedRunAt,
        memberId,
        partnerId: 'sub-shop',
        data: data('canceled', Y1, Y2, Y2, { previousStatus: 'active', atPeriodEnd: true }),
      },
    ]);
  });
});
