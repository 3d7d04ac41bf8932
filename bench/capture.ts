/**
 * One earn and one redeem through the real handler, under the probe, in the steady state (the
 * container knows the key, so it rides in the BatchGet): what each operation costs in capacity
 * units, and the exact BatchGetItem and TransactWriteItems to replay as the raw baseline.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { handler as pointsHandler } from '../lambdas/handlers/points.ts';
import type { HttpEvent } from '../lambdas/http/types.ts';
import { capacityOf, type OperationCapacity } from './capacity.ts';
import { attachProbe, type ProbedCall } from './probe.ts';
import { type ReadTemplate, readTemplateOf, type TransactionTemplate, templateOf } from './replay.ts';
import {
  earnBodyFor,
  expectCreated,
  invocationContext,
  pointsEvent,
  redeemBody,
  type World,
} from './world.ts';

/** Order references are the same length in every series, so every order guard weighs the same. */
export const orderRef = (series: string, n: number) => `ord-${series}-${String(n).padStart(6, '0')}`;

export interface Captured {
  capacity: { earn: OperationCapacity; redeem: OperationCapacity };
  templates: { earn: TransactionTemplate; redeem: TransactionTemplate };
  reads: { earn: ReadTemplate; redeem: ReadTemplate };
}

export async function captureOperations(world: World, reader: DynamoDBClient): Promise<Captured> {
  const memberId = world.probeMember;
  // The container's first request with the key reads it alone (and records its use): not the steady state.
  await created(pointsEvent(world, memberId, 'earn', earnBodyFor(orderRef('w', 0))), 'warm-up earn');
  const probe = attachProbe(world.store, reader);
  try {
    // The calls the probe saw while `run` ran, with what `run` returned.
    const observe = async <T>(run: () => Promise<T>) => {
      const first = probe.calls.length;
      const result = await run();
      return { result, calls: probe.calls.slice(first) };
    };

    const earnKey = randomUUID();
    const earnRef = orderRef('p', 0);
    const earn = await observe(() =>
      created<{ transaction: { id: string } }>(
        pointsEvent(world, memberId, 'earn', earnBodyFor(earnRef), earnKey),
        'earn',
      ),
    );
    const redeemKey = randomUUID();
    const redeem = await observe(() =>
      created<{ redemption: { id: string; transactionId: string } }>(
        pointsEvent(world, memberId, 'redemptions', redeemBody, redeemKey),
        'redeem',
      ),
    );
    return {
      capacity: {
        earn: capacityOf(earn.calls),
        redeem: capacityOf(redeem.calls),
      },
      reads: {
        earn: readTemplateOf(commandInput(earn.calls, 'BatchGetItemCommand'), memberId),
        redeem: readTemplateOf(commandInput(redeem.calls, 'BatchGetItemCommand'), memberId),
      },
      templates: {
        earn: templateOf(commandInput(earn.calls, 'TransactWriteItemsCommand'), {
          memberId,
          txnId: earn.result.transaction.id,
          idempotencyKey: earnKey,
          orderRef: earnRef,
        }),
        redeem: templateOf(commandInput(redeem.calls, 'TransactWriteItemsCommand'), {
          memberId,
          txnId: redeem.result.redemption.transactionId,
          redemptionId: redeem.result.redemption.id,
          idempotencyKey: redeemKey,
        }),
      },
    };
  } finally {
    probe.detach(); // the measured calls must run without the probe's extra reads
  }
}

/** Call the points handler, insist on 201 and return the parsed body. */
async function created<Body>(event: HttpEvent, what: string): Promise<Body> {
  const result = expectCreated(await pointsHandler(event, invocationContext('points')), what);
  return JSON.parse(String(result.body)) as Body;
}

function commandInput(calls: ProbedCall[], command: string): Record<string, unknown> {
  const matching = calls.filter((candidate) => candidate.command === command);
  if (matching.length !== 1) throw new Error(`the operation sent ${matching.length} ${command}, not one`);
  return (matching[0] as ProbedCall).input;
}
