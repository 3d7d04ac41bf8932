import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultProgram } from '../../lambdas/schemas/program.ts';
import { partnerBody, startTestApi, type TestApi } from '../support/api.ts';

let api: TestApi;
let grocerKey: string;
let fuelKey: string;
const partnerWith = (id: string) => partnerBody(id, { reimbursementRateMinor: 2 });

beforeAll(async () => {
  api = await startTestApi();
  for (const id of ['grocer', 'fuel'])
    expect((await api.request('POST', '/v1/partners', { body: partnerWith(id) })).status).toBe(201);
  grocerKey = (
    await api.request('POST', '/v1/api-keys', { body: { name: 'g', role: 'partner', partnerId: 'grocer' } })
  ).json.key;
  fuelKey = (
    await api.request('POST', '/v1/api-keys', { body: { name: 'f', role: 'partner', partnerId: 'fuel' } })
  ).json.key;
});
afterAll(() => api.close());

describe('program', () => {
  it('starts from defaults, is replaced by PUT, readable by every role, writable by admin only', async () => {
    const initial = await api.request('GET', '/v1/program');
    expect(initial.json).toMatchObject({ currency: 'USD', updatedAt: null });
    const { updatedAt: _u, ...current } = initial.json;
    const next = { ...current, name: 'Coalition Rewards', expiryMonths: 36, pendingDays: 0 };
    const put = await api.request('PUT', '/v1/program', { body: next });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({
      name: 'Coalition Rewards',
      expiryMonths: 36,
      updatedAt: expect.any(String),
    });
    expect((await api.request('GET', '/v1/program', { key: grocerKey })).json.name).toBe('Coalition Rewards');
    expect((await api.request('PUT', '/v1/program', { key: grocerKey, body: next })).status).toBe(403);
  });

  it('rejects an inconsistent program with field errors and keeps the old one', async () => {
    const before = (await api.request('GET', '/v1/program')).json;
    const bad = await api.request('PUT', '/v1/program', {
      body: {
        ...defaultProgram,
        tiers: [
          { code: 'gold', name: 'Gold', minQualifyingPoints: 100, earnMultiplier: 1.5 },
          { code: 'gold', name: 'Again', minQualifyingPoints: 50, earnMultiplier: 1.123456 },
        ],
        expectedRedemptionRate: 1.5,
      },
    });
    expect(bad.status).toBe(400);
    const paths = bad.json.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'body.tiers.0.minQualifyingPoints',
        'body.tiers.1.code',
        'body.tiers.1.earnMultiplier',
        'body.expectedRedemptionRate',
      ]),
    );
    expect((await api.request('GET', '/v1/program')).json).toEqual(before);
  });
});

describe('partners', () => {
  it('rejects a duplicate id with 409 and replays an idempotent create', async () => {
    const key = randomUUID();
    const first = await api.request('POST', '/v1/partners', {
      body: partnerWith('cinema'),
      idempotencyKey: key,
    });
    expect(first.status).toBe(201);
    const replay = await api.request('POST', '/v1/partners', {
      body: partnerWith('cinema'),
      idempotencyKey: key,
    });
    expect(replay.text).toBe(first.text);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const duplicate = await api.request('POST', '/v1/partners', { body: partnerWith('cinema') });
    expect(duplicate.status).toBe(409);
    expect(duplicate.json.type).toBe('/problems/conflict');
  });

  it('patches fields, lists with pagination, and shows a partner key only its own partner', async () => {
    const patched = await api.request('PATCH', '/v1/partners/fuel', {
      body: { categoryMultipliers: { premium: 3 }, name: 'Fuel Co' },
    });
    expect(patched.json).toMatchObject({
      id: 'fuel',
      name: 'Fuel Co',
      categoryMultipliers: { premium: 3 },
      reimbursementRateMinor: 2,
    });
    expect((await api.request('PATCH', '/v1/partners/fuel', { body: {} })).status).toBe(400);
    expect((await api.request('PATCH', '/v1/partners/nobody', { body: { name: 'x' } })).status).toBe(404);

    const page1 = await api.request('GET', '/v1/partners?limit=1');
    expect(page1.json.items).toHaveLength(1);
    const page2 = await api.request('GET', `/v1/partners?limit=100&cursor=${page1.json.nextCursor}`);
    const ids = [...page1.json.items, ...page2.json.items].map((p: { id: string }) => p.id);
    expect(ids).toEqual(expect.arrayContaining(['grocer', 'fuel', 'cinema']));

    const own = await api.request('GET', '/v1/partners', { key: grocerKey });
    expect(own.json.items.map((p: { id: string }) => p.id)).toEqual(['grocer']);
    expect((await api.request('GET', '/v1/partners/fuel', { key: grocerKey })).status).toBe(404);
    expect((await api.request('GET', '/v1/partners/grocer', { key: grocerKey })).status).toBe(200);
    expect(
      (await api.request('PATCH', '/v1/partners/grocer', { key: grocerKey, body: { name: 'x' } })).status,
    ).toBe(403);
  });
});

describe('api keys', () => {
  it('validates role, partner binding and scopes', async () => {
    const cases = [
      { name: 'x', role: 'partner' },
      { name: 'x', role: 'admin', partnerId: 'grocer' },
      { name: 'x', role: 'finance', scopes: ['points:earn'] },
      { name: 'x', role: 'partner', partnerId: 'grocer', scopes: ['points:fly'] },
      { name: 'x', role: 'partner', partnerId: 'no-such-partner' },
    ];
    for (const body of cases) {
      const response = await api.request('POST', '/v1/api-keys', { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.json.errors.length).toBeGreaterThan(0);
    }
  });

  it('shows the secret once: a replayed create returns key null', async () => {
    const key = randomUUID();
    const body = { name: 'once', role: 'finance' };
    const first = await api.request('POST', '/v1/api-keys', { body, idempotencyKey: key });
    expect(first.json.key).toMatch(/^lk_/);
    const replay = await api.request('POST', '/v1/api-keys', { body, idempotencyKey: key });
    expect(replay.status).toBe(201);
    expect(replay.json).toEqual({ ...first.json, key: null });
    expect((await api.request('DELETE', '/v1/api-keys/key_01ARZ3NDEKTSV4RRFFQ69G5FAV')).status).toBe(404);
  });
});

describe('members', () => {
  it('keeps externalRefs per partner: unique within one, invisible to others', async () => {
    const created = await api.request('POST', '/v1/members', {
      key: grocerKey,
      body: { externalRef: 'c-1', name: 'Ada' },
    });
    expect(created.status).toBe(201);
    const memberId = created.json.id;
    const duplicate = await api.request('POST', '/v1/members', {
      key: grocerKey,
      body: { externalRef: 'c-1' },
    });
    expect(duplicate.status).toBe(409);
    // the same ref in another partner's namespace is another customer
    expect(
      (await api.request('POST', '/v1/members', { key: fuelKey, body: { externalRef: 'c-1' } })).status,
    ).toBe(201);

    const asFuel = await api.request('GET', `/v1/members/${memberId}`, { key: fuelKey });
    expect(asFuel.status).toBe(200);
    expect(asFuel.json.externalRef).toBeNull();
    expect(JSON.stringify(asFuel.json)).not.toContain('c-1');
    const lookup = await api.request('GET', '/v1/members?externalRef=c-1', { key: grocerKey });
    expect(lookup.json.items.map((m: { id: string }) => m.id)).toEqual([memberId]);
    const none = await api.request('GET', '/v1/members?externalRef=c-404', { key: grocerKey });
    expect(none.json).toEqual({ items: [], nextCursor: null });
  });

  it('returns the full member shape', async () => {
    const created = await api.request('POST', '/v1/members', {
      body: { email: 'bo@example.com', channel: 'app', enrolledAt: '2026-01-15T09:30:00+01:00' },
    });
    const member = (await api.request('GET', `/v1/members/${created.json.id}`)).json;
    expect(member).toEqual({
      id: created.json.id,
      status: 'active',
      externalRef: null,
      email: 'bo@example.com',
      name: null,
      channel: 'app',
      enrolledAt: '2026-01-15T08:30:00.000Z',
      tier: {
        code: 'member',
        name: 'Member',
        since: '2026-01-15T08:30:00.000Z',
        qualifyingPoints: 0,
        review: null,
        next: { code: 'silver', pointsNeeded: 5000 },
      },
      balances: {
        available: 0,
        pending: 0,
        reserved: 0,
        lifetimeEarned: 0,
        lifetimeRedeemed: 0,
        expiringNext: null,
      },
      subscription: null,
      churn: null,
      createdAt: expect.any(String),
      erasedAt: null,
    });
    const invalid = await api.request('POST', '/v1/members', {
      body: { email: 'not-an-email', channel: 'fax' },
    });
    expect(invalid.json.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'body.channel',
      'body.email',
    ]);
  });
});

describe('openapi', () => {
  it('documents every manifest route, without auth, from the validating schemas', async () => {
    const response = await api.request('GET', '/openapi.json', { key: null });
    expect(response.status).toBe(200);
    const doc = response.json;
    expect(doc.openapi).toBe('3.1.0');
    const { routes } = await import('../../lambdas/routes/manifest.ts');
    for (const route of routes) {
      const operation = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(operation?.operationId, `${route.method} ${route.path}`).toBe(route.operationId);
    }
    const earn = doc.paths['/v1/members/{memberId}/earn'].post;
    expect(earn.requestBody.content['application/json'].schema.required).toEqual(
      expect.arrayContaining(['amountMinor', 'currency', 'orderRef']),
    );
    expect(earn.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'memberId', in: 'path', required: true }),
        expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true }),
      ]),
    );
    expect(earn.responses['409'].content['application/problem+json'].schema.$ref).toBe(
      '#/components/schemas/Problem',
    );
  });
});

describe('namespaces no partner id can take', () => {
  it('keeps partners named admin and coalition out of the admin idempotency scope and externalRef namespace', async () => {
    for (const id of ['admin', 'coalition'])
      await api.request('POST', '/v1/partners', { body: partnerWith(id) });
    const adminPartner = (
      await api.request('POST', '/v1/api-keys', { body: { name: 'a', role: 'partner', partnerId: 'admin' } })
    ).json.key;
    const coalitionPartner = (
      await api.request('POST', '/v1/api-keys', {
        body: { name: 'c', role: 'partner', partnerId: 'coalition' },
      })
    ).json.key;

    const key = randomUUID();
    const byAdmin = await api.request('POST', '/v1/members', {
      body: { externalRef: 'vip-1' },
      idempotencyKey: key,
    });
    expect(byAdmin.status).toBe(201);
    const samekey = await api.request('POST', '/v1/members', {
      key: adminPartner,
      body: { externalRef: 'vip-1' },
      idempotencyKey: key,
    });
    expect(samekey.status).toBe(201);
    expect(samekey.headers.get('idempotent-replayed')).toBeNull();
    expect(samekey.json.id).not.toBe(byAdmin.json.id);

    const lookup = await api.request('GET', '/v1/members?externalRef=vip-1', { key: coalitionPartner });
    expect(lookup.json.items).toEqual([]);
    const view = await api.request('GET', `/v1/members/${byAdmin.json.id}`, { key: coalitionPartner });
    expect(view.json.externalRef).toBeNull();
  });
});

describe('cursors', () => {
  const cursor = (value: Record<string, string>) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('refuses forged cursors with 400 on every list', async () => {
    const memberId = (await api.request('POST', '/v1/members', { body: {} })).json.id;
    const forged = [
      `/v1/members/${memberId}/transactions?cursor=${cursor({ pk: 'x', sk: 'y', gsi1pk: `HISTORY#${memberId}`, gsi1sk: 'ZZZ' })}`,
      `/v1/members/${memberId}/transactions?cursor=${cursor({ pk: '', sk: 'IDEM', gsi1pk: `HISTORY#${memberId}`, gsi1sk: 'TXN#1' })}`,
      `/v1/members/${memberId}/transactions?cursor=${cursor({ pk: 'IDEM#a', sk: 'IDEM', gsi1pk: 'HISTORY#mem_other', gsi1sk: 'TXN#1' })}`,
      `/v1/partners?cursor=${cursor({ pk: 'PARTNERS', sk: 'ZZZ' })}`,
      `/v1/api-keys?cursor=${cursor({ pk: 'APIKEYS', sk: 'A' })}`,
      `/v1/api-keys?cursor=${cursor({ pk: 'APIKEYS', sk: 'KEY#', extra: 'x' })}`,
    ];
    for (const path of forged) {
      const response = await api.request('GET', path);
      expect(response.status, path).toBe(400);
      expect(response.json.errors).toEqual([
        { path: 'query.cursor', message: 'is not a cursor this list returned' },
      ]);
    }
  });
});

describe('revocation races', () => {
  it('two concurrent DELETEs of one key agree on when it was revoked', async () => {
    const created = await api.request('POST', '/v1/api-keys', { body: { name: 'twice', role: 'finance' } });
    const [first, second] = await Promise.all([
      api.request('DELETE', `/v1/api-keys/${created.json.id}`),
      api.request('DELETE', `/v1/api-keys/${created.json.id}`),
    ]);
    expect([first?.status, second?.status]).toEqual([200, 200]);
    expect(first?.json.revokedAt).toBe(second?.json.revokedAt);
    expect((await api.request('GET', '/v1/program', { key: created.json.key })).status).toBe(401);
  });
});

describe('rewards PATCH', () => {
  it('takes either a new inventory total or a restock, not both', async () => {
    const reward = await api.request('POST', '/v1/rewards', {
      body: { partnerId: 'grocer', name: 'Mug', costPoints: 10, valueMinor: 500, inventory: 2 },
    });
    const both = await api.request('PATCH', `/v1/rewards/${reward.json.id}`, {
      body: { inventory: 5, restock: 5 },
    });
    expect(both.status).toBe(400);
    expect(both.json.errors).toEqual([expect.objectContaining({ path: 'body.restock' })]);
    const restocked = await api.request('PATCH', `/v1/rewards/${reward.json.id}`, { body: { restock: 5 } });
    expect(restocked.json.inventory).toBe(7);
  });
});
