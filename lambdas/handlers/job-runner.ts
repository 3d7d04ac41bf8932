/**
 * EventBridge Scheduler's target: runs one lifecycle job, `{ "job": "<name>" }`, the way an admin
 * would through POST /v1/jobs/{name}, but with up to 15 minutes instead of API Gateway's 29 s.
 */
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { currentTime } from '../config/clock.ts';
import { ChurnModelMissingError } from '../domain/errors.ts';
import { logger } from '../http/logger.ts';
import { type JobBody, type JobName, jobNames, jobResponse } from '../schemas/jobs.ts';
import type { RequestContext, UseCaseResponse } from '../services/context.ts';
import { runJob } from '../services/jobs.ts';
import type { Principal } from '../store/api-key-store.ts';
import { type Store, storeFromEnv } from '../store/client.ts';

/** The schedule's input: anything else is a misconfigured schedule, not a job to guess at. */
export const jobEvent = z.strictObject({ job: z.enum(jobNames) });

export type JobResult = z.infer<typeof jobResponse>;
export type JobRunSummary = JobResult & { calls: number };

/**
 * Time kept after the deadline for the writes already in flight, the run's totals and the log line:
 * a job that reaches the hard timeout fails, and Lambda retries the invocation.
 */
export const DEADLINE_MARGIN_MS = 10_000;

/** Jobs are admin operations; the scheduler holds no API key, so it is a principal of its own. */
export const SCHEDULER: Principal = { keyId: 'scheduler', role: 'admin', partnerId: null, scopes: [] };

/**
 * Calls a job until its run is complete, time is up, or a call handled nothing new (a job that
 * cannot progress must not spin until the timeout). Every call after the first passes the first
 * call's asOf, so all of them continue the same (job, asOf day) run.
 */
export async function runToCompletion(
  call: (asOf: string | undefined) => Promise<JobResult>,
  hasTimeLeft: () => boolean,
): Promise<JobRunSummary> {
  let result = await call(undefined);
  const { asOf } = result;
  let calls = 1;
  while (!result.complete && hasTimeLeft()) {
    const next = await call(asOf);
    calls += 1;
    const progressed = next.processed > result.processed;
    result = next;
    if (!progressed) break;
  }
  return { ...result, calls };
}

export interface JobRunnerDeps {
  runJob: (ctx: RequestContext, name: JobName, body: JobBody) => Promise<UseCaseResponse>;
  store: () => Store;
  clock: () => Date;
}

export function createJobRunner(deps: JobRunnerDeps = { runJob, store: storeFromEnv, clock: currentTime }) {
  return async (
    event: unknown,
    context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
  ): Promise<JobRunSummary> => {
    const { job } = jobEvent.parse(event);
    const deadline = Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS;
    const call = async (asOf: string | undefined) => {
      const ctx: RequestContext = {
        store: deps.store(),
        principal: SCHEDULER,
        now: deps.clock().toISOString(),
        deadline,
      };
      const response = await deps.runJob(ctx, job, asOf ? { asOf } : {});
      return jobResponse.parse(JSON.parse(response.body));
    };
    let summary: JobRunSummary;
    try {
      summary = await runToCompletion(call, () => Date.now() < deadline);
    } catch (error) {
      // The churn scan before any model was fitted: nothing to retry until an admin fits one.
      if (!(error instanceof ChurnModelMissingError)) throw error;
      const asOf = deps.clock().toISOString();
      summary = { job, asOf, processed: 0, changed: 0, complete: false, calls: 1 };
      logger.warn('job run skipped: no churn model', { ...summary, requestId: context.awsRequestId });
      return summary;
    }
    // The request id joins this line to a DLQ record of the same invocation.
    const details = { ...summary, requestId: context.awsRequestId };
    // Not an error: what is left stays in the due index, and the schedule's next run reads it.
    if (summary.complete) logger.info('job run', details);
    else logger.warn('job run stopped before completion', details);
    return summary;
  };
}

export const handler = createJobRunner();
