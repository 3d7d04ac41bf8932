import { randomUUID } from 'node:crypto';
import {
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TooManyConcurrentUpdatesError } from '../../lambdas/domain/errors.ts';
import { pointsOperations } from '../../lambdas/handlers/points.ts';
import { createRouteGroup } from '../../lambdas/http/route-group.ts';
import { pointsRoutes } from '../../lambdas/routes/points.ts';
import { scopes } from '../../lambdas/schemas/common.ts';
import { generateApiKey, newApiKeyRecord } from '../../lambdas/services/api-keys.ts';
import { earnPoints } from '../../lambdas/services/earn.ts';
import { listTransactions } from '../../lambdas/services/history.ts';
import { enrolMember } from '../../lambdas/services/members.ts';
import { createApiKey } from '../../lambdas/store/api-key-store.ts';
import type { Store } from '../../lambdas/store/client.ts';
import { buildHttpEvent, lambdaContext } from '../../local/api-gateway.ts';
import { admin, contextFor, parse, partnerPrincipal } from '../support/fixtures.ts';
import { createTestPartner } from '../support/ledger.ts';
import { createTestStore, localEndpoint } from '../support/table.ts';

/**
 * Faults DynamoDB Local cannot produce (it serialises transactions, never throttles): a second
 * document client on the same table is mocked, passing everything through to the real one except
 * the fault under test.
 */
let real: Store;
let faulty: Store;
let mock: ReturnType<typeof mockClient>;
const grocer = partnerPrincipal('grocer');
/** A real partner key of grocer's, which the handler authenticates through the faulty store. */
const grocerKey = generateApiKey();

beforeAll(async () => {
  real = await createTestStore('faults');
  faulty = {
    tableName: real.tableName,
    db: DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: localEndpoint(), region: 'us-east-1' }), {
      marshallOptions: { removeUndefinedValues: true },
    }),
  };
  await createTestPartner(real, 'grocer');
  await createApiKey(
    real,
    newApiKeyRecord(
      grocerKey,
      { name: 'grocer', role: 'partner', partnerId: 'grocer', scopes: [...scopes] },
      new Date().toISOString(),
    ),
  );
  mock = mockClient(faulty.db);
});

beforeEach(() => {
  mock.reset();
  mock.on(BatchGetCommand).callsFake((input) => real.db.send(new BatchGetCommand(input)));
  mock.on(GetCommand).callsFake((input) => real.db.send(new GetCommand(input)));
  // The earn's campaign cache reads the campaigns with a Query.
  mock.on(QueryCommand).callsFake((input) => real.db.send(new QueryCommand(input)));
});

const conflict = (items: number) =>
  new TransactionCanceledException({
    message:
      'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]',
    $metadata: {},
    CancellationReasons: Array.from({ length: items }, (_, i) => ({
      Code: i === 1 ? 'TransactionConflict' : 'None',
    })),
  });

async function earnVia(store: Store, memberId: string) {
  const body = { amountMinor: 1_000, currency: 'USD', orderRef: `o-${randomUUID()}` };
  return earnPoints(
    contextFor(store, grocer, { idempotencyKey: randomUUID(), path: '/earn', body }),
    memberId,
    body,
  );
}

describe('fault injection', () => {
  it('retries a TransactionConflict and then writes exactly one ledger entry', async () => {
    const memberId = parse(await enrolMember(contextFor(real, admin), {})).id;
    mock
      .on(TransactWriteCommand)
      .rejectsOnce(conflict(4))
      .callsFake((input: TransactWriteCommandInput) => real.db.send(new TransactWriteCommand(input)));
    const response = await earnVia(faulty, memberId);
    expect(response.status).toBe(201);
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(2);
    const history = parse(await listTransactions(contextFor(real, admin), memberId, { limit: 10 }));
    expect(history.items).toHaveLength(1);
  });

  it('gives up with 429 rate-limited after repeated conflicts, having written nothing', async () => {
    const memberId = parse(await enrolMember(contextFor(real, admin), {})).id;
    mock.on(TransactWriteCommand).rejects(conflict(4));
    await expect(earnVia(faulty, memberId)).rejects.toBeInstanceOf(TooManyConcurrentUpdatesError);
    const history = parse(await listTransactions(contextFor(real, admin), memberId, { limit: 10 }));
    expect(history.items).toHaveLength(0);
  });

  /** The points handler over the faulty store, invoked with an earn as API Gateway would. */
  async function earnThroughHandler() {
    const memberId = parse(await enrolMember(contextFor(real, admin), {})).id;
    const handler = createRouteGroup(pointsRoutes, pointsOperations, { store: () => faulty });
    const event = buildHttpEvent(
      {
        method: 'POST',
        url: `/v1/members/${memberId}/earn`,
        headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: Buffer.from(JSON.stringify({ amountMinor: 100, currency: 'USD', orderRef: 'x' })),
        sourceIp: '127.0.0.1',
      },
      'POST /v1/members/{memberId}/earn',
      { memberId },
    );
    event.headers.authorization = `Bearer ${grocerKey}`;
    const result = await handler(event, lambdaContext('points', event.requestContext.requestId));
    expect(result.headers['content-type']).toBe('application/problem+json');
    expect(result.headers['x-request-id']).toBe(event.requestContext.requestId);
    expect(result.body).not.toContain('secret');
    return { status: result.statusCode, body: JSON.parse(result.body as string), headers: result.headers };
  }

  it('answers 429 rate-limited with Retry-After when DynamoDB keeps throttling', async () => {
    mock
      .on(TransactWriteCommand)
      .rejects(
        new ProvisionedThroughputExceededException({ message: 'secret internal detail', $metadata: {} }),
      );
    const result = await earnThroughHandler();
    expect(result.status).toBe(429);
    expect(result.body).toMatchObject({ type: '/problems/rate-limited', status: 429 });
    expect(result.headers['retry-after']).toBe('1');
  });

  it('answers a generic 500 problem that leaks nothing on an unexpected DynamoDB failure', async () => {
    // DynamoDB refusing a request as malformed is a bug of ours: a 500 that says nothing.
    mock
      .on(TransactWriteCommand)
      .rejects(Object.assign(new Error('secret internal detail'), { name: 'ValidationException' }));
    const result = await earnThroughHandler();
    expect(result.status).toBe(500);
    expect(result.body).toMatchObject({ type: '/problems/internal-error', status: 500 });
  });

  it('answers 503 with Retry-After when DynamoDB fails on its side or cannot be reached', async () => {
    for (const fault of [
      Object.assign(new Error('secret internal detail'), { name: 'InternalServerError' }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }),
    ]) {
      mock.on(TransactWriteCommand).rejects(fault);
      const result = await earnThroughHandler();
      expect(result.status, fault.message).toBe(503);
      expect(result.body, fault.message).toMatchObject({
        type: '/problems/service-unavailable',
        status: 503,
      });
      expect(result.headers['retry-after'], fault.message).toBe('1');
    }
  });

  it('retries a create that raced another transaction, then replays the winner', async () => {
    const key = randomUUID();
    const body = { name: 'Racer' };
    const ctx = contextFor(faulty, admin, { idempotencyKey: key, path: '/v1/members', body });
    // The first attempt loses a race on AWS (TransactionConflict); the second sees the committed state.
    mock
      .on(TransactWriteCommand)
      .rejectsOnce(conflict(2))
      .callsFake((input: TransactWriteCommandInput) => real.db.send(new TransactWriteCommand(input)));
    const created = await enrolMember(ctx, body);
    expect(created.status).toBe(201);
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });
});
