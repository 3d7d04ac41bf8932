import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../lambdas/routes/manifest.ts';
import { partnerBody, startTestApi, type TestApi } from '../support/api.ts';
import { snapshotTable } from '../support/fixtures.ts';

/**
 * "No input may produce a 5xx": random bodies, path parameters, query strings and headers against
 * every route of the real local server. Every answer must be < 500, and every error problem+json.
 */
let api: TestApi;
let memberId: string;
let partnerKey: string;
let financeKey: string;
beforeAll(async () => {
  api = await startTestApi();
  await api.request('POST', '/v1/partners', { body: partnerBody('fuzz') });
  memberId = (await api.request('POST', '/v1/members', { body: {} })).json.id;
  partnerKey = (
    await api.request('POST', '/v1/api-keys', { body: { name: 'fuzz', role: 'partner', partnerId: 'fuzz' } })
  ).json.key;
  financeKey = (await api.request('POST', '/v1/api-keys', { body: { name: 'fin', role: 'finance' } })).json
    .key;
});
afterAll(() => api.close());

const segment = fc.oneof(
  fc.constantFrom(
    'fuzz',
    'mem_01ARZ3NDEKTSV4RRFFQ69G5FAV',
    'key_01ARZ3NDEKTSV4RRFFQ69G5FAV',
    '%00',
    '%E0%A4%A',
    '..',
    'ñ',
  ),
  fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent),
);
const query = fc.dictionary(
  fc.constantFrom(
    'limit',
    'cursor',
    'type',
    'externalRef',
    'partnerId',
    'active',
    'from',
    'to',
    'format',
    'x',
  ),
  fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom('fuzz', 'true', '2026-11-01', '2026-02-30', 'csv', '25'),
  ),
);
const body = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 200 }),
  fc
    .record(
      {
        amountMinor: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(Number.MAX_SAFE_INTEGER)),
        currency: fc.oneof(fc.constant('USD'), fc.string({ maxLength: 4 })),
        orderRef: fc.string({ maxLength: 300 }),
        points: fc.oneof(fc.integer(), fc.double(), fc.constant(-1)),
        partnerId: fc.oneof(fc.constant('fuzz'), fc.string({ maxLength: 50 })),
        externalRef: fc.string({ maxLength: 200 }),
        occurredAt: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.string(),
        ),
        role: fc.constantFrom('admin', 'partner', 'finance', 'root'),
        name: fc.string({ maxLength: 300 }),
        reason: fc.oneof(fc.string({ maxLength: 600 }), fc.constant('')),
        hold: fc.oneof(fc.boolean(), fc.constant('yes')),
        toMemberId: fc.oneof(fc.constant('mem_01ARZ3NDEKTSV4RRFFQ69G5FAV'), fc.string({ maxLength: 40 })),
        type: fc.constantFrom('review', 'survey', 'constructor', '__proto__', ''),
        ref: fc.string({ maxLength: 200 }),
        score: fc.oneof(fc.integer({ min: -5, max: 15 }), fc.double()),
        asOf: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.string(),
        ),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
  fc.constant(`${'['.repeat(50_000)}${']'.repeat(50_000)}`),
  fc.constant(JSON.stringify({ name: 'x', earnRule: { pointsPerUnit: 1e-9, unitMinor: 1 } })),
  // The classes an outside review found: prototype names as map keys, duplicate keys, numbers a
  // double rounds, control characters.
  fc.constantFrom(
    '{"categoryMultipliers":{"constructor":2},"name":"x"}',
    '{"categoryMultipliers":{"__proto__":2}}',
    '{"activityRules":{"toString":1,"constructor":1}}',
    '{"amountMinor":100,"amountMinor":900000,"currency":"USD","orderRef":"dup"}',
    '{"points":12345678901234567891}',
    '{"earnRule":{"pointsPerUnit":0.12340000009,"unitMinor":100}}',
    '{"name":"a\\u0001b","role":"finance"}',
    '{"type":"constructor","ref":"r"}',
    '{"__proto__":{"admin":true}}',
  ),
);

describe('hostile input', () => {
  it('never yields a 5xx on any route', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.array(segment, { minLength: 1, maxLength: 2 }),
        query,
        body,
        fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-8', ''),
        fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
        fc.constantFrom('admin', 'partner', 'finance'),
        async (route, segments, params, rawBody, contentType, idempotencyKey, caller) => {
          let i = 0;
          const path = route.path.replace(/\{[^}]+\}/g, () => segments[i++ % segments.length] ?? 'x');
          const search = new URLSearchParams(params).toString();
          const headers: Record<string, string> = {};
          if (contentType) headers['content-type'] = contentType;
          if (idempotencyKey !== undefined && /^[\x20-\x7e]*$/.test(idempotencyKey))
            headers['idempotency-key'] = idempotencyKey;
          const response = await api.request(route.method, `${path}${search ? `?${search}` : ''}`, {
            rawBody: route.method === 'GET' || route.method === 'DELETE' ? undefined : rawBody,
            headers,
            key: caller === 'admin' ? api.adminKey : caller === 'partner' ? partnerKey : financeKey,
          });
          expect(
            response.status,
            `${route.method} ${path} ${rawBody.slice(0, 200)} → ${response.text}`,
          ).toBeLessThan(500);
          if (response.status >= 400)
            expect(response.headers.get('content-type')).toBe('application/problem+json');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('changes nothing when a point-moving request is refused', async () => {
    const before = await snapshotTable(api.store);
    const refused = [
      { amountMinor: -5, currency: 'USD', orderRef: 'neg' },
      { amountMinor: 100, currency: 'EUR', orderRef: 'eur', partnerId: 'fuzz' },
      { amountMinor: 100, currency: 'USD', orderRef: 'nopartner' },
      { amountMinor: 100, currency: 'USD', orderRef: 'ghost', partnerId: 'ghost-partner' },
    ];
    for (const body of refused) {
      const response = await api.request('POST', `/v1/members/${memberId}/earn`, { body });
      expect(response.status).toBe(400);
    }
    expect(
      (
        await api.request('POST', `/v1/members/${memberId}/redemptions`, {
          body: { points: 1, partnerId: 'fuzz' },
        })
      ).status,
    ).toBe(409);
    expect(await snapshotTable(api.store)).toBe(before);
  });
});

describe('ambiguous, unrepresentable and malformed input (each class → one clear 400, nothing written)', () => {
  const problemPaths = (response: { json: { errors?: { path: string }[] } }) =>
    (response.json.errors ?? []).map((error) => error.path);

  it('refuses Object.prototype names as map keys and ids, on create and on PATCH', async () => {
    const before = await snapshotTable(api.store);
    const created = await api.request('POST', '/v1/partners', {
      body: partnerBody('proto', { categoryMultipliers: { constructor: 2 } }),
    });
    expect(created.status).toBe(400);
    expect(problemPaths(created)).toEqual(['body.categoryMultipliers.constructor']);
    const named = await api.request('POST', '/v1/partners', { body: partnerBody('constructor') });
    expect(problemPaths(named)).toEqual(['body.id']);
    const patched = await api.request('PATCH', '/v1/partners/fuzz', {
      body: { categoryMultipliers: { constructor: 2 } },
    });
    expect(patched.status).toBe(400);
    const program = (await api.request('GET', '/v1/program')).json;
    const { updatedAt: _updatedAt, ...config } = program;
    const rules = await api.request('PUT', '/v1/program', {
      body: { ...config, activityRules: { constructor: 5, review: 10 } },
    });
    expect(rules.status).toBe(400);
    expect(problemPaths(rules)).toEqual(['body.activityRules.constructor']);
    expect(await snapshotTable(api.store)).toBe(before);
  });

  it('refuses __proto__ as a key instead of dropping it (a PATCH must not wipe the map)', async () => {
    await api.request('PATCH', '/v1/partners/fuzz', { body: { categoryMultipliers: { fresh: 2 } } });
    const response = await api.request('PATCH', '/v1/partners/fuzz', {
      rawBody: '{"categoryMultipliers":{"__proto__":3}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(problemPaths(response)).toEqual(['body.categoryMultipliers.__proto__']);
    expect((await api.request('GET', '/v1/partners/fuzz')).json.categoryMultipliers).toEqual({ fresh: 2 });
  });

  it('counts decimal places exactly: 0.12340000009 is 11 places, not "about 4"', async () => {
    for (const [field, body] of [
      ['body.earnRule.pointsPerUnit', '{"earnRule":{"pointsPerUnit":0.12340000009,"unitMinor":100}}'],
      ['body.categoryMultipliers.fresh', '{"categoryMultipliers":{"fresh":1.00000000001}}'],
      // More digits than a double carries: it would be silently rounded to 0.1234.
      [
        'body.earnRule.pointsPerUnit',
        '{"earnRule":{"pointsPerUnit":0.1234000000000000000001,"unitMinor":100}}',
      ],
    ] as const) {
      const response = await api.request('PATCH', '/v1/partners/fuzz', {
        rawBody: body,
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status, body).toBe(400);
      expect(problemPaths(response), body).toEqual([field]);
    }
    const exact = await api.request('PATCH', '/v1/partners/fuzz', {
      rawBody: '{"earnRule":{"pointsPerUnit":0.1234,"unitMinor":100},"categoryMultipliers":{"fresh":1.50}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(exact.json).toMatchObject({
      earnRule: { pointsPerUnit: 0.1234 },
      categoryMultipliers: { fresh: 1.5 },
    });
  });

  it('refuses a body with a key given twice', async () => {
    const before = await snapshotTable(api.store);
    const response = await api.request('POST', `/v1/members/${memberId}/earn`, {
      rawBody:
        '{"partnerId":"fuzz","amountMinor":100,"amountMinor":900000,"currency":"USD","orderRef":"dup-1"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(response.json.type).toBe('/problems/validation-error');
    expect(problemPaths(response)).toEqual(['body.amountMinor']);
    expect(await snapshotTable(api.store)).toBe(before);
  });

  it('refuses control characters in text and bytes that are not UTF-8', async () => {
    const control = await api.request('POST', '/v1/api-keys', { body: { name: 'tillone', role: 'finance' } });
    expect(control.status).toBe(400);
    expect(problemPaths(control)).toEqual(['body.name']);
    const invalidUtf8 = Buffer.concat([
      Buffer.from('{"name":"caf'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('","role":"finance"}'),
    ]);
    const bytes = await api.request('POST', '/v1/api-keys', {
      rawBody: invalidUtf8,
      headers: { 'content-type': 'application/json' },
    });
    expect(bytes.status).toBe(400);
    expect(bytes.json).toMatchObject({
      type: '/problems/malformed-json',
      detail: expect.stringMatching(/UTF-8/),
    });
    const surrogate = await api.request('POST', '/v1/api-keys', {
      rawBody: '{"name":"a\\ud800b","role":"finance"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(surrogate.status).toBe(400);
  });

  it('takes only plain decimal integers as ?limit', async () => {
    for (const limit of ['0x10', '1e1', '%205', '5.0', '-1', '+5', '']) {
      const response = await api.request('GET', `/v1/members/${memberId}/transactions?limit=${limit}`);
      expect(response.status, limit).toBe(400);
      expect(problemPaths(response), limit).toEqual(['query.limit']);
    }
    expect((await api.request('GET', `/v1/members/${memberId}/transactions?limit=5`)).status).toBe(200);
  });

  it('lists every problem at once: body errors and a missing Idempotency-Key', async () => {
    const response = await fetch(`${api.url}/v1/members/${memberId}/earn`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amountMinor: -1, currency: 'usd' }),
    });
    const paths = ((await response.json()) as { errors: { path: string }[] }).errors.map((e) => e.path);
    expect(response.status).toBe(400);
    expect(paths).toEqual(
      expect.arrayContaining([
        'body.amountMinor',
        'body.currency',
        'body.orderRef',
        'header.Idempotency-Key',
      ]),
    );
  });

  it('reports one precise error for an impossible instant', async () => {
    const response = await api.request('POST', `/v1/members/${memberId}/earn`, {
      body: {
        partnerId: 'fuzz',
        amountMinor: 100,
        currency: 'USD',
        orderRef: 'sec-60',
        occurredAt: '2026-01-01T00:00:60Z',
      },
    });
    expect(response.status).toBe(400);
    expect(response.json.errors).toEqual([
      { path: 'body.occurredAt', message: 'must be an RFC 3339 date-time' },
    ]);
  });

  it('answers a malformed header and an oversized URL with problem+json and a request id', async () => {
    const raw = await rawHttp(`GET /v1/health HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n`);
    expect(raw.status).toBe(400);
    expect(raw.headers['content-type']).toBe('application/problem+json');
    expect(raw.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(raw.body)).toMatchObject({ status: 400, type: '/problems/bad-request' });

    const long = await fetch(`${api.url}/v1/health?pad=${'x'.repeat(16 * 1024)}`);
    expect(long.status).toBe(431);
    expect(long.headers.get('content-type')).toBe('application/problem+json');
    expect(long.headers.get('x-request-id')).toBeTruthy();
    expect(await long.json()).toMatchObject({
      status: 431,
      type: '/problems/request-header-fields-too-large',
    });
  });
});

/** One request written byte for byte on a socket (fetch refuses to send a malformed header). */
async function rawHttp(
  request: string,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { port } = new URL(api.url);
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(request));
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString();
    });
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => [
      line.slice(0, line.indexOf(':')).toLowerCase(),
      line.slice(line.indexOf(':') + 1).trim(),
    ]),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}
