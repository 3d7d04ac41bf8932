/**
 * The churn scan's worker on AWS, invoked by the Step Functions state machine of lib/churn-scan.ts:
 * `{ step: "plan", asOf?, segments }` opens the day's run and lists the segments left,
 * `{ step: "segment", asOf, segment, segments }` scores one segment until it is done or this call's
 * time is nearly up (the state machine calls again while `done` is false) and answers what this
 * call did (`{ segment, done, processed, changed }`), and `{ step: "finish", asOf, segments }`
 * closes the run and answers its totals.
 *
 * Failures that another attempt cannot mend fail under a name of their own (`churnScanWorkerErrors`),
 * which the state machine does not retry: no churn model fitted yet, or a call the run refuses (bad
 * input, another split). Anything else (throttling, a conflict that outlasted the scan's own retries,
 * a timeout) is retried, and the retry continues from the segment's last checkpoint.
 */
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { currentTime } from '../config/clock.ts';
import { ChurnModelMissingError, DomainError } from '../domain/errors.ts';
import { logger } from '../http/logger.ts';
import { timestamp } from '../schemas/common.ts';
import { churnScanWorkerErrors, MAX_SCAN_SEGMENTS } from '../schemas/jobs.ts';
import { finishChurnScan, planChurnScan, scanSegment } from '../services/churn-scan-fanout.ts';
import type { RequestContext } from '../services/context.ts';
import { type Store, storeFromEnv } from '../store/client.ts';
import { DEADLINE_MARGIN_MS, SCHEDULER } from './job-runner.ts';

const segments = z.int().min(1).max(MAX_SCAN_SEGMENTS);

/** The state machine's input to each step: anything else is a broken definition, not work to guess at. */
export const workerEvent = z
  .discriminatedUnion('step', [
    z.strictObject({ step: z.literal('plan'), asOf: timestamp.optional(), segments }),
    z.strictObject({ step: z.literal('segment'), asOf: timestamp, segment: z.int().min(0), segments }),
    z.strictObject({ step: z.literal('finish'), asOf: timestamp, segments }),
  ])
  .refine((event) => event.step !== 'segment' || event.segment < event.segments, {
    message: 'segment must be below segments',
  });

/**
 * An error the state machine matches by name (Lambda reports `name` as the error type). The name
 * is a literal: the bundle is minified, so a class's own name would not survive.
 */
export class ChurnScanWorkerError extends Error {
  constructor(name: string, message: string, cause: unknown) {
    super(message, { cause });
    this.name = name;
  }
}

/** A failure another attempt cannot mend, under its name; anything else as it is (retried). */
function lastingFailure(error: unknown): unknown {
  if (error instanceof ChurnModelMissingError)
    return new ChurnScanWorkerError(churnScanWorkerErrors.noModel, error.message, error);
  if (error instanceof z.ZodError)
    return new ChurnScanWorkerError(churnScanWorkerErrors.refused, z.prettifyError(error), error);
  // Bad input and another split (400, 409): the same call fails the same way every time.
  if (error instanceof DomainError && (error.status === 400 || error.status === 409))
    return new ChurnScanWorkerError(churnScanWorkerErrors.refused, error.message, error);
  return error;
}

export interface WorkerDeps {
  store: () => Store;
  clock: () => Date;
}

export function createChurnScanWorker(deps: WorkerDeps = { store: storeFromEnv, clock: currentTime }) {
  return async (event: unknown, context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>) => {
    const log = { requestId: context.awsRequestId };
    try {
      const request = workerEvent.parse(event);
      const ctx: RequestContext = {
        store: deps.store(),
        principal: SCHEDULER,
        now: deps.clock().toISOString(),
        deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS,
      };
      switch (request.step) {
        case 'plan': {
          const plan = await planChurnScan(ctx, request);
          logger.info('churn scan planned', {
            ...log,
            asOf: plan.asOf,
            segments: plan.segments,
            pending: plan.pending.length,
          });
          return plan;
        }
        case 'segment': {
          const outcome = await scanSegment(ctx, request);
          if (!outcome.done)
            logger.info('churn scan segment continues in another call', { ...log, ...outcome });
          return outcome;
        }
        case 'finish': {
          const totals = await finishChurnScan(ctx, request);
          if (totals.complete) logger.info('job run', { ...log, ...totals });
          else logger.warn('job run stopped before completion', { ...log, ...totals });
          return totals;
        }
      }
    } catch (error) {
      const failure = lastingFailure(error);
      if (failure instanceof ChurnScanWorkerError && failure.name === churnScanWorkerErrors.noModel) {
        // Not a fault: nothing to score until an admin fits a model (the state machine ends quietly).
        logger.warn('job run skipped: no churn model', { ...log, job: 'churn-scan' });
      }
      throw failure;
    }
  };
}

export const handler = createChurnScanWorker();
