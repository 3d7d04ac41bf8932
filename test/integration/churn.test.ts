import { beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../../lambdas/domain/errors.ts';
import { addDays } from '../../lambdas/domain/time.ts';
import type { ChurnView } from '../../lambdas/schemas/analytics.ts';
import { defaultProgram } from '../../lambdas/schemas/program.ts';
import { fitChurnModel, memberAnalytics, readChurnModel } from '../../lambdas/services/analytics.ts';
import type { RequestContext } from '../../lambdas/services/context.ts';
import { runJob } from '../../lambdas/services/jobs.ts';
import { kpiReport } from '../../lambdas/services/kpi-report.ts';
import { replaceProgram } from '../../lambdas/services/program.ts';
import type { Store } from '../../lambdas/store/client.ts';
import { admin, contextFor, parse, partnerPrincipal } from '../support/fixtures.ts';
import { createTestPartner, ledgerCalls } from '../support/ledger.ts';
import { outboxEventsOfType } from '../support/subscriptions.ts';
import { createTestStore } from '../support/table.ts';

/**
 * Churn risk end to end over DynamoDB Local, through the use cases with explicit clocks: members
 * earn on different dates, the model is fitted on their histories, the churn-scan job scores them
 * (once per day, resumable, one event per band change) and the member views show the scores.
 */
let store: Store;
let calls: ReturnType<typeof ledgerCalls>;
const shop = partnerPrincipal('shop');

const DAY0 = '2026-06-30';
const AT0 = `${DAY0}T12:00:00.000Z`;
const AT1 = addDays(AT0, 75); // 2026-09-13: the regulars have been away for two and a half months

const groups = { regulars: [] as string[], lapsed: [] as string[], oneTimers: [] as string[] };
let returning = '';
let erased = '';
let neverBought = '';

const day = (offset: number) => addDays('2026-01-05T10:00:00.000Z', offset);

async function member(purchaseDays: number[], amountMinor = 2_500): Promise<string> {
  const memberId = await calls.newMember('2026-01-01T09:00:00.000Z');
  for (const [i, offset] of purchaseDays.entries()) {
    await calls.earn(memberId, { amountMinor: amountMinor + 100 * i }, { now: day(offset) });
  }
  return memberId;
}

const range = (from: number, count: number, step: number) =>
  Array.from({ length: count }, (_, i) => from + i * step);

beforeAll(async () => {
  store = await createTestStore('churn');
  calls = ledgerCalls(store, shop);
  await createTestPartner(store, 'shop');
  await replaceProgram(contextFor(store, admin), {
    ...defaultProgram,
    churnRiskBands: { high: 0.3, medium: 0.6 },
  });
  // Regulars buy every 3 weeks until late June; the lapsed bought weekly in January and February
  // and stopped; one-timers bought once. Their spends differ so their values do.
  for (let i = 0; i < 10; i++) groups.regulars.push(await member(range(i, 9, 21), 3_000 + 200 * i));
  for (let i = 0; i < 8; i++) groups.lapsed.push(await member(range(i, 6, 7), 1_500 + 100 * i));
  for (let i = 0; i < 5; i++) groups.oneTimers.push(await member([30 * i + 10]));
  returning = await member(range(3, 6, 7));
  erased = await member(range(2, 8, 14));
  neverBought = await calls.newMember('2026-01-01T09:00:00.000Z');
});

const admin0 = (now = AT0) => contextFor(store, admin, { now });
const purchasers = () => [...groups.regulars, ...groups.lapsed, ...groups.oneTimers, returning, erased];

/** Every `member.churn_risk.changed` outbox event in the table. */
const churnEvents = () => outboxEventsOfType(store, 'member.churn_risk.changed');

const churnOf = async (memberId: string, now: string): Promise<ChurnView | null> =>
  (await calls.member(memberId, now)).churn;

/** A context whose deadline passes after `checks` looks at it: the call stops part-way. */
function stoppingAfter(checks: number, now: string): RequestContext {
  let left = 2 * checks; // withinDeadline reads it twice
  const ctx = contextFor(store, admin, { now });
  return Object.defineProperty(ctx, 'deadline', {
    get: () => (left-- > 0 ? Number.POSITIVE_INFINITY : 0),
    enumerable: true,
  });
}

describe('before a model exists', () => {
  it('has no model to read or scan with, and refuses to fit on too little history', async () => {
    const empty = await createTestStore('churn-empty');
    const ctx = contextFor(empty, admin, { now: AT0 });
    await expect(readChurnModel(ctx)).rejects.toThrow(NotFoundError);
    await expect(runJob(ctx, 'churn-scan', {})).rejects.toThrow(
      'No churn model has been fitted yet: POST /v1/analytics/churn-model/fit first.',
    );
    await expect(fitChurnModel(ctx, {})).rejects.toThrow(
      new ConflictError(
        `Too few purchasers to fit: 0 member(s) have a purchase by ${DAY0}; at least 10 are needed.`,
      ),
    );
  });

  it('refuses a calibration day after today', async () => {
    await expect(fitChurnModel(admin0(), { calibrationEnd: '2026-07-01' })).rejects.toThrow(ValidationError);
  });
});

describe('the churn model and the daily scan', () => {
  let model: Record<string, unknown>;

  it('fits on every active purchaser as of the calibration day and stores the model', async () => {
    model = parse(await fitChurnModel(admin0(), {}));
    expect(model).toMatchObject({
      members: purchasers().length,
      repeatMembers: purchasers().length - groups.oneTimers.length,
      calibrationEnd: DAY0,
      fittedAt: AT0,
      bgnbd: {
        r: expect.any(Number),
        alpha: expect.any(Number),
        a: expect.any(Number),
        b: expect.any(Number),
        logLikelihood: expect.any(Number),
      },
      gammaGamma: { p: expect.any(Number), q: expect.any(Number), v: expect.any(Number) },
    });
    expect(model.distinctHistories).toBeLessThanOrEqual(purchasers().length);
    expect(parse(await readChurnModel(admin0()))).toEqual(model);
    // An earlier calibration day leaves out who had not bought yet (one-timers of May and later).
    const earlier = parse(await fitChurnModel(admin0(), { calibrationEnd: '2026-04-01' }));
    expect(earlier).toMatchObject({ members: purchasers().length - 2, calibrationEnd: '2026-04-01' });
    model = parse(await fitChurnModel(admin0(), {}));
  });

  it('scores every purchaser once a day, with one event per band change (a first score is one)', async () => {
    const first = parse(await runJob(admin0(), 'churn-scan', { asOf: AT0 }));
    expect(first).toEqual({
      job: 'churn-scan',
      asOf: AT0,
      processed: purchasers().length,
      changed: purchasers().length,
      complete: true,
    });
    const events = await churnEvents();
    expect(events).toHaveLength(purchasers().length);
    expect(new Set(events.map((event) => event.memberId))).toEqual(new Set(purchasers()));
    for (const event of events) {
      const churn = await churnOf(event.memberId as string, AT0);
      expect(event).toMatchObject({
        type: 'member.churn_risk.changed',
        partnerId: null,
        data: { previous: null, current: churn?.risk, pAlive: churn?.pAlive, clvMinor: churn?.clvMinor },
      });
    }
    // The groups land where their histories say.
    for (const id of groups.regulars) expect((await churnOf(id, AT0))?.risk).toBe('low');
    for (const id of groups.lapsed) expect((await churnOf(id, AT0))?.risk).toBe('high');
    for (const id of groups.oneTimers) expect((await churnOf(id, AT0))?.pAlive).toBe(1);
    expect(await churnOf(neverBought, AT0)).toBeNull();

    // The KPIs' mean CLV is the run's: Σ clvMinor of the members it scored ÷ how many, rounded.
    const scores = await Promise.all(purchasers().map((id) => churnOf(id, AT0)));
    const mean = Math.round(scores.reduce((sum, churn) => sum + (churn?.clvMinor ?? 0), 0) / scores.length);
    const kpis = parse(
      await kpiReport(admin0(), { from: DAY0.slice(0, 7), to: DAY0.slice(0, 7), format: 'json' }),
    );
    expect(kpis).toMatchObject({ averageClvMinor: mean, clvScoredOn: DAY0 });

    // The same day again, even with a later asOf: the run is complete, nothing is read or written.
    const before = await Promise.all(purchasers().map((id) => churnOf(id, AT0)));
    const again = parse(await runJob(admin0(addDays(AT0, 0.4)), 'churn-scan', { asOf: addDays(AT0, 0.4) }));
    expect(again).toMatchObject({ processed: first.processed, changed: first.changed, complete: true });
    expect(await churnEvents()).toHaveLength(events.length);
    expect(await Promise.all(purchasers().map((id) => churnOf(id, AT0)))).toEqual(before);
  });

  it('shows the scores on the member and in its analytics view; erasure takes them away', async () => {
    const [regular] = groups.regulars as [string];
    const view = await calls.member(regular, AT0);
    expect(view.churn).toEqual({
      pAlive: expect.any(Number),
      risk: 'low',
      expectedPurchases90d: expect.any(Number),
      clvMinor: expect.any(Number),
      scoredAt: AT0,
    });
    expect(view.churn.clvMinor).toBeGreaterThan(0);
    expect(Number.isInteger(view.churn.clvMinor)).toBe(true);
    // The analytics view computes the same scores now, from the same inputs and model.
    const analytics = parse(await memberAnalytics(admin0(), regular));
    expect(analytics).toMatchObject({
      memberId: regular,
      asOf: DAY0,
      inputs: { x: 8, tx: 24, T: expect.any(Number), meanSpendMinor: expect.any(Number) },
      churn: view.churn,
    });
    const { pAlive, risk, expectedPurchases90d, clvMinor } = view.churn;
    expect(analytics.scores).toMatchObject({ pAlive, risk, expectedPurchases90d, clvMinor });
    expect(analytics.scores.expectedSpendMinor).toBeGreaterThan(0);
    // A member who never bought has no inputs and no scores.
    expect(parse(await memberAnalytics(admin0(), neverBought))).toMatchObject({
      inputs: null,
      scores: null,
      churn: null,
    });

    await calls.erase(erased, AT0);
    expect((await calls.member(erased, AT0)).churn).toBeNull();
    expect(parse(await memberAnalytics(admin0(), erased))).toMatchObject({
      inputs: null,
      scores: null,
      churn: null,
    });
  });

  it('resumes a run stopped at its deadline and, with two calls at once, still sends one event per change', async () => {
    // A lapsed member comes back the day before.
    await calls.earn(returning, { amountMinor: 4_000 }, { now: addDays(AT1, -1) });
    const scored = purchasers().filter((id) => id !== erased);
    const before = new Map(
      await Promise.all(scored.map(async (id) => [id, await churnOf(id, AT1)] as const)),
    );
    const eventsBefore = (await churnEvents()).length;

    // The deadline passes after a few members (each of the 16 segments looks once before its first
    // page, then before each member): the call saves where each segment stands, mid-page.
    const stopped = parse(await runJob(stoppingAfter(16 + 8, AT1), 'churn-scan', { asOf: AT1 }));
    expect(stopped).toMatchObject({ job: 'churn-scan', complete: false });
    expect(stopped.processed).toBeGreaterThan(0);
    expect(stopped.processed).toBeLessThan(scored.length);
    // Nothing is left for a call that has no time at all.
    const none = parse(await runJob(stoppingAfter(0, AT1), 'churn-scan', { asOf: AT1 }));
    expect(none).toMatchObject({ processed: stopped.processed, complete: false });

    // Two calls continue the run at once: each member is scored once, each change announced once.
    const [one, two] = await Promise.all([
      runJob(admin0(AT1), 'churn-scan', { asOf: AT1 }),
      runJob(admin0(AT1), 'churn-scan', { asOf: AT1 }),
    ]);
    for (const answer of [parse(one), parse(two)]) expect(answer.complete).toBe(true);
    const done = parse(await runJob(admin0(AT1), 'churn-scan', { asOf: AT1 }));

    const after = new Map(await Promise.all(scored.map(async (id) => [id, await churnOf(id, AT1)] as const)));
    const changed = scored.filter((id) => before.get(id)?.risk !== after.get(id)?.risk);
    expect(done).toEqual({
      job: 'churn-scan',
      asOf: AT1,
      processed: scored.length,
      changed: changed.length,
      complete: true,
    });
    for (const id of scored) expect(after.get(id)?.scoredAt).toBe(AT1);
    // The regulars have been away long enough to turn, the one who came back is low risk again.
    expect(changed.length).toBeGreaterThan(0);
    expect(changed).toContain(returning);
    expect(after.get(returning)?.risk).toBe('low');
    for (const id of groups.regulars) expect(after.get(id)?.risk).not.toBe('low');

    const events = (await churnEvents()).filter((event) => event.occurredAt === AT1);
    expect((await churnEvents()).length).toBe(eventsBefore + changed.length);
    expect(events.map((event) => event.memberId).sort()).toEqual([...changed].sort());
    for (const event of events) {
      const id = event.memberId as string;
      expect(event.data).toEqual({
        previous: before.get(id)?.risk,
        current: after.get(id)?.risk,
        pAlive: after.get(id)?.pAlive,
        clvMinor: after.get(id)?.clvMinor,
      });
    }
  });
});
