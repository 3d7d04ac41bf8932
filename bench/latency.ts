/**
 * Latency of earn and redeem through the real handler (middy pipeline, authentication, service,
 * DynamoDB) against a raw SDK sequence of the same two requests (the BatchGetItem, key included,
 * then the TransactWriteItems of the same items), interleaved: each cycle runs one of each, the
 * order alternating, so drift in DynamoDB Local (JIT, GC, table growth) hits both series alike.
 * Calls are sequential, so none waits on another; members are taken round-robin from a pool, so a
 * member item is touched again only many cycles later.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  BatchGetItemCommand,
  type DynamoDBClient,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { newId } from '../lambdas/domain/ids.ts';
import { handler as pointsHandler } from '../lambdas/handlers/points.ts';
import { canonicalJson } from '../lambdas/http/middlewares/idempotency-key.ts';
import { idempotencyScope, type RequestContext } from '../lambdas/services/context.ts';
import { earnPoints } from '../lambdas/services/earn.ts';
import type { Store } from '../lambdas/store/client.ts';
import { orderRef } from './capture.ts';
import { instantiate, instantiateRead, type ReadTemplate, type TransactionTemplate } from './replay.ts';
import { median, round, type Summary, summarize, timed } from './stats.ts';
import {
  earnBodyFor,
  expectCreated,
  invocationContext,
  pointsEvent,
  redeemBody,
  type World,
} from './world.ts';

export interface PairResult {
  handler: Summary;
  raw: Summary;
  ratio: { p50: number; p99: number };
}

export interface LatencyResult {
  earn: PairResult;
  redeem: PairResult;
}

/** A measurement ready to run: its inputs are built, calling it times only the call itself. */
type Measure = () => Promise<number>;

interface Series {
  handler: number[];
  raw: number[];
}

export async function measureLatency(
  world: World,
  raw: DynamoDBClient,
  templates: { earn: TransactionTemplate; redeem: TransactionTemplate },
  reads: { earn: ReadTemplate; redeem: ReadTemplate },
  options: { warmup: number; iterations: number },
): Promise<LatencyResult> {
  const earn: Series = { handler: [], raw: [] };
  const redeem: Series = { handler: [], raw: [] };
  const rawVersions = new Map<string, number>();

  // Built at call time (the member's version is known only then), before the clock starts.
  const rawCall =
    (
      read: ReadTemplate,
      template: TransactionTemplate,
      memberId: string,
      ids: Record<string, string>,
    ): Measure =>
    async () => {
      const version = rawVersions.get(memberId) ?? 0;
      const get = new BatchGetItemCommand(instantiateRead(read, memberId));
      const write = new TransactWriteItemsCommand(instantiate(template, { ...ids, memberId }, version));
      const { ms } = await timed(async () => {
        await raw.send(get);
        await raw.send(write);
      });
      rawVersions.set(memberId, version + 1);
      return ms;
    };
  // Fresh ids for every role a template may hold; a template substitutes only the roles it has.
  const freshIds = () => ({ txnId: newId('txn'), redemptionId: newId('red'), idempotencyKey: randomUUID() });

  for (let cycle = 0; cycle < options.warmup + options.iterations; cycle++) {
    const measured = cycle >= options.warmup;
    const handlerFirst = cycle % 2 === 0;
    const handlerMember = world.handlerMembers[cycle % world.handlerMembers.length] as string;
    const rawMember = world.rawMembers[cycle % world.rawMembers.length] as string;
    await pair(
      handlerFirst,
      handlerCall(pointsEvent(world, handlerMember, 'earn', earnBodyFor(orderRef('h', cycle))), 'earn'),
      rawCall(reads.earn, templates.earn, rawMember, { ...freshIds(), orderRef: orderRef('r', cycle) }),
      measured ? earn : undefined,
    );
    await pair(
      handlerFirst,
      handlerCall(pointsEvent(world, handlerMember, 'redemptions', redeemBody), 'redeem'),
      rawCall(reads.redeem, templates.redeem, rawMember, freshIds()),
      measured ? redeem : undefined,
    );
  }

  return { earn: pairResult(earn), redeem: pairResult(redeem) };
}

function handlerCall(event: ReturnType<typeof pointsEvent>, what: string): Measure {
  return async () => {
    const context = invocationContext('points');
    const { ms, result } = await timed(() => pointsHandler(event, context));
    expectCreated(result, what);
    return ms;
  };
}

async function pair(handlerFirst: boolean, handler: Measure, raw: Measure, into?: Series): Promise<void> {
  const [first, second] = handlerFirst ? [handler, raw] : [raw, handler];
  const a = await first();
  const b = await second();
  into?.handler.push(handlerFirst ? a : b);
  into?.raw.push(handlerFirst ? b : a);
}

function pairResult(series: Series): PairResult {
  const handler = summarize(series.handler);
  const raw = summarize(series.raw);
  return { handler, raw, ratio: { p50: round(handler.p50 / raw.p50), p99: round(handler.p99 / raw.p99) } };
}

export interface Breakdown {
  calls: number;
  /** Medians, ms. `other` is the call minus its DynamoDB sends (each timed around the whole SDK send). */
  handler: { total: number; batchGet: number; transactWrite: number; other: number };
  /** earnPoints() called directly with a prepared context: the use case without the HTTP pipeline. */
  service: { total: number; other: number };
  /** ≈ handler.other − service.other: middy, JSON parsing, zod, Idempotency-Key hashing, logging. */
  pipeline: number;
}

/**
 * Where an earn's time goes, in a separate pass (its timing middleware must not tax the measured
 * series): per call, the time inside each DynamoDB send and the rest, for the handler and for the
 * service alone.
 */
export async function measureBreakdown(world: World, calls: number): Promise<Breakdown> {
  const timing = timeSends(world.store);
  try {
    return { calls, ...(await earnBreakdown(world, timing, calls)) };
  } finally {
    timing.detach();
  }
}

async function earnBreakdown(world: World, timing: SendTiming, calls: number) {
  const handler = { total: [] as number[], batchGet: [] as number[], transactWrite: [] as number[] };
  const handlerOther: number[] = [];
  const service = { total: [] as number[], other: [] as number[] };
  for (let i = 0; i < calls; i++) {
    const member = world.handlerMembers[i % world.handlerMembers.length] as string;
    const event = pointsEvent(world, member, 'earn', earnBodyFor(orderRef('b', i)));
    const context = invocationContext('points');
    timing.reset();
    const viaHandler = await timed(() => pointsHandler(event, context));
    expectCreated(viaHandler.result, 'earn');
    const sends = timing.take();
    handler.total.push(viaHandler.ms);
    handler.batchGet.push(sends.BatchGetItemCommand ?? 0);
    handler.transactWrite.push(sends.TransactWriteItemsCommand ?? 0);
    handlerOther.push(viaHandler.ms - sum(Object.values(sends)));

    const direct = serviceCall(world, member, earnBodyFor(orderRef('s', i)));
    timing.reset();
    const viaService = await timed(direct);
    if (viaService.result.status !== 201) throw new Error(`earnPoints answered ${viaService.result.status}`);
    service.total.push(viaService.ms);
    service.other.push(viaService.ms - sum(Object.values(timing.take())));
  }
  const handlerMedians = { ...medians(handler), other: round(median(handlerOther)) };
  const serviceMedians = medians(service);
  return {
    handler: handlerMedians,
    service: serviceMedians,
    pipeline: round(handlerMedians.other - serviceMedians.other),
  };
}

function medians<K extends string>(series: Record<K, number[]>): Record<K, number> {
  return Object.fromEntries(
    Object.entries<number[]>(series).map(([name, samples]) => [name, round(median(samples))]),
  ) as Record<K, number>;
}

/** earnPoints() with the context the middlewares would build, built ahead so only the call is timed. */
function serviceCall(world: World, memberId: string, body: ReturnType<typeof earnBodyFor>) {
  const fingerprint = `POST /v1/members/${memberId}/earn\n${canonicalJson(body)}`;
  const context: RequestContext = {
    store: world.store,
    principal: world.principal,
    now: new Date().toISOString(),
    idempotency: {
      scope: idempotencyScope(world.principal),
      key: randomUUID(),
      requestHash: createHash('sha256').update(fingerprint).digest('base64url'),
    },
  };
  return () => earnPoints(context, memberId, body);
}

const TIMING = 'benchSendTiming';

type SendTiming = ReturnType<typeof timeSends>;

/** Times every send of the store's client, outermost middleware first so the whole send is inside. */
function timeSends(store: Store) {
  let spent: Record<string, number> = {};
  let failed: string[] = [];
  store.db.middlewareStack.add(
    (next, context) => async (args) => {
      const started = performance.now();
      const name = context.commandName ?? '?';
      try {
        return await next(args);
      } catch (error) {
        failed.push(name);
        throw error;
      } finally {
        spent[name] = (spent[name] ?? 0) + performance.now() - started;
      }
    },
    { step: 'initialize', priority: 'high', name: TIMING },
  );
  return {
    reset: () => {
      spent = {};
      failed = [];
    },
    take: () => spent,
    failed: () => failed,
    detach: () => store.db.middlewareStack.remove(TIMING),
  };
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
