import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pointsOperations } from '../../lambdas/handlers/points.ts';
import { createRouteGroup } from '../../lambdas/http/route-group.ts';
import { pointsRoutes } from '../../lambdas/routes/points.ts';
import { scopes } from '../../lambdas/schemas/common.ts';
import { generateApiKey, newApiKeyRecord } from '../../lambdas/services/api-keys.ts';
import { listTransactions } from '../../lambdas/services/history.ts';
import { enrolMember, readMember } from '../../lambdas/services/members.ts';
import { createApiKey } from '../../lambdas/store/api-key-store.ts';
import { createStore, type Store } from '../../lambdas/store/client.ts';
import { buildHttpEvent, lambdaContext } from '../../local/api-gateway.ts';
import { type DynamoDbLocal, ensureTable, freePort, startDynamoDbLocal } from '../../local/dynamodb-local.ts';
import { admin, contextFor, parse } from '../support/fixtures.ts';
import { createTestPartner } from '../support/ledger.ts';
import { createTestStore, localEndpoint } from '../support/table.ts';
import { partTimeoutMs, printCounts, scale } from './scale.ts';

/**
 * Faults, and what a checkout does about them: send the same earn again, with the same
 * Idempotency-Key, until it is answered 201. (a) DynamoDB throttling, transaction conflicts and
 * answers lost after DynamoDB committed, injected at random into the SDK; (b) DynamoDB Local itself
 * killed (SIGKILL) mid-run and restarted on its data. Every answer is a success or a 429/503
 * problem (never a 500); in the end every intended earn is in the ledger exactly once and every
 * balance is the sum of its entries.
 */
type Fault = 'throttle' | 'conflict' | 'lost-answer';

/** A second client on the table whose commands fail at `rate`, each in one of the three ways. */
function faultyStore(
  tableName: string,
  endpoint: string,
  rate: number,
  injected: Record<Fault, number>,
): Store {
  const store = createStore({ tableName, endpoint });
  store.db.middlewareStack.add(
    (next, context) => async (args) => {
      if (Math.random() >= rate) return next(args);
      const command = context.commandName ?? '';
      const fault: Fault =
        command === 'TransactWriteItemsCommand'
          ? ((['throttle', 'conflict', 'lost-answer'] as const)[Math.floor(Math.random() * 3)] as Fault)
          : 'throttle';
      injected[fault] += 1;
      if (fault === 'throttle')
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
          name: 'ProvisionedThroughputExceededException',
          $metadata: {},
        });
      if (fault === 'conflict') {
        const items = ((args.input as { TransactItems?: unknown[] }).TransactItems ?? []).length;
        throw new TransactionCanceledException({
          message: 'Transaction cancelled [TransactionConflict]',
          $metadata: {},
          CancellationReasons: Array.from({ length: items }, (_, i) => ({
            Code: i === 0 ? 'TransactionConflict' : 'None',
          })),
        });
      }
      // DynamoDB committed, the answer never arrived: only the Idempotency-Key can tell.
      await next(args);
      throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });
    },
    { step: 'initialize', name: 'injectFaults' },
  );
  return store;
}

async function partnerKey(store: Store): Promise<string> {
  const secret = generateApiKey();
  await createApiKey(
    store,
    newApiKeyRecord(
      secret,
      { name: 'till', role: 'partner', partnerId: 'grocer', scopes: [...scopes] },
      new Date().toISOString(),
    ),
  );
  return secret;
}

/** An earn as API Gateway hands it to the points function. */
function earnEvent(memberId: string, key: string, idempotencyKey: string, orderRef: string) {
  const event = buildHttpEvent(
    {
      method: 'POST',
      url: `/v1/members/${memberId}/earn`,
      headers: {
        'content-type': 'application/json',
        'idempotency-key': idempotencyKey,
        authorization: `Bearer ${key}`,
      },
      body: Buffer.from(JSON.stringify({ amountMinor: 1_000, currency: 'USD', orderRef })),
      sourceIp: '127.0.0.1',
    },
    'POST /v1/members/{memberId}/earn',
    { memberId },
  );
  return event;
}

/** An earn answered 201, and when. */
interface Earn {
  memberId: string;
  orderRef: string;
  idempotencyKey: string;
  answeredAt: number;
}

interface Outcome {
  statuses: Record<number, number>;
  retries: number;
  unexpected: string[];
}

/** Earn `count` times over `memberIds`, `width` at a time, each until 201 with its own key. */
async function earnUntilDone(
  handler: ReturnType<typeof createRouteGroup>,
  memberIds: string[],
  key: string,
  count: number,
  width: number,
  pauseMs: number,
): Promise<Outcome & { intended: Map<string, number>; earns: Earn[] }> {
  const outcome: Outcome = { statuses: {}, retries: 0, unexpected: [] };
  const intended = new Map<string, number>();
  const earns: Earn[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const n = next++;
        const memberId = memberIds[n % memberIds.length] as string;
        const idempotencyKey = randomUUID();
        const orderRef = `order-${n}`;
        for (let attempt = 0; ; attempt++) {
          const event = earnEvent(memberId, key, idempotencyKey, orderRef);
          const result = await handler(event, lambdaContext('points', event.requestContext.requestId));
          const status = result.statusCode ?? 0;
          outcome.statuses[status] = (outcome.statuses[status] ?? 0) + 1;
          if (status === 201) break;
          if (status !== 429 && status !== 503) outcome.unexpected.push(`${status} ${result.body}`);
          if (attempt > 200) throw new Error(`earn ${n} never succeeded: ${status} ${result.body}`);
          outcome.retries += 1;
          await new Promise((resolve) => setTimeout(resolve, pauseMs));
        }
        intended.set(memberId, (intended.get(memberId) ?? 0) + 1);
        earns.push({ memberId, orderRef, idempotencyKey, answeredAt: Date.now() });
      }
    }),
  );
  return { ...outcome, intended, earns };
}

/** Each member's earns in the ledger and its balance against the sum of its entries. */
async function ledgerOf(store: Store, memberId: string) {
  let cursor: string | undefined;
  let earns = 0;
  let sum = 0;
  const orderRefs: string[] = [];
  do {
    const page = parse(
      await listTransactions(contextFor(store, admin), memberId, {
        limit: 100,
        ...(cursor ? { cursor } : {}),
      }),
    );
    for (const entry of page.items as { type: string; points: number; orderRef: string | null }[]) {
      if (entry.type === 'earn') {
        earns += 1;
        orderRefs.push(entry.orderRef as string);
      }
      sum += entry.points;
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  const { balances } = parse(await readMember(contextFor(store, admin), memberId));
  return { earns, sum, orderRefs, balance: balances.available + balances.pending + balances.reserved };
}

async function expectEachEarnOnce(store: Store, intended: Map<string, number>) {
  let recorded = 0;
  for (const [memberId, earns] of intended) {
    const ledger = await ledgerOf(store, memberId);
    expect(ledger.earns, `${memberId}: earns recorded`).toBe(earns);
    expect(ledger.balance, `${memberId}: balance vs ledger`).toBe(ledger.sum);
    expect(ledger.sum, memberId).toBe(earns * 10);
    recorded += ledger.earns;
  }
  return recorded;
}

describe('faults injected into the SDK', () => {
  let real: Store;
  beforeAll(async () => {
    real = await createTestStore('reliability-faults');
    await createTestPartner(real, 'grocer');
  });

  it(
    'throttling, conflicts and lost answers: nothing lost, nothing doubled, never a 500',
    async () => {
      const key = await partnerKey(real);
      const memberIds = await Promise.all(
        Array.from(
          { length: 10 },
          async () => parse(await enrolMember(contextFor(real, admin), {})).id as string,
        ),
      );
      const injected: Record<Fault, number> = { throttle: 0, conflict: 0, 'lost-answer': 0 };
      const faulty = faultyStore(real.tableName, localEndpoint(), 0.25, injected);
      const handler = createRouteGroup(pointsRoutes, pointsOperations, { store: () => faulty });
      const outcome = await earnUntilDone(handler, memberIds, key, scale.faultEarns, 8, 5);
      const recorded = await expectEachEarnOnce(real, outcome.intended);
      printCounts('faults-sdk', {
        earns: scale.faultEarns,
        recorded,
        injected,
        answers: outcome.statuses,
        retriesWithSameKey: outcome.retries,
        unexpected: outcome.unexpected.length,
      });
      expect(outcome.unexpected).toEqual([]);
      expect(recorded).toBe(scale.faultEarns);
      expect(injected['lost-answer']).toBeGreaterThan(0);
      faulty.db.destroy();
    },
    partTimeoutMs,
  );
});

describe('DynamoDB Local killed and restarted mid-run', () => {
  let dataDir: string;
  let local: DynamoDbLocal | undefined;
  afterAll(async () => {
    await local?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'answers 503 while it is down, and every earn sent again with its key is recorded exactly once',
    async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'loyalty-outage-'));
      const port = await freePort();
      local = await startDynamoDbLocal({ dataDir, port });
      const tableName = `outage-${randomUUID()}`;
      await ensureTable(local.endpoint, tableName);
      const store = createStore({ tableName, endpoint: local.endpoint });
      await createTestPartner(store, 'grocer');
      const key = await partnerKey(store);
      const memberIds = await Promise.all(
        Array.from(
          { length: 8 },
          async () => parse(await enrolMember(contextFor(store, admin), {})).id as string,
        ),
      );
      const handler = createRouteGroup(pointsRoutes, pointsOperations, { store: () => store });

      // Kill it (SIGKILL, as a crash) once a third of the earns went through; restart it on its data.
      let killedAt = 0;
      let restartedAt = 0;
      const progress = { done: 0 };
      const outage = (async () => {
        while (killedAt === 0) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          if (progress.done >= scale.outageEarns / 3) {
            const pid = Number(readFileSync(join(dataDir, 'dynamodb-local.pid'), 'utf8'));
            process.kill(pid, 'SIGKILL');
            killedAt = Date.now();
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        local = await startDynamoDbLocal({ dataDir, port });
        restartedAt = Date.now();
      })();
      const counting: typeof handler = (async (
        event: Parameters<typeof handler>[0],
        context: Parameters<typeof handler>[1],
      ) => {
        const result = await handler(event, context);
        if (result.statusCode === 201) progress.done += 1;
        return result;
      }) as typeof handler;
      const outcome = await earnUntilDone(counting, memberIds, key, scale.outageEarns, 8, 100);
      await outage;
      // DynamoDB Local does not make an acknowledged write durable before answering: a SIGKILL may
      // lose the last ones it answered (real DynamoDB answers only once the write is durable). Any
      // earn missing now must have been answered before the kill, never after the restart; sent
      // again with its key, it is then recorded once.
      const present = new Set<string>();
      for (const memberId of memberIds)
        for (const ref of (await ledgerOf(store, memberId)).orderRefs) present.add(ref);
      const lostByLocal = outcome.earns.filter((earn) => !present.has(earn.orderRef));
      for (const earn of lostByLocal) expect(earn.answeredAt, earn.orderRef).toBeLessThan(restartedAt);
      for (const earn of lostByLocal) {
        const event = earnEvent(earn.memberId, key, earn.idempotencyKey, earn.orderRef);
        const again = await handler(event, lambdaContext('points', event.requestContext.requestId));
        expect(again.statusCode, String(again.body)).toBe(201);
      }
      const recorded = await expectEachEarnOnce(store, outcome.intended);
      printCounts('faults-outage', {
        earns: scale.outageEarns,
        recorded,
        answers: outcome.statuses,
        retriesWithSameKey: outcome.retries,
        downForMs: restartedAt - killedAt,
        lostByDynamoDbLocalOnKill: lostByLocal.length,
        unexpected: outcome.unexpected.length,
      });
      expect(killedAt).toBeGreaterThan(0);
      expect(outcome.unexpected).toEqual([]);
      expect(outcome.statuses[503] ?? 0).toBeGreaterThan(0);
      expect(recorded).toBe(scale.outageEarns);
      store.db.destroy();
    },
    partTimeoutMs,
  );
});
