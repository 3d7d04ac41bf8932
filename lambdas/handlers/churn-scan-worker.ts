/**
 * The churn scan's worker on AWS, invoked by the Step Functions state machine of lib/churn-scan.ts:
 * `{ step: "plan", asOf?, segments }` opens the day's run and lists the segments left,
 * `{ step: "segment", asOf, segment, segments }` scores one segment until it is done or this call's
 * time is nearly up (the state machine calls again while `done` is false), and
 * `{ step: "finish", asOf, segments }` closes the run and answers its totals.
 */
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { currentTime } from '../config/clock.ts';
import { logger } from '../http/logger.ts';
import { timestamp } from '../schemas/common.ts';
import { MAX_SCAN_SEGMENTS } from '../services/churn-scan.ts';
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

export interface WorkerDeps {
  store: () => Store;
  clock: () => Date;
}

export function createChurnScanWorker(deps: WorkerDeps = { store: storeFromEnv, clock: currentTime }) {
  return async (event: unknown, context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>) => {
    const request = workerEvent.parse(event);
    const ctx: RequestContext = {
      store: deps.store(),
      principal: SCHEDULER,
      now: deps.clock().toISOString(),
      deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS,
    };
    const log = { requestId: context.awsRequestId };
    switch (request.step) {
      case 'plan': {
        const plan = await planChurnScan(ctx, request);
        logger.info('churn scan planned', { ...log, asOf: plan.asOf, pending: plan.pending.length });
        return plan;
      }
      case 'segment': {
        const outcome = await scanSegment(ctx, request);
        if (!outcome.done) logger.info('churn scan segment continues in another call', { ...log, ...outcome });
        return outcome;
      }
      case 'finish': {
        const totals = await finishChurnScan(ctx, request);
        if (totals.complete) logger.info('job run', { ...log, ...totals });
        else logger.warn('job run stopped before completion', { ...log, ...totals });
        return totals;
      }
    }
  };
}

export const handler = createChurnScanWorker();
