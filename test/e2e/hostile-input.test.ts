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
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
  fc.constant(`${'['.repeat(50_000)}${']'.repeat(50_000)}`),
  fc.constant(JSON.stringify({ name: 'x', earnRule: { pointsPerUnit: 1e-9, unitMinor: 1 } })),
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
