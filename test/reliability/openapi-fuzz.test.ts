import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partnerBody, startTestApi, type TestApi } from '../support/api.ts';
import { snapshotTable } from '../support/fixtures.ts';
import { FULL, partTimeoutMs, printCounts, scale } from './scale.ts';

/**
 * Every operation of docs/openapi.json, driven with hostile input generated from its own schema:
 * wrong types and bounds for each declared property, hostile strings (unicode, NUL, lone
 * surrogates, over maxLength), deep JSON, bodies over 6 MB, duplicate and prototype keys, wrong
 * media types, hostile path segments, query values and headers, and header injection on a raw
 * socket. Every case is invalid by construction (an unknown property in a strict body, a hostile
 * path segment, a wrong media type…), so: no 5xx, no 2xx on a write, the table unchanged, and every
 * error a problem document whose `status` is the HTTP status.
 */
type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  maxLength?: number;
  required?: string[];
  maximum?: number;
  minimum?: number;
  enum?: unknown[];
};
interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  queryParams: { name: string; schema: Schema }[];
  jsonBody?: Schema;
  textBody?: string[];
  public: boolean;
}
interface Case {
  kind: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

const document = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, Schema> };
};
const resolve = (schema: Schema | undefined): Schema | undefined =>
  schema?.$ref ? document.components.schemas[schema.$ref.split('/').pop() as string] : schema;

const operations: Operation[] = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]) => {
    const parameters = (op.parameters ?? []) as { in: string; name: string; schema: Schema }[];
    const content = (op.requestBody as { content?: Record<string, { schema: Schema }> } | undefined)?.content;
    return {
      method: method.toUpperCase(),
      path,
      pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
      queryParams: parameters
        .filter((p) => p.in === 'query')
        .map((p) => ({ name: p.name, schema: p.schema })),
      ...(content?.['application/json'] ? { jsonBody: resolve(content['application/json'].schema) } : {}),
      ...(content && !content['application/json'] ? { textBody: Object.keys(content) } : {}),
      public: Array.isArray(op.security) && op.security.length === 0,
    } as Operation;
  }),
);

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
const validProblem = ajv.compile(document.components.schemas.Problem as object);

let api: TestApi;
let keys: Record<'admin' | 'partner' | 'finance', string>;
/** Real ids for the path parameters of body cases: the body is then what is refused. */
const real: Record<string, string> = {};

beforeAll(async () => {
  api = await startTestApi();
  await api.request('POST', '/v1/partners', { body: partnerBody('fuzz') });
  const key = async (body: unknown) =>
    (await api.request('POST', '/v1/api-keys', { body })).json as { id: string; key: string };
  const partner = await key({ name: 'fuzz', role: 'partner', partnerId: 'fuzz' });
  const finance = await key({ name: 'fin', role: 'finance' });
  keys = { admin: api.adminKey, partner: partner.key, finance: finance.key };
  real.memberId = (await api.request('POST', '/v1/members', { body: {} })).json.id;
  real.partnerId = 'fuzz';
  real.keyId = partner.id;
  real.name = 'expire-points';
  real.file = 'docs.js';
  real.orderRef = 'order-1';
}, 60_000);
afterAll(() => api.close());

/** Values of the wrong type or out of bounds for a property of this schema. */
function hostileValue(schema: Schema | undefined): fc.Arbitrary<unknown> {
  const s = resolve(schema) ?? {};
  const types = [s.type].flat();
  const strings = fc.constantFrom(
    '\u0000',
    '\ud800',
    'a\u202eb',
    '\u200b',
    '💥'.repeat(50),
    'x'.repeat((s.maxLength ?? 256) + 1),
    '<script>',
    "'; DROP TABLE",
    '../../etc/passwd',
    '',
  );
  const numbers = fc.constantFrom(
    -1,
    -0,
    0.5,
    1e308,
    -1e308,
    2 ** 53,
    (s.maximum ?? 2 ** 53) + 1,
    (s.minimum ?? 0) - 1,
  );
  const wrongs: fc.Arbitrary<unknown>[] = [fc.constantFrom(null, true, [], {}, [1, 2], { $gt: '' })];
  if (types.includes('integer') || types.includes('number'))
    wrongs.push(numbers, fc.constantFrom('1', 'NaN', '1e3'));
  else wrongs.push(fc.integer(), numbers);
  if (types.includes('string') || s.enum) wrongs.push(strings);
  else wrongs.push(fc.string({ maxLength: 20 }));
  return fc.oneof(...wrongs);
}

/** A JSON body that breaks the schema: a strict object always gets a property it does not know. */
function hostileJson(schema: Schema): fc.Arbitrary<{ kind: string; body: string }> {
  const names = Object.keys(schema.properties ?? {});
  const object = fc
    .record({
      mutate: fc.subarray(names, { minLength: 0, maxLength: Math.min(3, names.length) }),
      values: fc.array(fc.anything({ maxDepth: 2 }), { minLength: 3, maxLength: 3 }),
      seed: fc.integer({ min: 0, max: 1_000 }),
    })
    .chain(({ mutate, seed }) =>
      fc
        .tuple(
          ...mutate.map((name) =>
            hostileValue(schema.properties?.[name]).map((value) => [name, value] as const),
          ),
        )
        .map((pairs) => ({
          kind: pairs.length > 0 ? 'types-and-bounds' : 'unknown-property',
          body: JSON.stringify({ ...Object.fromEntries(pairs), [`fuzz_${seed}`]: seed }),
        })),
    );
  const first = names[0] ?? 'name';
  return fc.oneof(
    { weight: 6, arbitrary: object },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        { kind: 'deep-json', body: `${'['.repeat(10_000)}${']'.repeat(10_000)}` },
        { kind: 'deep-json', body: `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}` },
        { kind: 'duplicate-keys', body: `{"${first}":1,"${first}":2}` },
        { kind: 'prototype-keys', body: `{"__proto__":{"role":"admin"},"constructor":{"prototype":{}}}` },
        { kind: 'not-json', body: '{"a":' },
        { kind: 'not-an-object', body: '"just a string"' },
        { kind: 'not-an-object', body: 'null' },
        { kind: 'not-an-object', body: '[]' },
        { kind: 'lone-surrogate', body: `{"${first}":"\\ud800","fuzz":1}` },
      ),
    },
  );
}

const hostileSegment = fc.constantFrom(
  '..',
  '%2e%2e',
  '%2F',
  '%00',
  '%E0%A4%A',
  'x'.repeat(2_000),
  '%F0%9F%92%A5',
  'mem_01ARZ3NDEKTSV4RRFFQ69G5FAV%00',
  ' ',
  '%20',
  'null',
);

function caseFor(op: Operation): fc.Arbitrary<Case> {
  const write = op.method !== 'GET';
  const jsonHeaders = { 'content-type': 'application/json' };
  // Path: hostile for body-less writes (a real id could erase or revoke), real or hostile otherwise.
  const segment = (name: string) =>
    write && !op.jsonBody
      ? hostileSegment
      : fc.oneof(hostileSegment, fc.constant(encodeURIComponent(real[name] ?? 'x')));
  const path = fc
    .tuple(...op.pathParams.map(segment))
    .map((values) =>
      op.pathParams.reduce((p, name, i) => p.replace(`{${name}}`, values[i] as string), op.path),
    );
  const query = fc
    .array(
      fc.oneof(
        ...(op.queryParams.length > 0
          ? [
              fc
                .constantFrom(...op.queryParams)
                .chain((q) =>
                  hostileValue(q.schema).map(
                    (v) => [q.name, typeof v === 'string' ? v : JSON.stringify(v)] as const,
                  ),
                ),
            ]
          : []),
        fc.tuple(
          fc.constantFrom('limit', 'cursor', 'asOf', 'format', '__proto__'),
          fc.constantFrom('-1', 'abc', '1e9', '2026-02-30', 'xml', ''),
        ),
      ),
      { maxLength: 3 },
    )
    .map((pairs) =>
      new URLSearchParams(
        pairs.map(([k, v]) => [k, v.replaceAll('\u0000', '')] as [string, string]),
      ).toString(),
    );
  const headers = fc.record(
    {
      'idempotency-key': fc.constantFrom('x'.repeat(300), '', 'é'.repeat(10), ' lead', 'ok-key'),
      'x-forwarded-for': fc.constantFrom('127.0.0.1, evil', '::1'),
    },
    { requiredKeys: [] },
  );
  const auth = fc.constantFrom(
    'admin',
    'admin',
    'admin',
    'admin',
    'admin',
    'admin',
    'partner',
    'finance',
    'none',
    'garbage',
  );
  const body: fc.Arbitrary<{ kind: string; body?: string | Buffer; headers: Record<string, string> }> =
    op.jsonBody
      ? fc.oneof(
          { weight: 20, arbitrary: hostileJson(op.jsonBody).map((b) => ({ ...b, headers: jsonHeaders })) },
          {
            weight: 1,
            arbitrary: fc.constant({
              kind: 'wrong-media-type',
              body: '{}',
              headers: { 'content-type': 'text/plain' },
            }),
          },
          // No body is invalid only where the body has required properties (`{}` is then refused).
          ...((op.jsonBody.required ?? []).length > 0
            ? [{ weight: 1, arbitrary: fc.constant({ kind: 'no-body', headers: jsonHeaders }) }]
            : []),
        )
      : op.textBody
        ? fc.constantFrom(
            { kind: 'wrong-media-type', body: '{}', headers: jsonHeaders },
            { kind: 'bad-csv-header', body: 'nope,nothing\n1,2\n', headers: { 'content-type': 'text/csv' } },
            { kind: 'no-body', headers: { 'content-type': 'text/csv' } },
          )
        : fc.constant({ kind: write ? 'hostile-path' : 'read', headers: {} });
  return fc.tuple(path, query, headers, auth, body).map(([p, q, h, who, b]): Case => {
    const authorization: Record<string, string> =
      who === 'none'
        ? {}
        : {
            authorization:
              who === 'garbage' ? 'Bearer lk_\u00e9\u00e9' : `Bearer ${keys[who as keyof typeof keys]}`,
          };
    return {
      kind: b.kind,
      path: p,
      query: q,
      headers: { ...(h as Record<string, string>), ...b.headers, ...authorization },
      ...(b.body !== undefined ? { body: b.body } : {}),
    };
  });
}

/** The few cases that are the same for every operation: a body over API Gateway's 6 MB. */
const oversized = (op: Operation): Case => ({
  kind: 'over-6-MB',
  path: op.path.replace(/\{[^}]+\}/g, '%00'),
  query: '',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.admin}` },
  body: Buffer.alloc(6 * 1024 * 1024 + 1, 0x20),
});

interface Tally {
  cases: number;
  byStatus: Record<string, number>;
  byKind: Record<string, number>;
  writesAnswered2xx: string[];
}

async function send(op: Operation, c: Case, tally: Tally): Promise<void> {
  const url = `${api.url}${c.path}${c.query ? `?${c.query}` : ''}`;
  const response = await fetch(url, {
    method: op.method,
    headers: c.headers,
    ...(c.body !== undefined && op.method !== 'GET' ? { body: c.body } : {}),
  });
  const text = await response.text();
  const what = `${op.method} ${op.path} [${c.kind}] ${url.slice(0, 200)} → ${response.status} ${text.slice(0, 300)}`;
  tally.cases += 1;
  tally.byStatus[response.status] = (tally.byStatus[response.status] ?? 0) + 1;
  tally.byKind[c.kind] = (tally.byKind[c.kind] ?? 0) + 1;
  expect(response.status, what).toBeLessThan(500);
  if (response.status < 400) {
    if (op.method !== 'GET') tally.writesAnswered2xx.push(what);
    return;
  }
  expect(response.headers.get('content-type'), what).toBe('application/problem+json');
  const problem = JSON.parse(text) as { status: number; type: string; detail: string };
  expect(validProblem(problem), `${what}: ${ajv.errorsText(validProblem.errors)}`).toBe(true);
  expect(problem.status, what).toBe(response.status);
  expect(typeof problem.detail, what).toBe('string');
}

/** A request Node's HTTP parser must refuse (header injection): a problem on the raw socket too. */
function rawRequest(text: string): Promise<string> {
  const { port } = new URL(api.url);
  return new Promise((resolvePromise, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(text));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('end', () => resolvePromise(answer));
    socket.on('error', reject);
  });
}

describe('fuzzing every operation of the OpenAPI document', () => {
  it(
    `answers ${scale.fuzzCases} hostile cases with problems, never a 5xx, and writes nothing`,
    async () => {
      const before = await snapshotTable(api.store);
      const tally: Tally = { cases: 0, byStatus: {}, byKind: {}, writesAnswered2xx: [] };
      const perOperation = Math.max(1, Math.ceil(scale.fuzzCases / operations.length));
      const cases = operations.flatMap((op) =>
        fc.sample(caseFor(op), { numRuns: perOperation, seed: FULL ? 13 : 7 }).map((c) => ({ op, c })),
      );
      // Every JSON body also gets `null` and `[]`, with real path parameters (a `null` once passed as {}).
      for (const op of operations.filter((o) => o.jsonBody)) {
        const path = op.pathParams.reduce(
          (p, name) => p.replace(`{${name}}`, encodeURIComponent(real[name] ?? 'x')),
          op.path,
        );
        for (const body of ['null', '[]'])
          cases.push({
            op,
            c: {
              kind: 'null-or-array-body',
              path,
              query: '',
              headers: {
                'content-type': 'application/json',
                'idempotency-key': `fuzz-${body}-${op.path}`,
                authorization: `Bearer ${keys.admin}`,
              },
              body,
            },
          });
      }
      // Four in flight: the local server and DynamoDB Local share two cores with the client.
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < cases.length) {
            const { op, c } = cases[next++] as { op: Operation; c: Case };
            await send(op, c, tally);
          }
        }),
      );
      // One body over 6 MB per write operation with a JSON body.
      for (const op of operations.filter((o) => o.jsonBody).slice(0, FULL ? undefined : 4))
        await send(op, oversized(op), tally);
      const injections = [
        'GET /v1/health HTTP/1.1\r\nHost: x\r\nX-A: a\rInjected: b\r\n\r\n',
        'GET /v1/health HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n',
        `GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        'GET /v1/members HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\n b\r\n\r\n',
        'GET /v1/health\u0000 HTTP/1.1\r\nHost: x\r\n\r\n',
      ];
      for (const text of injections) {
        const answer = await rawRequest(text);
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
        tally.cases += 1;
        tally.byKind['header-injection'] = (tally.byKind['header-injection'] ?? 0) + 1;
        tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
        expect(status, JSON.stringify(text.slice(0, 80))).toBeGreaterThanOrEqual(400);
        expect(status, JSON.stringify(text.slice(0, 80))).toBeLessThan(500);
        expect(answer.toLowerCase()).toContain('application/problem+json');
      }
      const after = await snapshotTable(api.store);
      printCounts('fuzz', {
        operations: operations.length,
        cases: tally.cases,
        byStatus: tally.byStatus,
        byKind: tally.byKind,
        writesAnswered2xx: tally.writesAnswered2xx.length,
        tableUnchanged: after === before,
      });
      expect(tally.writesAnswered2xx).toEqual([]);
      expect(after).toBe(before);
      expect(tally.cases).toBeGreaterThanOrEqual(scale.fuzzCases * 0.95);
    },
    partTimeoutMs,
  );
});
