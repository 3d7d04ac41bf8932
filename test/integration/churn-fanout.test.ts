import { beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../../lambdas/domain/errors.ts';
import { addDays } from '../../lambdas/domain/time.ts';
import { createChurnScanWorker } from '../../lambdas/handlers/churn-scan-worker.ts';
import { DEADLINE_MARGIN_MS } from '../../lambdas/handlers/job-runner.ts';
import { defaultProgram } from '../../lambdas/schemas/program.ts';
import { fitChurnModel, memberAnalytics } from '../../lambdas/services/analytics.ts';
import { runJob } from '../../lambdas/services/jobs.ts';
import { replaceProgram } from '../../lambdas/services/program.ts';
import type { Store } from '../../lambdas/store/client.ts';
import { admin, contextFor, parse, partnerPrincipal } from '../support/fixtures.ts';
import { createTestPartner, ledgerCalls } from '../support/ledger.ts';
import { outboxEventsOfType } from '../support/subscriptions.ts';
import { createTestStore } from '../support/table.ts';

/**
 * The churn scan as AWS runs it (lib/churn-scan.ts): the state machine's steps played against the
 * worker handler over DynamoDB Local, plan → every segment called until done (the first call of
 * each with no time, so each is continued by another call) → finish. The outcome must be the
 * in-process job's: every purchaser scored once as of the day with the scores the model gives, one
 * event per band change, none again when a segment or the whole execution is repeated.
 */
let store: Store;
const SEGMENTS = 8;
const AS_OF = '2026-07-20T06:00:00.000Z';
const purchasers: string[] = [];

const worker = () => createChurnScanWorker({ store: () => store, clock: () => new Date(AS_OF) });
/** A Lambda context with `ms` left after the worker's safety margin. */
const lambdaContext = (ms: number) => ({
  getRemainingTimeInMillis: () => DEADLINE_MARGIN_MS + ms,
  awsRequestId: 'test',
});

const churnEventCount = async () => (await outboxEventsOfType(store, 'member.churn_risk.changed')).length;

/** What Step Functions does: plan, then each item until its segment is done, then finish. */
async function execute(firstCallMs: number) {
  const run = worker();
  const plan = (await run({ step: 'plan', segments: SEGMENTS }, lambdaContext(60_000))) as {
    asOf: string;
    pending: { segment: number }[];
  };
  const calls: boolean[][] = [];
  await Promise.all(
    plan.pending.map(async ({ segment }) => {
      const outcomes: boolean[] = [];
      for (let call = 0; !outcomes.at(-1); call++) {
        if (call > 50) throw new Error(`segment ${segment} is not getting done`);
        const input = { step: 'segment', asOf: plan.asOf, segment, segments: SEGMENTS };
        const { done } = (await run(input, lambdaContext(call === 0 ? firstCallMs : 60_000))) as {
          done: boolean;
        };
        outcomes.push(done);
      }
      calls.push(outcomes);
    }),
  );
  const totals = await run({ step: 'finish', asOf: plan.asOf, segments: SEGMENTS }, lambdaContext(60_000));
  return { plan, calls, totals };
}

beforeAll(async () => {
  store = await createTestStore('churn-fanout');
  const calls = ledgerCalls(store, partnerPrincipal('shop'));
  await createTestPartner(store, 'shop');
  await replaceProgram(contextFor(store, admin), {
    ...defaultProgram,
    churnRiskBands: { high: 0.3, medium: 0.6 },
  });
  // 24 purchasers: some buy every two to four weeks until July, others stopped in the spring.
  for (let i = 0; i < 24; i++) {
    const id = await calls.newMember('2026-01-01T09:00:00.000Z');
    const every = 14 + 7 * (i % 3);
    const times = i % 2 === 0 ? 13 : 4;
    for (let n = 0; n < times && 3 + i + n * every < 195; n++) {
      await calls.earn(
        id,
        { amountMinor: 2_000 + 150 * i },
        { now: addDays('2026-01-05T10:00:00.000Z', 3 + i + n * every) },
      );
    }
    purchasers.push(id);
  }
  await calls.newMember('2026-01-01T09:00:00.000Z'); // never bought: not scored
  await fitChurnModel(contextFor(store, admin, { now: '2026-07-01T00:00:00.000Z' }), {});
}, 120_000);

describe('the churn scan fanned out over segments', () => {
  it('scores every purchaser once as of the day, each segment continued by another call, one event per member', async () => {
    const { plan, calls, totals } = await execute(0);
    expect(plan).toEqual({
      asOf: AS_OF,
      segments: SEGMENTS,
      pending: Array.from({ length: SEGMENTS }, (_, segment) => ({ segment })),
      complete: false,
    });
    // Every first call had no time: it stopped, and a later call finished the segment.
    for (const outcomes of calls) expect(outcomes[0]).toBe(false);
    for (const outcomes of calls) expect(outcomes.at(-1)).toBe(true);
    expect(totals).toEqual({
      job: 'churn-scan',
      asOf: AS_OF,
      processed: purchasers.length,
      changed: purchasers.length, // a first score is a change from nothing
      complete: true,
    });
    expect(await churnEventCount()).toBe(purchasers.length);
    // The scores are the model's for each member as of the day (what the analytics view computes).
    for (const id of purchasers) {
      const view = parse(await memberAnalytics(contextFor(store, admin, { now: AS_OF }), id));
      const { pAlive, risk, expectedPurchases90d, clvMinor } = view.scores;
      expect(view.churn).toEqual({ pAlive, risk, expectedPurchases90d, clvMinor, scoredAt: AS_OF });
    }
  });

  it('changes nothing when a segment, or the whole execution, runs again', async () => {
    const again = await worker()(
      { step: 'segment', asOf: AS_OF, segment: 3, segments: SEGMENTS },
      lambdaContext(60_000),
    );
    expect(again).toEqual({ segment: 3, done: true });
    const repeated = await execute(60_000);
    expect(repeated.plan).toMatchObject({ pending: [], complete: true });
    expect(repeated.totals).toMatchObject({
      processed: purchasers.length,
      changed: purchasers.length,
      complete: true,
    });
    expect(await churnEventCount()).toBe(purchasers.length);
  });

  it('keeps a run in the split it began with', async () => {
    const nextDay = addDays(AS_OF, 1);
    const run = createChurnScanWorker({ store: () => store, clock: () => new Date(nextDay) });
    await run({ step: 'plan', segments: SEGMENTS }, lambdaContext(60_000));
    // The same day's run in-process (16 segments) or in another split is refused, not mixed.
    await expect(runJob(contextFor(store, admin, { now: nextDay }), 'churn-scan', {})).rejects.toThrow(
      new ConflictError(
        `The churn-scan run of ${nextDay.slice(0, 10)} is split in 8 segments, not 16: continue it the way it began.`,
        { segments: 8 },
      ),
    );
    await expect(run({ step: 'plan', segments: 4 }, lambdaContext(60_000))).rejects.toThrow(ConflictError);
    // Bad input is a broken state machine definition: refused before anything is read.
    await expect(
      run({ step: 'segment', asOf: nextDay, segment: 8, segments: 8 }, lambdaContext(60_000)),
    ).rejects.toThrow('segment must be below segments');
  });
});
