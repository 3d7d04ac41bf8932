import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChurnModelMissingError } from '../../lambdas/domain/errors.ts';
import {
  createJobRunner,
  DEADLINE_MARGIN_MS,
  type JobResult,
  type JobRunnerDeps,
  runToCompletion,
  SCHEDULER,
} from '../../lambdas/handlers/job-runner.ts';
import type { RequestContext } from '../../lambdas/services/context.ts';
import type { Store } from '../../lambdas/store/client.ts';

const ASOF = '2027-03-01T00:05:00.000Z';
const result = (processed: number, complete: boolean, asOf = ASOF): JobResult => ({
  job: 'expire-points',
  asOf,
  processed,
  changed: 0,
  complete,
});

/** A job whose calls answer the given results in turn, recording the asOf each call passed. */
function scripted(...results: JobResult[]) {
  const asOfs: (string | undefined)[] = [];
  const call = async (asOf: string | undefined) => {
    asOfs.push(asOf);
    const next = results.shift();
    if (!next) throw new Error('called once too often');
    return next;
  };
  return { call, asOfs };
}

describe('runToCompletion', () => {
  it('calls once when the run completes', async () => {
    const job = scripted(result(3, true));
    expect(await runToCompletion(job.call, () => true)).toEqual({ ...result(3, true), calls: 1 });
    expect(job.asOfs).toEqual([undefined]);
  });

  it("continues the first call's run (its asOf) until complete", async () => {
    const job = scripted(result(100, false), result(250, false, 'ignored'), result(300, true));
    const summary = await runToCompletion(job.call, () => true);
    expect(summary).toMatchObject({ processed: 300, complete: true, calls: 3 });
    expect(job.asOfs).toEqual([undefined, ASOF, ASOF]);
  });

  it('stops when time is up, reporting the run as incomplete', async () => {
    const job = scripted(result(100, false));
    expect(await runToCompletion(job.call, () => false)).toMatchObject({ complete: false, calls: 1 });
  });

  it('stops when a call handles nothing new instead of spinning until the timeout', async () => {
    const job = scripted(result(100, false), result(100, false));
    expect(await runToCompletion(job.call, () => true)).toMatchObject({
      processed: 100,
      complete: false,
      calls: 2,
    });
  });
});

describe('job runner handler', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const store = { tableName: 'loyalty' } as Store;
  const remaining = (ms: number) => ({ getRemainingTimeInMillis: () => ms, awsRequestId: 'req-1' });

  function runnerWith(...results: JobResult[]) {
    const calls: { ctx: RequestContext; name: string; body: unknown }[] = [];
    const deps: JobRunnerDeps = {
      runJob: async (ctx, name, body) => {
        calls.push({ ctx, name, body });
        const next = results.shift();
        if (!next) throw new Error('called once too often');
        return { status: 200, body: JSON.stringify(next), replayed: false };
      },
      store: () => store,
      clock: () => new Date(),
    };
    return { handler: createJobRunner(deps), calls };
  }

  it('runs the named job as the scheduler, with a deadline before the Lambda timeout', async () => {
    vi.useFakeTimers({ now: new Date(ASOF) });
    const { handler, calls } = runnerWith(result(7, true));
    const summary = await handler({ job: 'expire-points' }, remaining(900_000));
    expect(summary).toEqual({ ...result(7, true), calls: 1 });
    expect(calls).toEqual([
      {
        name: 'expire-points',
        body: {},
        ctx: {
          store,
          principal: SCHEDULER,
          now: ASOF,
          deadline: Date.parse(ASOF) + 900_000 - DEADLINE_MARGIN_MS,
        },
      },
    ]);
    expect(SCHEDULER).toEqual({ keyId: 'scheduler', role: 'admin', partnerId: null, scopes: [] });
  });

  it('passes the asOf of the first call to the next ones', async () => {
    const { handler, calls } = runnerWith(result(1, false), result(2, true));
    await handler({ job: 'expire-points' }, remaining(900_000));
    expect(calls.map((call) => call.body)).toEqual([{}, { asOf: ASOF }]);
  });

  it('waits quietly for a churn model: a scan before the first fit is not a failure to retry', async () => {
    vi.useFakeTimers({ now: new Date(ASOF) });
    const deps: JobRunnerDeps = {
      runJob: async () => {
        throw new ChurnModelMissingError();
      },
      store: () => store,
      clock: () => new Date(),
    };
    expect(await createJobRunner(deps)({ job: 'churn-scan' }, remaining(900_000))).toEqual({
      job: 'churn-scan',
      asOf: ASOF,
      processed: 0,
      changed: 0,
      complete: false,
      calls: 1,
    });
    // Any other failure still fails the invocation (Lambda retries it, then the DLQ).
    deps.runJob = async () => {
      throw new Error('DynamoDB is down');
    };
    await expect(createJobRunner(deps)({ job: 'churn-scan' }, remaining(900_000))).rejects.toThrow(
      'DynamoDB is down',
    );
  });

  it.each([
    [{ job: 'rebuild-everything' }],
    [{ job: 'tier-review', asOf: ASOF }],
    [{}],
    ['tier-review'],
    [null],
  ])('refuses the event %j without running anything', async (event) => {
    const { handler, calls } = runnerWith(result(1, true));
    await expect(handler(event, remaining(900_000))).rejects.toThrow();
    expect(calls).toEqual([]);
  });
});
