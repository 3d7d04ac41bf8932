import { BatchWriteCommand, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConflictError } from '../../lambdas/domain/errors.ts';
import { addDays, dayOf } from '../../lambdas/domain/time.ts';
import { createChurnScanWorker } from '../../lambdas/handlers/churn-scan-worker.ts';
import { DEADLINE_MARGIN_MS } from '../../lambdas/handlers/job-runner.ts';
import type { ChurnView } from '../../lambdas/schemas/analytics.ts';
import { churnScanWorkerErrors } from '../../lambdas/schemas/jobs.ts';
import { defaultProgram } from '../../lambdas/schemas/program.ts';
import { fitChurnModel } from '../../lambdas/services/analytics.ts';
import type { FanOutPlan, FanOutTotals, SegmentOutcome } from '../../lambdas/services/churn-scan-fanout.ts';
import { runJob } from '../../lambdas/services/jobs.ts';
import { replaceProgram } from '../../lambdas/services/program.ts';
import type { Store } from '../../lambdas/store/client.ts';
import { keys } from '../../lambdas/store/keys.ts';
import { admin, contextFor, parse, partnerPrincipal } from '../support/fixtures.ts';
import { createTestPartner, ledgerCalls } from '../support/ledger.ts';
import { type OutboxEnvelope, outboxEventsOfType } from '../support/subscriptions.ts';
import { createTestStore } from '../support/table.ts';

/**
 * The churn scan as AWS runs it (lib/churn-scan.ts): the state machine's steps played against the
 * worker handler over DynamoDB Local, plan → every segment called until done → finish, in a split of
 * 8. Its outcome must be the in-process job's (POST /v1/jobs/churn-scan, 16 segments), run on a
 * twin of the same table: the same scores on every purchaser, the same totals, the same
 * `member.churn_risk.changed` events (one per band change), none again when a call is repeated or
 * two calls work on one segment at once.
 */
let store: Store;
/** A copy of `store` before any scan: the in-process scan runs there, for comparison. */
let twin: Store;
const SEGMENTS = 8;
const DAY1 = '2026-07-20T06:00:00.000Z';
/** Two and a half months later: regulars have been away long enough to turn, one lapsed came back. */
const DAY2 = addDays(DAY1, 75);
const purchasers: string[] = [];
let returning = '';
let neverBought = '';

const worker = (now: string, on = store) =>
  createChurnScanWorker({ store: () => on, clock: () => new Date(now) });
type Worker = ReturnType<typeof worker>;
/** A Lambda context with `ms` left after the worker's safety margin. */
const lambdaContext = (ms: number) => ({
  getRemainingTimeInMillis: () => DEADLINE_MARGIN_MS + ms,
  awsRequestId: 'test',
});
const ample = () => lambdaContext(60_000);

const plan = async (run: Worker, segments = SEGMENTS, asOf?: string) =>
  (await run({ step: 'plan', segments, ...(asOf ? { asOf } : {}) }, ample())) as FanOutPlan;

interface Execution {
  plan: FanOutPlan;
  /** Every call's answer, by segment, in order. */
  calls: Map<number, SegmentOutcome[]>;
  totals: FanOutTotals;
}

/**
 * What Step Functions does: plan, then each item until its segment is done, then finish. `budget`
 * is each call's time (ms after the margin); `twice` makes every call twice at once (a retry racing
 * the attempt it retries); `sequential` runs the items one after another (for the slow table).
 */
async function execute(
  run: Worker,
  options: { budget?: (segment: number, call: number) => number; twice?: boolean; sequential?: boolean } = {},
): Promise<Execution> {
  const planned = await plan(run);
  const calls = new Map<number, SegmentOutcome[]>();
  const item = async (segment: number) => {
    const outcomes: SegmentOutcome[] = [];
    calls.set(segment, outcomes);
    for (let call = 0; !outcomes.some((outcome) => outcome.done); call++) {
      if (call > 50) throw new Error(`segment ${segment} is not getting done`);
      const input = { step: 'segment', asOf: planned.asOf, segment, segments: planned.segments };
      const context = lambdaContext(options.budget?.(segment, call) ?? 60_000);
      const answers = await Promise.all(
        Array.from({ length: options.twice ? 2 : 1 }, () => run(input, context) as Promise<SegmentOutcome>),
      );
      outcomes.push(...answers);
    }
  };
  if (options.sequential) for (const segment of planned.pending) await item(segment);
  else await Promise.all(planned.pending.map(item));
  const totals = (await run(
    { step: 'finish', asOf: planned.asOf, segments: planned.segments },
    ample(),
  )) as FanOutTotals;
  return { plan: planned, calls, totals };
}

const allOutcomes = (execution: Execution) => [...execution.calls.values()].flat();
const sum = (outcomes: SegmentOutcome[], field: 'processed' | 'changed') =>
  outcomes.reduce((total, outcome) => total + outcome[field], 0);

/**
 * A table that answers each request ten (virtual) seconds late: `Date.now()` moves on 10 s with
 * every request, so a call with less than a minute left stops after a known number of requests, in
 * the middle of a segment, whatever the real latency (5 s of slack). Only for items worked one after
 * another (one clock for all).
 */
function slowTable(on: Store): Store {
  let late = 0;
  const now = Date.now.bind(Date);
  vi.spyOn(Date, 'now').mockImplementation(() => now() + late);
  const send = on.db.send.bind(on.db) as (command: unknown) => Promise<unknown>;
  const db = new Proxy(on.db, {
    get: (target, property, receiver) =>
      property === 'send'
        ? (command: unknown) => {
            late += 10_000;
            return send(command);
          }
        : Reflect.get(target, property, receiver),
  });
  return { ...on, db };
}

afterEach(() => {
  vi.restoreAllMocks();
});

async function copyTable(from: Store, to: Store): Promise<void> {
  let start: Record<string, unknown> | undefined;
  do {
    const page = await from.db.send(
      new ScanCommand({ TableName: from.tableName, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    const items = page.Items ?? [];
    for (let i = 0; i < items.length; i += 25) {
      const batch = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      let unprocessed: Record<string, unknown>[] | undefined = batch;
      while (unprocessed && unprocessed.length > 0) {
        const result = await to.db.send(
          new BatchWriteCommand({ RequestItems: { [to.tableName]: unprocessed as never } }),
        );
        unprocessed = result.UnprocessedItems?.[to.tableName] as Record<string, unknown>[] | undefined;
      }
    }
    start = page.LastEvaluatedKey;
  } while (start);
}

/** The scores stored on a member (null before its first score). */
async function churnOf(on: Store, memberId: string): Promise<ChurnView | null> {
  const { Item } = await on.db.send(
    new GetCommand({ TableName: on.tableName, Key: keys.member(memberId), ConsistentRead: true }),
  );
  return (Item?.churn as ChurnView | undefined) ?? null;
}

/** A day's churn events, as consumers see them (ids aside: each table makes its own). */
async function churnEventsOf(on: Store, day: string): Promise<Omit<OutboxEnvelope, 'id'>[]> {
  const events = await outboxEventsOfType(on, 'member.churn_risk.changed');
  return events
    .filter((event) => dayOf(event.occurredAt) === dayOf(day))
    .map(({ id: _id, ...event }) => event)
    .sort((a, b) => String(a.memberId).localeCompare(String(b.memberId)));
}

/** The in-process scan of the same day on the twin table: POST /v1/jobs/churn-scan. */
async function inProcess(now: string) {
  const answer = parse(await runJob(contextFor(twin, admin, { now }), 'churn-scan', {}));
  expect(answer.complete).toBe(true);
  return answer as { job: string; asOf: string; processed: number; changed: number; complete: boolean };
}

/** The fanned-out run of the day equals the in-process one: totals, every member's scores, events. */
async function expectSameAsInProcess(execution: Execution, now: string) {
  const reference = await inProcess(now);
  expect(execution.totals).toEqual(reference);
  for (const id of [...purchasers, neverBought]) {
    expect(await churnOf(store, id), id).toEqual(await churnOf(twin, id));
  }
  const events = await churnEventsOf(store, now);
  expect(events).toEqual(await churnEventsOf(twin, now));
  // One event per band change, each for a different member.
  expect(events).toHaveLength(execution.totals.changed);
  expect(new Set(events.map((event) => event.memberId)).size).toBe(events.length);
  return events;
}

beforeAll(async () => {
  [store, twin] = await Promise.all([createTestStore('churn-fanout'), createTestStore('churn-fanout-twin')]);
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
  returning = purchasers[1]!; // bought four times in the spring
  neverBought = await calls.newMember('2026-01-01T09:00:00.000Z'); // not scored
  await fitChurnModel(contextFor(store, admin, { now: '2026-07-01T00:00:00.000Z' }), {});
  await copyTable(store, twin);
}, 120_000);

describe('the churn scan fanned out over segments', () => {
  it('scores every purchaser once, as the in-process scan does, with calls stopped in the middle of segments', async () => {
    // Each call has 55 s, 10 s a request: it opens the run (3 requests), reads its position and a
    // page, scores one member, then stops and saves after it; the next call continues there.
    const execution = await execute(worker(DAY1, slowTable(store)), {
      budget: () => 55_000,
      sequential: true,
    });
    vi.restoreAllMocks();
    expect(execution.plan).toEqual({
      asOf: DAY1,
      segments: SEGMENTS,
      pending: [0, 1, 2, 3, 4, 5, 6, 7],
      complete: false,
    });
    const outcomes = allOutcomes(execution);
    // Calls stopped part-way through a segment, each continued by the next.
    const resumed = [...execution.calls.values()].filter((calls) => calls.length > 1);
    expect(resumed.length).toBeGreaterThan(0);
    for (const calls of resumed) {
      expect(calls.at(-1)?.done).toBe(true);
      for (const call of calls.slice(0, -1)) expect(call).toMatchObject({ done: false, processed: 1 });
    }
    // What the calls answered adds up to the run's totals.
    expect(sum(outcomes, 'processed')).toBe(execution.totals.processed);
    expect(sum(outcomes, 'changed')).toBe(execution.totals.changed);
    expect(execution.totals).toEqual({
      job: 'churn-scan',
      asOf: DAY1,
      processed: purchasers.length,
      changed: purchasers.length, // a first score is a change from nothing
      complete: true,
    });
    const events = await expectSameAsInProcess(execution, DAY1);
    expect(events.map((event) => event.memberId).sort()).toEqual([...purchasers].sort());
    for (const event of events) expect(event.data).toMatchObject({ previous: null });
    expect(await churnOf(store, neverBought)).toBeNull();
  });

  it('changes nothing when a segment, or the whole execution, runs again', async () => {
    const eventsBefore = await churnEventsOf(store, DAY1);
    const again = await worker(DAY1)(
      { step: 'segment', asOf: DAY1, segment: 3, segments: SEGMENTS },
      ample(),
    );
    expect(again).toEqual({ segment: 3, done: true, processed: 0, changed: 0 });
    const repeated = await execute(worker(DAY1));
    expect(repeated.plan).toMatchObject({ pending: [], complete: true });
    expect(repeated.totals).toMatchObject({
      processed: purchasers.length,
      changed: purchasers.length,
      complete: true,
    });
    expect(await churnEventsOf(store, DAY1)).toEqual(eventsBefore);
  });

  it('announces each band change once, as the in-process scan does, with two calls on every segment at once', async () => {
    // A lapsed member comes back the day before, in both tables alike.
    for (const on of [store, twin]) {
      await ledgerCalls(on, partnerPrincipal('shop')).earn(
        returning,
        { amountMinor: 4_000, orderRef: 'comeback' },
        { now: addDays(DAY2, -1) },
      );
    }
    const before = new Map(
      await Promise.all(purchasers.map(async (id) => [id, await churnOf(store, id)] as const)),
    );
    // The first call of each segment has no time at all; every call is made twice at once.
    const execution = await execute(worker(DAY2), {
      budget: (_, call) => (call === 0 ? 0 : 60_000),
      twice: true,
    });
    for (const calls of execution.calls.values())
      expect(calls.slice(0, 2)).toMatchObject([{ done: false }, { done: false }]);
    expect(sum(allOutcomes(execution), 'processed')).toBe(purchasers.length);
    expect(sum(allOutcomes(execution), 'changed')).toBe(execution.totals.changed);

    const events = await expectSameAsInProcess(execution, DAY2);
    const after = new Map(
      await Promise.all(purchasers.map(async (id) => [id, await churnOf(store, id)] as const)),
    );
    const changed = purchasers.filter((id) => before.get(id)?.risk !== after.get(id)?.risk);
    // Some bands changed and some did not: only the changes are announced, from and to what they were.
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.length).toBeLessThan(purchasers.length);
    expect(changed).toContain(returning);
    expect(execution.totals).toMatchObject({ processed: purchasers.length, changed: changed.length });
    expect(events.map((event) => event.memberId)).toEqual([...changed].sort());
    for (const event of events) {
      const id = event.memberId as string;
      expect(event.data).toEqual({
        previous: before.get(id)?.risk,
        current: after.get(id)?.risk,
        pAlive: after.get(id)?.pAlive,
        clvMinor: after.get(id)?.clvMinor,
      });
    }
    for (const id of purchasers) expect(after.get(id)?.scoredAt).toBe(DAY2);
  });

  it('keeps a run in the split it began with', async () => {
    // A day whose run the fan-out began (8): the in-process scan (16) is refused, not mixed in.
    const day3 = addDays(DAY2, 1);
    expect(await plan(worker(day3))).toMatchObject({ segments: 8, complete: false });
    await expect(runJob(contextFor(store, admin, { now: day3 }), 'churn-scan', {})).rejects.toThrow(
      new ConflictError(
        `The churn-scan run of ${dayOf(day3)} is split in 8 segments, not 16: continue it the way it began.`,
        { segments: 8 },
      ),
    );
    // A segment call in another split is refused by name: the state machine does not retry it.
    await expect(
      worker(day3)({ step: 'segment', asOf: day3, segment: 0, segments: 4 }, ample()),
    ).rejects.toMatchObject({
      name: churnScanWorkerErrors.refused,
      message: expect.stringContaining('split in 8'),
    });

    // A day whose run began in-process (16, stopped at once): the fan-out plans that split instead.
    const day4 = addDays(DAY2, 2);
    const stopped = parse(
      await runJob({ ...contextFor(store, admin, { now: day4 }), deadline: 0 }, 'churn-scan', {}),
    );
    expect(stopped).toMatchObject({ processed: 0, complete: false });
    const adopted = await execute(worker(day4));
    expect(adopted.plan).toMatchObject({ segments: 16, pending: Array.from({ length: 16 }, (_, s) => s) });
    expect(adopted.totals).toMatchObject({ processed: purchasers.length, complete: true });
  });

  it('refuses what another attempt cannot mend, by name: bad input, and no model to score with', async () => {
    await expect(
      worker(DAY1)({ step: 'segment', asOf: DAY1, segment: 8, segments: 8 }, ample()),
    ).rejects.toMatchObject({
      name: churnScanWorkerErrors.refused,
      message: expect.stringContaining('segment must be below segments'),
    });
    await expect(worker(DAY1)({ step: 'scan' }, ample())).rejects.toMatchObject({
      name: churnScanWorkerErrors.refused,
    });
    // Before any fit: a clear failure, and nothing written (the run is not even opened).
    const empty = await createTestStore('churn-fanout-empty');
    await expect(plan(worker(DAY1, empty))).rejects.toMatchObject({
      name: churnScanWorkerErrors.noModel,
      message: 'No churn model has been fitted yet: POST /v1/analytics/churn-model/fit first.',
    });
    const { Item } = await empty.db.send(
      new GetCommand({ TableName: empty.tableName, Key: keys.jobRun('churn-scan', dayOf(DAY1)) }),
    );
    expect(Item).toBeUndefined();
  });
});
