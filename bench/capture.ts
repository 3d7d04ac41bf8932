/**
 * One earn, one redeem and one authorizer call through the real handlers, under the probe: what
 * each operation costs in capacity units, and the exact transactions to replay as the raw baseline.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { handler as authorizerHandler } from '../lambdas/handlers/authorizer.ts';
import { handler as pointsHandler } from '../lambdas/handlers/points.ts';
import type { HttpEvent } from '../lambdas/http/types.ts';
import { buildAuthorizerEvent } from '../local/api-gateway.ts';
import { capacityOf, type OperationCapacity } from './capacity.ts';
import { attachProbe, type ProbedCall } from './probe.ts';
import { type TransactionTemplate, templateOf } from './replay.ts';
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
  capacity: { earn: OperationCapacity; redeem: OperationCapacity; authorizer: OperationCapacity };
  templates: { earn: TransactionTemplate; redeem: TransactionTemplate };
}

export async function captureOperations(world: World, reader: DynamoDBClient): Promise<Captured> {
  const probe = attachProbe(world.store, reader);
  try {
    const memberId = world.probeMember;
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
    // The authorizer's steady state: a request after its key's use was recorded (at most once a minute).
    const authorize = async () => {
      const result = await authorizerHandler(authorizerEvent(world));
      if (result.context.authenticated !== 'true') throw new Error('the authorizer rejected the admin key');
    };
    await authorize();
    const authorizer = await observe(authorize);

    return {
      capacity: {
        earn: capacityOf(earn.calls),
        redeem: capacityOf(redeem.calls),
        authorizer: capacityOf(authorizer.calls),
      },
      templates: {
        earn: templateOf(transactionOf(earn.calls), {
          memberId,
          txnId: earn.result.transaction.id,
          idempotencyKey: earnKey,
          orderRef: earnRef,
        }),
        redeem: templateOf(transactionOf(redeem.calls), {
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

function transactionOf(calls: ProbedCall[]): Record<string, unknown> {
  const call = calls.find((candidate) => candidate.command === 'TransactWriteItemsCommand');
  if (!call) throw new Error('the operation sent no TransactWriteItems');
  return call.input;
}

/** What API Gateway sends the authorizer for an earn request carrying a real (admin) key. */
export function authorizerEvent(world: World) {
  const event = pointsEvent(world, world.probeMember, 'earn', earnBodyFor(orderRef('a', 0)));
  event.headers.authorization = `Bearer ${world.adminKey}`;
  return buildAuthorizerEvent(event);
}
