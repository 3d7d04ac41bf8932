import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { pointsOperations } from '../../lambdas/handlers/points.ts';
import { createRouteGroup } from '../../lambdas/http/route-group.ts';
import { type RouteSpec, routes } from '../../lambdas/routes/manifest.ts';
import { pointsRoutes } from '../../lambdas/routes/points.ts';
import { type Role, scopes } from '../../lambdas/schemas/common.ts';
import { generateApiKey, hashApiKey, newApiKeyRecord } from '../../lambdas/services/api-keys.ts';
import { enrolMember } from '../../lambdas/services/members.ts';
import { type ApiKeyRecord, createApiKey, revokeApiKey } from '../../lambdas/store/api-key-store.ts';
import type { Store } from '../../lambdas/store/client.ts';
import { keys } from '../../lambdas/store/keys.ts';
import { buildHttpEvent, lambdaContext } from '../../local/api-gateway.ts';
import { admin, contextFor, parse, snapshotTable } from '../support/fixtures.ts';
import { createTestPartner, ledgerCalls } from '../support/ledger.ts';
import { createTestStore, localEndpoint } from '../support/table.ts';

/**
 * Authentication inside the handler (decisions §51): the requests each call makes for its key,
 * and that a revoked key is refused on its very next request whichever way its key was read.
 */
let real: Store;
/** A second client on the same table whose every command is recorded, as the handler sends it. */
let observed: Store;
let sent: { command: string; input: Record<string, unknown> }[] = [];
let points: ReturnType<typeof createRouteGroup>;

beforeAll(async () => {
  real = await createTestStore('auth');
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: localEndpoint(), region: 'us-east-1' }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({ command: context.commandName ?? '?', input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'record' },
  );
  observed = { tableName: real.tableName, db: client };
  points = createRouteGroup(pointsRoutes, pointsOperations, { store: () => observed });
  await createTestPartner(real, 'grocer');
});

async function newKey(role: Role = 'partner'): Promise<{ secret: string; record: ApiKeyRecord }> {
  const secret = generateApiKey();
  const record = newApiKeyRecord(
    secret,
    {
      name: `${role} key`,
      role,
      partnerId: role === 'partner' ? 'grocer' : null,
      scopes: role === 'partner' ? [...scopes] : [],
    },
    new Date().toISOString(),
  );
  await createApiKey(real, record);
  return { secret, record };
}

const newMember = async () => parse(await enrolMember(contextFor(real, admin), {})).id as string;

/** Call a points route as API Gateway would, with this key, and say what it sent to DynamoDB. */
async function call(
  route: RouteSpec,
  params: Record<string, string>,
  body: unknown,
  secret: string,
  authorization: string | undefined = `Bearer ${secret}`,
) {
  const path = Object.entries(params).reduce((p, [name, value]) => p.replace(`{${name}}`, value), route.path);
  const event = buildHttpEvent(
    {
      method: route.method,
      url: path,
      headers: {
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
        ...(authorization === undefined ? {} : { authorization }),
      },
      body: body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body)),
      sourceIp: '127.0.0.1',
    },
    `${route.method} ${route.path}`,
    params,
  );
  sent = [];
  const result = await points(event, lambdaContext('points', event.requestContext.requestId));
  return { status: result.statusCode, body: JSON.parse(String(result.body)), sent: [...sent] };
}

const route = (operationId: string) => routes.find((r) => r.operationId === operationId) as RouteSpec;
const earn = route('earnPoints');
const earnBody = () => ({ amountMinor: 1_000, currency: 'USD', orderRef: `o-${randomUUID()}` });
const commands = (calls: { command: string }[]) => calls.map((c) => c.command);
const keyItem = (secret: string) => keys.apiKeyByHash(hashApiKey(secret));

describe('authentication in the handler', () => {
  it('reads a known key in the earn’s own BatchGet: two requests per earn, the key among the keys read', async () => {
    const { secret } = await newKey();
    const memberId = await newMember();
    const first = await call(earn, { memberId }, earnBody(), secret);
    expect(first.status).toBe(201);
    // The container's first request with the key: a GetItem for it alone, and its use recorded.
    expect(commands(first.sent)).toEqual(
      expect.arrayContaining([
        'GetItemCommand',
        'BatchGetItemCommand',
        'TransactWriteItemsCommand',
        'UpdateItemCommand',
      ]),
    );
    const second = await call(earn, { memberId }, earnBody(), secret);
    expect(second.status).toBe(201);
    expect(commands(second.sent)).toEqual(['BatchGetItemCommand', 'TransactWriteItemsCommand']);
    const batch = second.sent[0]?.input as { RequestItems: Record<string, { Keys: unknown[] }> };
    expect(batch.RequestItems[real.tableName]?.Keys).toContainEqual(keyItem(secret));
  });

  it('refuses a revoked key on its very next earn, whose key rode in the BatchGet, and writes nothing', async () => {
    const { secret, record } = await newKey();
    const memberId = await newMember();
    expect((await call(earn, { memberId }, earnBody(), secret)).status).toBe(201);
    await revokeApiKey(real, record, new Date().toISOString());
    const before = await snapshotTable(real);
    const refused = await call(earn, { memberId }, earnBody(), secret);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({
      type: '/problems/unauthorized',
      detail: expect.stringContaining('revoked'),
    });
    expect(commands(refused.sent)).toEqual(['BatchGetItemCommand']);
    // Forgotten by the container: the next request reads the key alone, and is refused again.
    const again = await call(earn, { memberId }, earnBody(), secret);
    expect(again.status).toBe(401);
    expect(commands(again.sent)).toEqual(['GetItemCommand']);
    expect(await snapshotTable(real)).toBe(before);
  });

  it('gives a revoked key its 401 on every route that defers the read, valid body or not', async () => {
    const deferred = (routes as readonly RouteSpec[]).filter((r) => r.keyReadWithData);
    expect(deferred.map((r) => r.operationId).sort()).toEqual(
      ['adjustPoints', 'earnPoints', 'recordActivity', 'redeemPoints', 'transferPoints'].sort(),
    );
    const calls = ledgerCalls(real, admin);
    for (const candidate of deferred) {
      const memberId = await newMember();
      const other = await newMember();
      await calls.earn(memberId, { partnerId: 'grocer', amountMinor: 10_000 });
      const valid: Record<string, unknown> = {
        earnPoints: earnBody(),
        redeemPoints: { points: 10 },
        adjustPoints: { points: 5, reason: 'goodwill' },
        transferPoints: { toMemberId: other, points: 10 },
        recordActivity: { type: 'review', ref: `r-${randomUUID()}` },
      };
      const partnerRoute = candidate.access !== 'public' && candidate.access.roles.includes('partner');
      // A valid body: the key rides in the use case's BatchGet. An invalid one fails before it: the
      // key is read on its own before the 400 would go out.
      for (const [body, reads] of [
        [valid[candidate.operationId], ['BatchGetItemCommand']],
        [{ nonsense: true }, ['GetItemCommand']],
      ] as const) {
        const { secret, record } = await newKey(partnerRoute ? 'partner' : 'admin');
        const warm = await call(candidate, { memberId }, { nonsense: true }, secret);
        expect(warm.status, candidate.operationId).toBe(400); // the container knows the key now
        await revokeApiKey(real, record, new Date().toISOString());
        const before = await snapshotTable(real);
        const refused = await call(candidate, { memberId }, body, secret);
        const what = `${candidate.operationId} ${JSON.stringify(body)}`;
        expect(refused.status, what).toBe(401);
        expect(commands(refused.sent), what).toEqual(reads);
        expect(await snapshotTable(real), what).toBe(before);
      }
    }
  });

  it('checks roles and scopes on a known key before reading anything (403)', async () => {
    const { secret } = await newKey('finance');
    const memberId = await newMember();
    const list = route('listTransactions');
    expect((await call(list, { memberId }, undefined, secret)).status).toBe(403); // read once: known now
    const refused = await call(earn, { memberId }, earnBody(), secret);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain('finance');
  });

  it('answers 401 without a request to DynamoDB when there is no usable Authorization header', async () => {
    const memberId = await newMember();
    for (const header of [undefined, '', 'Basic abc', 'Bearer', 'Bearer two words']) {
      const refused = await call(earn, { memberId }, earnBody(), '', header);
      expect(refused.status, String(header)).toBe(401);
      expect(refused.body.type).toBe('/problems/unauthorized');
      expect(refused.sent, String(header)).toEqual([]);
    }
  });

  it('answers 503 with Retry-After when the key cannot be read, instead of a 500 or a 401', async () => {
    const failing: Store = {
      tableName: real.tableName,
      db: DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: localEndpoint(), region: 'us-east-1' })),
    };
    const mock = mockClient(failing.db);
    mock.on(GetCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    const group = createRouteGroup(pointsRoutes, pointsOperations, { store: () => failing });
    const { secret } = await newKey();
    const memberId = await newMember();
    const event = buildHttpEvent(
      {
        method: 'POST',
        url: `/v1/members/${memberId}/earn`,
        headers: {
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
          authorization: `Bearer ${secret}`,
        },
        body: Buffer.from(JSON.stringify(earnBody())),
        sourceIp: '127.0.0.1',
      },
      'POST /v1/members/{memberId}/earn',
      { memberId },
    );
    const result = await group(event, lambdaContext('points', event.requestContext.requestId));
    expect(result.statusCode).toBe(503);
    expect(result.headers['retry-after']).toBe('1');
    expect(JSON.parse(String(result.body))).toMatchObject({ type: '/problems/service-unavailable' });
    mock.restore();
  });
});
