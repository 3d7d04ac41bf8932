import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClockAt } from '../../lambdas/config/clock.ts';
import { startTestApi, type TestApi } from '../support/api.ts';
import { type Json, readmeClock, runReadmeBlock } from '../support/readme.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  startClockAt(new Date().toISOString());
  await api.close();
});

/** Run a README block against the test server; every curl's response comes back parsed, in order. */
const runBlock = (marker: string) => runReadmeBlock(api, marker);

describe('README walkthroughs', () => {
  it('"Try it" works as written, and again when run a second time', async () => {
    for (const attempt of [1, 2]) {
      const [partner, earn, redeem, member, history] = await runBlock('walkthrough');
      expect(partner, `run ${attempt}`).toMatchObject({ id: 'acme-grocer', status: 'active' });
      expect(earn?.transaction).toMatchObject({ type: 'earn', points: 85, status: 'posted' });
      expect(redeem?.redemption).toMatchObject({ status: 'captured', points: 50 });
      expect(member).toMatchObject({
        externalRef: 'cust-42',
        balances: { available: 35, lifetimeEarned: 85 },
      });
      expect(history?.items.map((t: { type: string; points: number }) => [t.type, t.points])).toEqual([
        ['redeem', -50],
        ['earn', 85],
      ]);
    }
  });

  it('"Running a coalition" works as written, and again', async () => {
    for (const attempt of [1, 2]) {
      const out = await runBlock('coalition-walkthrough');
      const [grocer, fuel, earn, redemption, hidden, ownCatalogue, grocerLine, fuelOwn, ...csv] =
        out as Json[];
      expect(grocer, `run ${attempt}`).toMatchObject({ id: 'green-grocer' });
      expect(fuel).toMatchObject({ id: 'fast-fuel', reimbursementRateMinor: 2 });
      expect(earn?.transaction).toMatchObject({ points: 120, partnerId: 'green-grocer' });
      expect(redemption?.redemption).toMatchObject({ partnerId: 'fast-fuel', points: 100, valueMinor: 800 });
      expect(redemption?.balances.available).toBe(20);
      expect(hidden).toMatchObject({ status: 404, type: '/problems/not-found' });
      expect(ownCatalogue).toEqual({ items: [], nextCursor: null });
      // Replays credit and spend nothing twice, so the day's figures are the same on the second run.
      expect(grocerLine?.partners).toEqual([
        expect.objectContaining({
          partnerId: 'green-grocer',
          issuedPoints: 120,
          owedToCoalitionMinor: 120,
          netMinor: 120,
        }),
      ]);
      expect(fuelOwn?.partners).toEqual([
        expect.objectContaining({
          partnerId: 'fast-fuel',
          redeemedPoints: 100,
          owedToPartnerMinor: 200,
          netMinor: -200,
        }),
      ]);
      expect(csv.map((line) => line.csv)).toEqual([
        'partnerId,name,currency,from,to,issuedPoints,campaignPoints,reversedPoints,owedToCoalitionMinor,redeemedPoints,refundedPoints,owedToPartnerMinor,netMinor',
        expect.stringMatching(
          /^"fast-fuel","Fast Fuel",USD,\d{4}-\d\d-\d\d,\d{4}-\d\d-\d\d,0,0,0,0,100,0,200,-200$/,
        ),
        expect.stringMatching(/^"TOTAL","",USD,.*,0,0,0,0,100,0,200,-200$/),
      ]);
    }
  });

  it('"Returns, refunds and holds" works as written, and again', async () => {
    for (const attempt of [1, 2]) {
      const [shop, earn, capture, reversal, refund, member, history] = await runBlock('returns-walkthrough');
      expect(shop, `run ${attempt}`).toMatchObject({ id: 'corner-shop' });
      expect(earn?.transaction).toMatchObject({ points: 80 });
      expect(capture?.redemption).toMatchObject({ status: 'captured', points: 30, capturedPoints: 25 });
      expect(capture?.balances).toMatchObject({ available: 55, reserved: 0 });
      expect(reversal?.transaction).toMatchObject({ type: 'reverse', points: -40, orderRef: 'order-2001' });
      expect(reversal?.reversal).toMatchObject({
        requestedPoints: 40,
        reversedPoints: 40,
        shortfallPoints: 0,
      });
      expect(refund?.redemption).toMatchObject({ status: 'refunded', refundedPoints: 25 });
      expect(refund?.transaction).toMatchObject({ type: 'refund', points: 25, reason: 'faulty item' });
      expect(member?.balances).toMatchObject({
        available: 40,
        reserved: 0,
        lifetimeEarned: 40,
        lifetimeRedeemed: 0,
      });
      expect(history?.items.map((t: { type: string; points: number }) => [t.type, t.points])).toEqual([
        ['refund', 25],
        ['reverse', -40],
        ['redeem', -25],
        ['earn', 80],
      ]);
    }
  });

  it('"Importing history" works as written, and again changes nothing', async () => {
    for (const attempt of [1, 2]) {
      const [store, imported] = await runBlock('import-walkthrough');
      expect(store, `run ${attempt}`).toMatchObject({ id: 'record-store' });
      expect(imported).toMatchObject({
        complete: true,
        accepted: 2,
        imported: attempt === 1 ? 2 : 0,
        alreadyImported: attempt === 1 ? 0 : 2,
        membersCreated: attempt === 1 ? 1 : 0,
        rejectedCount: 1,
        rejected: [{ line: 4, problem: "currency: the program's currency is USD" }],
      });
    }
  });

  it('"Paid membership" works as written, each step at the clock it states', async () => {
    const step = async (marker: string) => {
      startClockAt(readmeClock(marker));
      return runBlock(marker);
    };
    const [plan, cafe, subscribed, coffee] = await step('membership-walkthrough');
    expect(plan).toMatchObject({ id: 'club-plus', status: 'active', trialDays: 14 });
    expect(cafe).toMatchObject({ id: 'club-cafe' });
    expect(subscribed?.subscription).toMatchObject({
      planId: 'club-plus',
      status: 'trialing',
      trialEndsAt: expect.stringMatching(/^2027-01-29T09:00:/),
      nextPayment: { amountMinor: 999 },
    });
    expect(coffee?.transaction).toMatchObject({
      points: 30,
      breakdown: [
        { rule: 'base', points: 12 },
        { rule: 'tier:silver', points: 3 },
        { rule: 'subscription:club-plus', points: 15 },
      ],
    });

    const [paid] = await step('membership-walkthrough-2');
    expect(paid?.payment).toMatchObject({ status: 'succeeded', paymentRef: 'pi_jan', amountMinor: 999 });
    expect(paid?.subscription).toMatchObject({
      status: 'active',
      currentPeriodEnd: expect.stringMatching(/^2027-02-28T09:00:/),
      paidThrough: expect.stringMatching(/^2027-02-28T09:00:/),
    });
    expect(paid?.balances.available).toBe(530);

    const [job, failed] = await step('membership-walkthrough-3');
    expect(job).toMatchObject({ job: 'subscription-renewals', processed: 1, changed: 1, complete: true });
    expect(failed?.subscription).toMatchObject({
      status: 'past_due',
      currentPeriodStart: expect.stringMatching(/^2027-02-28T09:00:/),
      graceEndsAt: expect.stringMatching(/^2027-03-07T09:00:/),
      nextPayment: { amountMinor: 999 },
    });

    const [recovered, member, report] = await step('membership-walkthrough-4');
    expect(recovered?.subscription).toMatchObject({
      status: 'active',
      graceEndsAt: null,
      paidThrough: expect.stringMatching(/^2027-03-29T09:00:/),
    });
    expect(member).toMatchObject({
      tier: { code: 'silver' },
      balances: { available: 1030 },
      subscription: { status: 'active', planId: 'club-plus' },
    });
    expect(report).toMatchObject({
      active: 1,
      trialing: 0,
      pastDue: 0,
      mrrMinor: 999,
      arrMinor: 11988,
      started: 1,
      renewed: 2,
      wentPastDue: 1,
      churned: 0,
      revenueMinor: 1998,
      bonusPoints: 1000,
    });
  });
});
