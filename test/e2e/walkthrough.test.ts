import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partnerBody, startTestApi, type TestApi } from '../support/api.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const PROBLEM = 'application/problem+json';

describe('README walkthrough over HTTP', () => {
  it('creates a partner, a partner key, a member, earns, redeems and lists history', async () => {
    const partner = await api.request('POST', '/v1/partners', {
      body: {
        id: 'acme-grocer',
        name: 'ACME Grocer',
        earnRule: { pointsPerUnit: 1, unitMinor: 100 },
        categoryMultipliers: { fresh: 2 },
        fundingRateMinor: 1,
        reimbursementRateMinor: 1,
      },
    });
    expect(partner.status).toBe(201);
    expect(partner.json).toMatchObject({
      id: 'acme-grocer',
      status: 'active',
      categoryMultipliers: { fresh: 2 },
    });

    const key = await api.request('POST', '/v1/api-keys', {
      body: {
        name: 'ACME POS',
        role: 'partner',
        partnerId: 'acme-grocer',
        scopes: ['members:write', 'points:earn', 'points:redeem'],
      },
    });
    expect(key.status).toBe(201);
    expect(key.json.key).toMatch(/^lk_[A-Za-z0-9_-]{43}$/);
    expect(key.json.id).toMatch(/^key_/);
    const pos = key.json.key as string;

    const member = await api.request('POST', '/v1/members', {
      key: pos,
      body: { externalRef: 'cust-42', email: 'ada@example.com' },
    });
    expect(member.status).toBe(201);
    expect(member.json).toMatchObject({
      status: 'active',
      externalRef: 'cust-42',
      tier: { code: 'member', qualifyingPoints: 0 },
    });
    const memberId = member.json.id as string;

    const found = await api.request('GET', '/v1/members?externalRef=cust-42', { key: pos });
    expect(found.json.items.map((m: { id: string }) => m.id)).toEqual([memberId]);

    const earnKey = randomUUID();
    const purchase = {
      amountMinor: 4250,
      currency: 'USD',
      orderRef: 'order-1001',
      category: 'fresh',
      channel: 'store',
    };
    const earn = await api.request('POST', `/v1/members/${memberId}/earn`, {
      key: pos,
      idempotencyKey: earnKey,
      body: purchase,
    });
    expect(earn.status).toBe(201);
    expect(earn.headers.get('content-type')).toBe('application/json');
    expect(earn.json.transaction).toMatchObject({
      type: 'earn',
      points: 85,
      status: 'posted',
      partnerId: 'acme-grocer',
    });
    expect(earn.json.transaction.id).toMatch(/^txn_/);
    expect(earn.json.balances.available).toBe(85); // 4250 / 100 × 2 (fresh)

    const replay = await api.request('POST', `/v1/members/${memberId}/earn`, {
      key: pos,
      idempotencyKey: earnKey,
      body: purchase,
    });
    expect(replay.status).toBe(201);
    expect(replay.text).toBe(earn.text);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');

    const redeem = await api.request('POST', `/v1/members/${memberId}/redemptions`, {
      key: pos,
      body: { points: 50, orderRef: 'order-1002' },
    });
    expect(redeem.status).toBe(201);
    expect(redeem.json.redemption).toMatchObject({ status: 'captured', points: 50, valueMinor: 50 });
    expect(redeem.json.balances).toMatchObject({ available: 35, lifetimeEarned: 85, lifetimeRedeemed: 50 });

    const history = await api.request('GET', `/v1/members/${memberId}/transactions`, { key: pos });
    expect(history.status).toBe(200);
    expect(history.json.items.map((t: { type: string; points: number }) => [t.type, t.points])).toEqual([
      ['redeem', -50],
      ['earn', 85],
    ]);
    expect(history.json.nextCursor).toBeNull();
    expect(history.headers.get('x-request-id')).toBeTruthy();
  });
});

describe('errors a new user runs into', () => {
  let memberId: string;
  beforeAll(async () => {
    memberId = (await api.request('POST', '/v1/members', { body: {} })).json.id;
  });

  const expectProblem = (
    response: { status: number; headers: Headers; json: { type: string; status: number } },
    status: number,
    slug: string,
  ) => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe(PROBLEM);
    expect(response.json).toMatchObject({
      type: `/problems/${slug}`,
      status,
      title: expect.any(String),
      detail: expect.any(String),
    });
    expect(response.headers.get('x-request-id')).toBeTruthy();
  };

  it('401 without a key, with a malformed header, and with an unknown key', async () => {
    expectProblem(await api.request('GET', '/v1/program', { key: null }), 401, 'unauthorized');
    expectProblem(
      await api.request('GET', '/v1/program', { key: null, headers: { authorization: 'Basic abc' } }),
      401,
      'unauthorized',
    );
    expectProblem(await api.request('GET', '/v1/program', { key: 'lk_nope' }), 401, 'unauthorized');
  });

  it('401 at once after a key is revoked', async () => {
    const created = await api.request('POST', '/v1/api-keys', { body: { name: 'temp', role: 'finance' } });
    const key = created.json.key as string;
    expect((await api.request('GET', '/v1/program', { key })).status).toBe(200);
    const revoked = await api.request('DELETE', `/v1/api-keys/${created.json.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.json.revokedAt).toEqual(expect.any(String));
    expectProblem(await api.request('GET', '/v1/program', { key }), 401, 'unauthorized');
    const listed = await api.request('GET', '/v1/api-keys?limit=100');
    const entry = listed.json.items.find((k: { id: string }) => k.id === created.json.id);
    expect(entry).toMatchObject({ revokedAt: expect.any(String), lastUsedAt: expect.any(String) });
    expect(JSON.stringify(listed.json)).not.toContain(key);
  });

  it('403 for a role or scope the route does not allow', async () => {
    const finance = (await api.request('POST', '/v1/api-keys', { body: { name: 'fin', role: 'finance' } }))
      .json.key;
    expectProblem(await api.request('POST', '/v1/members', { key: finance, body: {} }), 403, 'forbidden');
    await api.request('POST', '/v1/partners', { body: partnerBody('scoped') });
    const readOnly = (
      await api.request('POST', '/v1/api-keys', {
        body: { name: 'ro', role: 'partner', partnerId: 'scoped', scopes: ['rewards:read'] },
      })
    ).json.key;
    expectProblem(
      await api.request('POST', `/v1/members/${memberId}/earn`, {
        key: readOnly,
        body: { amountMinor: 100, currency: 'USD', orderRef: 'x' },
      }),
      403,
      'forbidden',
    );
    expectProblem(await api.request('PUT', '/v1/program', { key: readOnly, body: {} }), 403, 'forbidden');
  });

  it('400 validation-error listing every bad field, and 400 malformed-json', async () => {
    const invalid = await api.request('POST', `/v1/members/${memberId}/earn`, {
      body: { amountMinor: 'ten', currency: 'usd', orderRef: '', extra: true },
    });
    expectProblem(invalid, 400, 'validation-error');
    const paths = invalid.json.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['body.amountMinor', 'body.currency', 'body.orderRef']));
    expect(invalid.json.errors.every((e: { message: string }) => e.message.length > 0)).toBe(true);

    expectProblem(
      await api.request('POST', `/v1/members/${memberId}/earn`, {
        rawBody: '{"amountMinor": 1,',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'malformed-json',
    );
    expectProblem(
      await api.request('POST', `/v1/members/${memberId}/earn`, {
        body: { amountMinor: 1.5, currency: 'USD', orderRef: 'a' },
      }),
      400,
      'validation-error',
    );
    expectProblem(
      await api.request('POST', `/v1/members/${memberId}/earn`, {
        body: { amountMinor: -1, currency: 'USD', orderRef: 'a' },
      }),
      400,
      'validation-error',
    );
    expectProblem(await api.request('GET', '/v1/members/not-an-id'), 400, 'validation-error');
    expectProblem(
      await api.request('GET', `/v1/members/${memberId}/transactions?limit=1000`),
      400,
      'validation-error',
    );
  });

  it('400 when a point-moving call has no or a bad Idempotency-Key', async () => {
    const body = { amountMinor: 100, currency: 'USD', orderRef: 'idem-missing' };
    const missing = await api.request('POST', `/v1/members/${memberId}/earn`, {
      body,
      headers: { 'idempotency-key': '' },
    });
    expectProblem(missing, 400, 'validation-error');
    const tooLong = await api.request('POST', `/v1/members/${memberId}/earn`, {
      body,
      idempotencyKey: 'x'.repeat(256),
    });
    expectProblem(tooLong, 400, 'validation-error');
  });

  it('413 over 1 MB, 415 for non-JSON bodies', async () => {
    const huge = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) });
    expectProblem(
      await api.request('POST', '/v1/members', {
        rawBody: huge,
        headers: { 'content-type': 'application/json' },
      }),
      413,
      'payload-too-large',
    );
    expectProblem(
      await api.request('POST', '/v1/members', {
        rawBody: 'name=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      415,
      'unsupported-media-type',
    );
  });

  it('404 for unknown paths and members, 405 with Allow for a wrong method', async () => {
    expectProblem(await api.request('GET', '/v1/nothing-here'), 404, 'not-found');
    expectProblem(await api.request('GET', '/v1/members/mem_01ARZ3NDEKTSV4RRFFQ69G5FAV'), 404, 'not-found');
    const wrongMethod = await api.request('DELETE', '/v1/program');
    expectProblem(wrongMethod, 405, 'method-not-allowed');
    expect(wrongMethod.headers.get('allow')).toBe('GET, PUT');
  });

  it('409 insufficient-points, 409 conflict on a duplicate order, 422 on a reused key', async () => {
    await api.request('POST', '/v1/partners', { body: partnerBody('errs') });
    const body = { partnerId: 'errs', amountMinor: 1000, currency: 'USD', orderRef: 'dup-1' };
    const key = randomUUID();
    expect(
      (await api.request('POST', `/v1/members/${memberId}/earn`, { body, idempotencyKey: key })).status,
    ).toBe(201);
    expectProblem(await api.request('POST', `/v1/members/${memberId}/earn`, { body }), 409, 'conflict');
    expectProblem(
      await api.request('POST', `/v1/members/${memberId}/earn`, {
        body: { ...body, amountMinor: 2 },
        idempotencyKey: key,
      }),
      422,
      'idempotency-key-reused',
    );
    expectProblem(
      await api.request('POST', `/v1/members/${memberId}/redemptions`, {
        body: { points: 1_000_000, partnerId: 'errs' },
      }),
      409,
      'insufficient-points',
    );
  });

  it('never answers 5xx to hostile input', async () => {
    const attempts = [
      api.request('POST', `/v1/members/${memberId}/earn`, {
        rawBody: 'null',
        headers: { 'content-type': 'application/json' },
      }),
      api.request('POST', `/v1/members/${memberId}/earn`, {
        rawBody: '[1,2]',
        headers: { 'content-type': 'application/json' },
      }),
      api.request('POST', `/v1/members/${memberId}/earn`, {
        body: { amountMinor: 1e300, currency: 'USD', orderRef: 'big' },
      }),
      api.request('POST', `/v1/members/${memberId}/earn`, {
        body: { amountMinor: 1, currency: 'USD', orderRef: 'a b\u0000' },
      }),
      api.request('POST', '/v1/partners', { body: { id: '../../etc', name: 'x' } }),
      api.request('GET', '/v1/partners/%E0%A4%A'),
      api.request('GET', `/v1/members/${memberId}/transactions?cursor=eyJwayI6MX0`),
      api.request('GET', '/v1/members?externalRef='),
      api.request('PUT', '/v1/program', { body: { tiers: 'gold' } }),
      api.request('POST', '/v1/api-keys', { body: { name: 'x', role: 'root' } }),
      api.request('DELETE', '/v1/api-keys/key_01ARZ3NDEKTSV4RRFFQ69G5FAV'),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.status, response.text).toBeGreaterThanOrEqual(400);
      expect(response.status, response.text).toBeLessThan(500);
      expect(response.headers.get('content-type')).toBe(PROBLEM);
    }
  });
});
