import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClockAt } from '../../lambdas/config/clock.ts';
import { startTestApi, type TestApi } from '../support/api.ts';

const run = promisify(execFile);

/** The bash block under a README marker, exactly as a reader copies it. */
function readmeBlock(marker: string): string {
  const readme = readFileSync('README.md', 'utf8');
  const at = readme.indexOf(`<!-- ${marker}`);
  const start = readme.indexOf('```bash\n', at) + '```bash\n'.length;
  const end = readme.indexOf('\n```', start);
  if (at < 0 || start < at || end < 0) throw new Error(`README block ${marker} not found`);
  return readme.slice(start, end);
}

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  startClockAt(new Date().toISOString());
  await api.close();
});

// biome-ignore lint/suspicious/noExplicitAny: responses are read field by field
type Json = Record<string, any>;

/** The API clock a README step states in its marker (`clock=<instant>`). */
function readmeClock(marker: string): string {
  const readme = readFileSync('README.md', 'utf8');
  const line = readme.slice(readme.indexOf(`<!-- ${marker}`)).split('\n')[0] ?? '';
  const clock = /clock=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)/.exec(line)?.[1];
  if (!clock) throw new Error(`README block ${marker} states no clock`);
  return clock;
}

/** Run a README block against the test server; every curl's response comes back parsed, in order. */
async function runBlock(marker: string): Promise<Json[]> {
  // Each curl's output on its own line, so the test can read every response; nothing else changes.
  const script = `set -euo pipefail\ncurl() { command curl "$@"; echo; }\n${readmeBlock(marker)}`;
  const { stdout } = await run('bash', ['-c', script], {
    env: { ...process.env, API: api.url, LOYALTY_BOOTSTRAP_ADMIN_KEY: api.adminKey },
  });
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (line.startsWith('{') ? JSON.parse(line) : { csv: line.replace(/\r$/, '') }));
}

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
        'partnerId,name,currency,from,to,issuedPoints,reversedPoints,owedToCoalitionMinor,redeemedPoints,refundedPoints,owedToPartnerMinor,netMinor',
        expect.stringMatching(
          /^"fast-fuel","Fast Fuel",USD,\d{4}-\d\d-\d\d,\d{4}-\d\d-\d\d,0,0,0,100,0,200,-200$/,
        ),
        expect.stringMatching(/^"TOTAL","",USD,.*,0,0,0,100,0,200,-200$/),
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

  it('"Churn risk" works as written: CDNOW imported, fitted, scanned, the high-risk members read', async () => {
    const step = async (marker: string) => {
      startClockAt(readmeClock(marker));
      return runBlock(marker);
    };
    const [store, imported, fit, scan] = await step('churn-walkthrough');
    expect(store).toMatchObject({ id: 'record-store' });
    expect(imported).toEqual({ complete: true, imported: 6919, membersCreated: 2357 });
    // All 18 months, every purchaser of the file, and the record store's cd-4 when "Importing
    // history" ran first (it bought in 1997 too).
    const purchasers = fit?.members as number;
    expect([2357, 2358]).toContain(purchasers);
    expect(fit).toMatchObject({ bgnbd: { r: expect.any(Number) }, gammaGamma: { p: expect.any(Number) } });
    expect(fit?.distinctHistories).toBeLessThan(purchasers);
    expect(scan).toEqual({
      job: 'churn-scan',
      asOf: expect.stringMatching(/^1998-07-01T00:00:/),
      processed: purchasers,
      changed: purchasers,
      complete: true,
    });

    // The README says the feed lists events once they are the holdback old: here, at once.
    process.env.LOYALTY_FEED_HOLDBACK_SECONDS = '0';
    try {
      const [first, analytics] = await step('churn-walkthrough-2');
      expect(first).toMatchObject({
        memberId: expect.stringMatching(/^mem_/),
        data: { previous: null, current: 'high', pAlive: expect.any(Number), clvMinor: expect.any(Number) },
      });
      expect(first?.data.pAlive).toBeLessThan(0.3);
      expect(analytics?.inputs.x).toBeGreaterThan(0);
      expect(analytics?.scores).toMatchObject({ risk: 'high', pAlive: first?.data.pAlive });
      expect(analytics?.churn).toMatchObject({
        risk: 'high',
        pAlive: first?.data.pAlive,
        scoredAt: scan?.asOf,
      });
    } finally {
      delete process.env.LOYALTY_FEED_HOLDBACK_SECONDS;
    }
  });
});
