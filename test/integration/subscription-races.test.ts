import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../lambdas/domain/errors.ts';
import { createPlanBody } from '../../lambdas/schemas/subscriptions.ts';
import { runJob } from '../../lambdas/services/jobs.ts';
import { subscriptionReport } from '../../lambdas/services/subscription-report.ts';
import {
  cancelSubscription,
  createPlan,
  readSubscription,
  recordPayment,
  subscribe,
} from '../../lambdas/services/subscriptions.ts';
import type { Store } from '../../lambdas/store/client.ts';
import { admin, contextFor, parse, partnerPrincipal } from '../support/fixtures.ts';
import { createTestPartner, ledgerCalls } from '../support/ledger.ts';
import { outboxEventsOf, zeroSubscriptionReport } from '../support/subscriptions.ts';
import { createTestStore } from '../support/table.ts';

/**
 * Races of paid membership on DynamoDB Local, through the services: whatever the interleaving, a
 * payment is recorded once (one lastPayment, paid through advanced once, one renewal event, its
 * revenue and bonus counted once), and a payment racing a cancellation or the renewals job ends in
 * a state one of the two orders explains, with the events and report figures of that state.
 */
const seller = partnerPrincipal('racer');
const PLAN = 'race-monthly';
const T0 = '2031-03-10T10:00:00.000Z';
const P1 = '2031-04-10T10:00:00.000Z';
const P2 = '2031-05-10T10:00:00.000Z';
const BONUS = 25;
const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** A table of its own (the report's figures are the table's), with a partner and a monthly plan. */
async function freshStore(prefix: string) {
  const store = await createTestStore(prefix);
  await createTestPartner(store, 'racer');
  await createPlan(
    contextFor(store, admin, { now: '2031-01-01T00:00:00.000Z' }),
    createPlanBody.parse({
      id: PLAN,
      name: 'Race monthly',
      priceMinor: 999,
      currency: 'USD',
      interval: 'month',
      benefits: { monthlyBonusPoints: BONUS },
    }),
  );
  const calls = ledgerCalls(store, seller);
  return {
    store,
    calls,
    /** A member subscribed at T0, its first period paid at signup. */
    subscribed: async () => {
      const memberId = await calls.newMember(T0);
      const started = await subscribe(contextFor(store, seller, { now: T0 }), memberId, {
        planId: PLAN,
        paymentRef: `${memberId}-signup`,
      });
      expect(started.status).toBe(201);
      return { memberId, subscriptionId: parse(started).subscription.id as string };
    },
    pay: (
      subscriptionId: string,
      paymentRef: string,
      now: string,
      status: 'succeeded' | 'failed' = 'succeeded',
    ) =>
      recordPayment(contextFor(store, seller, { now }), subscriptionId, {
        status,
        paymentRef,
        amountMinor: 999,
      }),
    cancel: (subscriptionId: string, atPeriodEnd: boolean, now: string) =>
      cancelSubscription(contextFor(store, seller, { now }), subscriptionId, { atPeriodEnd }),
    read: async (subscriptionId: string, now: string) =>
      parse(await readSubscription(contextFor(store, admin, { now }), subscriptionId)),
    report: async (from: string, to: string) =>
      parse(await subscriptionReport(contextFor(store, admin), { from, to, format: 'json' })),
    events: (memberId: string) => subscriptionEvents(store, memberId),
    bonuses: async (memberId: string) =>
      (await calls.history(memberId)).filter((entry) => entry.type === 'bonus').map((entry) => entry.points),
  };
}

async function subscriptionEvents(store: Store, memberId: string) {
  return (await outboxEventsOf(store, memberId)).filter((event) => event.type.startsWith('subscription.'));
}

const zeroReport = zeroSubscriptionReport;

describe('subscription races', () => {
  it('20 identical payment webhooks at once: one payment, 19 replays of its response', async () => {
    const env = await freshStore('sub-races-webhooks');
    const { memberId, subscriptionId } = await env.subscribed();
    const arrival = plus(P1, 1_000);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => env.pay(subscriptionId, 'psp-ch-1', plus(arrival, i))),
    );
    const responses = results.map((result) => {
      expect(result.status).toBe('fulfilled');
      return (result as PromiseFulfilledResult<Awaited<ReturnType<typeof env.pay>>>).value;
    });
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(201));
    const recorded = responses.filter((response) => !response.replayed);
    expect(recorded).toHaveLength(1);
    for (const response of responses) expect(response.body).toBe(recorded[0]?.body);
    const { payment } = parse(recorded[0] as { body: string });
    expect(payment).toMatchObject({
      paymentRef: 'psp-ch-1',
      status: 'succeeded',
      amountMinor: 999,
      periodStart: P1,
    });

    expect(await env.read(subscriptionId, plus(P1, 60_000))).toMatchObject({
      status: 'active',
      currentPeriodStart: P1,
      currentPeriodEnd: P2,
      paidThrough: P2,
      nextPayment: { amountMinor: 999, dueAt: P2 },
      lastPayment: payment,
    });
    const events = await env.events(memberId);
    expect(events.map((event) => event.type)).toEqual(['subscription.started', 'subscription.renewed']);
    expect(events[1]?.occurredAt).toBe(payment.recordedAt);
    expect(await env.bonuses(memberId)).toEqual([BONUS, BONUS]);
    expect(await env.report('2031-03-10', '2031-04-10')).toEqual({
      from: '2031-03-10',
      to: '2031-04-10',
      ...zeroReport,
      active: 1,
      mrrMinor: 999,
      arrMinor: 11988,
      started: 1,
      renewed: 1,
      revenueMinor: 2 * 999,
      bonusPoints: 2 * BONUS,
    });

    // The same for a failure: 20 identical reports put it past_due once.
    const other = await env.subscribed();
    const failures = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        env.pay(other.subscriptionId, 'psp-ch-2', plus(arrival, i), 'failed'),
      ),
    );
    expect(failures.filter((result) => result.status === 'rejected')).toEqual([]);
    const fresh = failures.filter((result) => result.status === 'fulfilled' && !result.value.replayed);
    expect(fresh).toHaveLength(1);
    expect((await env.events(other.memberId)).map((event) => event.type)).toEqual([
      'subscription.started',
      'subscription.past_due',
    ]);
    expect(await env.read(other.subscriptionId, plus(P1, 60_000))).toMatchObject({
      status: 'past_due',
      lastPayment: { paymentRef: 'psp-ch-2', status: 'failed' },
      paidThrough: P1,
    });
    expect(await env.report('2031-04-10', '2031-04-10')).toMatchObject({
      active: 1,
      pastDue: 1,
      arrMinor: 2 * 11988,
      renewed: 1,
      wentPastDue: 1,
      revenueMinor: 999,
    });
  });

  it('a payment and a cancel at the period end at once: either order, a consistent state', async () => {
    const env = await freshStore('sub-races-cancel');
    const rounds = 6;
    const raceAt = plus(P1, 3_600_000);
    let paidRounds = 0;
    for (let round = 0; round < rounds; round++) {
      const { memberId, subscriptionId } = await env.subscribed();
      const payment = () => env.pay(subscriptionId, `psp-${round}`, raceAt);
      const cancel = () => env.cancel(subscriptionId, true, raceAt);
      // Alternate which request leaves first, to see both orders.
      const [paid, canceled] =
        round % 2 === 0
          ? await Promise.allSettled([payment(), cancel()])
          : await Promise.allSettled([cancel(), payment()]).then(([c, p]) => [p, c] as const);
      expect(canceled.status).toBe('fulfilled');
      const state = await env.read(subscriptionId, plus(raceAt, 1_000));
      const events = await env.events(memberId);
      if (paid.status === 'fulfilled') {
        // Paid, then canceled at the end of the (now paid) period: it runs on until P2.
        paidRounds++;
        expect(state).toMatchObject({
          status: 'active',
          cancelAtPeriodEnd: true,
          currentPeriodStart: P1,
          currentPeriodEnd: P2,
          paidThrough: P2,
          graceEndsAt: null,
          nextPayment: null,
          endedAt: null,
          lastPayment: { paymentRef: `psp-${round}`, status: 'succeeded' },
        });
        expect(events.map((event) => event.type)).toEqual(['subscription.started', 'subscription.renewed']);
        expect(await env.bonuses(memberId)).toEqual([BONUS, BONUS]);
      } else {
        // Canceled while its period awaited payment: it ended at once and takes no payment.
        expect(paid.reason).toBeInstanceOf(ConflictError);
        expect((paid.reason as Error).message).toBe(
          `Subscription ${subscriptionId} is canceled: it takes no more payments.`,
        );
        expect(state).toMatchObject({
          status: 'canceled',
          endedAt: raceAt,
          canceledAt: raceAt,
          paidThrough: P1,
          nextPayment: null,
          lastPayment: { paymentRef: `${memberId}-signup` },
        });
        expect(events.map((event) => [event.type, event.data.atPeriodEnd])).toEqual([
          ['subscription.started', undefined],
          ['subscription.canceled', false],
        ]);
        expect(await env.bonuses(memberId)).toEqual([BONUS]);
      }
    }
    expect(await env.report('2031-03-10', '2031-04-10')).toEqual({
      from: '2031-03-10',
      to: '2031-04-10',
      ...zeroReport,
      active: paidRounds,
      mrrMinor: 999 * paidRounds,
      arrMinor: 11988 * paidRounds,
      started: rounds,
      renewed: paidRounds,
      canceled: rounds - paidRounds,
      churned: rounds - paidRounds,
      revenueMinor: 999 * (rounds + paidRounds),
      bonusPoints: BONUS * (rounds + paidRounds),
    });
  });

  it('a payment ahead and a cancel now at once: canceled either way, the payment counted only if recorded', async () => {
    const env = await freshStore('sub-races-cancel-now');
    const rounds = 4;
    const raceAt = plus(P1, -86_400_000);
    let paidRounds = 0;
    for (let round = 0; round < rounds; round++) {
      const { memberId, subscriptionId } = await env.subscribed();
      const payment = () => env.pay(subscriptionId, `psp-ahead-${round}`, raceAt);
      const cancel = () => env.cancel(subscriptionId, false, raceAt);
      const [paid, canceled] =
        round % 2 === 0
          ? await Promise.allSettled([payment(), cancel()])
          : await Promise.allSettled([cancel(), payment()]).then(([c, p]) => [p, c] as const);
      expect(canceled.status).toBe('fulfilled');
      const state = await env.read(subscriptionId, plus(raceAt, 1_000));
      expect(state).toMatchObject({ status: 'canceled', endedAt: raceAt, nextPayment: null });
      expect((await env.events(memberId)).map((event) => event.type)).toEqual([
        'subscription.started',
        'subscription.canceled',
      ]);
      if (paid.status === 'fulfilled') {
        paidRounds++;
        expect(state).toMatchObject({ paidThrough: P2, lastPayment: { paymentRef: `psp-ahead-${round}` } });
      } else {
        expect(paid.reason).toBeInstanceOf(ConflictError);
        expect(state).toMatchObject({ paidThrough: P1, lastPayment: { paymentRef: `${memberId}-signup` } });
      }
      expect(await env.bonuses(memberId)).toEqual([BONUS]);
    }
    expect(await env.report('2031-03-10', '2031-04-09')).toEqual({
      from: '2031-03-10',
      to: '2031-04-09',
      ...zeroReport,
      started: rounds,
      canceled: rounds,
      churned: rounds,
      revenueMinor: 999 * (rounds + paidRounds),
      bonusPoints: BONUS * rounds,
    });
  });

  it('the renewals job and the period’s payment at once: renewed once, its bonus credited once', async () => {
    const env = await freshStore('sub-races-job');
    const rounds = 4;
    const members: { memberId: string; subscriptionId: string }[] = [];
    for (let round = 0; round < rounds; round++) members.push(await env.subscribed());
    const raceAt = plus(P1, 1_000);
    for (const [round, { memberId, subscriptionId }] of members.entries()) {
      const results = await Promise.allSettled([
        env.pay(subscriptionId, `psp-renew-${round}`, raceAt),
        runJob(contextFor(env.store, admin, { now: raceAt }), 'subscription-renewals', { asOf: raceAt }),
      ]);
      expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
      expect(await env.read(subscriptionId, plus(raceAt, 1_000))).toMatchObject({
        status: 'active',
        currentPeriodStart: P1,
        currentPeriodEnd: P2,
        graceEndsAt: null,
        paidThrough: P2,
        lastPayment: { paymentRef: `psp-renew-${round}`, status: 'succeeded' },
      });
      expect(await env.bonuses(memberId)).toEqual([BONUS, BONUS]);
    }
    for (const { memberId } of members) {
      const events = await env.events(memberId);
      expect(events.map((event) => event.type)).toEqual(['subscription.started', 'subscription.renewed']);
    }
    expect(await env.report('2031-03-10', '2031-04-10')).toEqual({
      from: '2031-03-10',
      to: '2031-04-10',
      ...zeroReport,
      active: rounds,
      mrrMinor: 999 * rounds,
      arrMinor: 11988 * rounds,
      started: rounds,
      renewed: rounds,
      revenueMinor: 2 * 999 * rounds,
      bonusPoints: 2 * BONUS * rounds,
    });
  });
});

describe('erasure of a subscriber', () => {
  it('cancels a live subscription and records a lapsed one as expired: either way it leaves the renewals index', async () => {
    const env = await freshStore('sub-erasure');
    const live = await env.subscribed();
    const lapsed = await env.subscribed();
    // The live one's second period is paid; the lapsed one's began unpaid and its grace ended,
    // which no job recorded yet.
    expect((await env.pay(live.subscriptionId, 'live-p1', plus(P1, 1))).status).toBe(201);
    const erasedAt = plus(P1, 8 * 86_400_000);
    await env.calls.erase(live.memberId, erasedAt);
    await env.calls.erase(lapsed.memberId, erasedAt);

    expect(await env.read(live.subscriptionId, erasedAt)).toMatchObject({
      status: 'canceled',
      endedAt: erasedAt,
    });
    expect(await env.read(lapsed.subscriptionId, erasedAt)).toMatchObject({
      status: 'expired',
      endedAt: plus(P1, 7 * 86_400_000),
    });
    expect((await env.events(lapsed.memberId)).map((event) => event.type)).toEqual([
      'subscription.started',
      'subscription.expired',
    ]);
    // Nothing is left due: the job finds neither, however often it runs.
    for (const asOf of [plus(erasedAt, 1), plus(P2, 1)]) {
      expect(
        parse(await runJob(contextFor(env.store, admin, { now: asOf }), 'subscription-renewals', { asOf })),
      ).toMatchObject({ processed: 0, changed: 0, complete: true });
    }
    const day = erasedAt.slice(0, 10);
    expect(await env.report('2031-03-01', day)).toMatchObject({
      active: 0,
      mrrMinor: 0,
      started: 2,
      renewed: 1,
      canceled: 1,
      expired: 1,
      churned: 2,
    });
  });
});
