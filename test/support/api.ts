import { randomBytes, randomUUID } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { buildOpenApiDocument } from '../../lambdas/openapi/document.ts';
import { matchPath } from '../../lambdas/routes/manifest.ts';
import { ensureAdminKey } from '../../lambdas/services/api-keys.ts';
import type { Store } from '../../lambdas/store/client.ts';
import { type LocalServer, startLocalServer } from '../../local/server.ts';
import { createTestStore, localEndpoint } from './table.ts';

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response JSON freely
  json: any;
}

export interface RequestOptions {
  key?: string | null;
  body?: unknown;
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  idempotencyKey?: string;
}

export interface TestApi {
  url: string;
  adminKey: string;
  store: Store;
  server: LocalServer;
  request: (method: string, path: string, options?: RequestOptions) => Promise<ApiResponse>;
  close: () => Promise<void>;
}

type Responses = Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }>;
const document = buildOpenApiDocument('test');
const documented = document.paths as Record<string, Record<string, { responses: Responses }>>;

/** The document itself is the schema registry: each response schema is a JSON pointer into it. */
const ajv = new Ajv2020({ strict: false, allErrors: true });
// ajv-formats is CommonJS: its function is the default export's `default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => void;
addFormats(ajv);
ajv.addSchema(document, 'openapi');
const pointer = (...parts: string[]) =>
  `openapi#/${parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;

/** Headers of HTTP itself (and of the site's pages), not of the API: they need no declaration. */
const TRANSPORT_HEADERS = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'vary',
  'cache-control',
  'content-security-policy',
  'x-content-type-options',
  'referrer-policy',
]);

/**
 * Every answer the e2e tests meet must be in the OpenAPI document: its status, its media type, its
 * headers, and its body against the response schema (formats included). OPENAPI_AUDIT=1 prints
 * what does not match instead of failing.
 */
function checkDocumented(method: string, url: string, status: number, headers: Headers, text: string): void {
  const path = new URL(url).pathname;
  const [match] = matchPath(path).filter(({ route }) => route.method === method);
  // No route (an unknown path or method): the fallback's 404/405 are not an operation's.
  if (!match) return;
  const operation = method.toLowerCase();
  const responses = documented[match.route.path]?.[operation]?.responses ?? {};
  const response = responses[String(status)];
  const media = headers.get('content-type')?.split(';')[0]?.trim();
  const problems: string[] = [];
  if (!response) problems.push(`status ${status} is not documented`);
  else {
    if (media && response.content && !(media in response.content))
      problems.push(`media type ${media} is not documented for ${status}`);
    const declared = new Set(Object.keys(response.headers ?? {}).map((name) => name.toLowerCase()));
    for (const [name] of headers)
      if (!TRANSPORT_HEADERS.has(name) && !declared.has(name))
        problems.push(`header ${name} is not documented for ${status}`);
    if (media && response.content?.[media] && /json$/.test(media)) {
      const validate = ajv.getSchema(
        pointer(
          'paths',
          match.route.path,
          operation,
          'responses',
          String(status),
          'content',
          media,
          'schema',
        ),
      );
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        problems.push('the body is not JSON');
      }
      if (validate && body !== undefined && !validate(body))
        problems.push(
          `the body does not match its schema: ${ajv.errorsText(validate.errors, { dataVar: 'body' })}`,
        );
    }
  }
  if (problems.length === 0) return;
  const message = `${method} ${match.route.path} → ${status}: ${problems.join('; ')} (OpenAPI document)`;
  if (process.env.OPENAPI_AUDIT) console.error(`OPENAPI_AUDIT ${message}`);
  else throw new Error(message);
}

/**
 * The real local server (same routing and handlers as `npm start`) on a random port,
 * over a fresh table in the run's DynamoDB Local, with a bootstrap admin key.
 */
export async function startTestApi(): Promise<TestApi> {
  const store = await createTestStore('e2e');
  process.env.TABLE_NAME = store.tableName;
  process.env.DYNAMODB_ENDPOINT = localEndpoint();
  const adminKey = `lk_admin_${randomBytes(32).toString('base64url')}`;
  await ensureAdminKey(store, adminKey, new Date().toISOString());
  const server = await startLocalServer({ port: 0 });
  const request = async (
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...options.headers };
    const key = options.key === undefined ? adminKey : options.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let body: string | Buffer | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    else if (method === 'POST') headers['idempotency-key'] ??= randomUUID();
    const response = await fetch(server.url + path, { method, headers, body });
    const text = await response.text();
    checkDocumented(method, server.url + path, response.status, response.headers, text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  };
  return { url: server.url, adminKey, store, server, request, close: () => server.close() };
}

/** The body of a plain partner (1 point per 100 minor units, rates 1), for tests to vary. */
export const partnerBody = (id: string, overrides: Record<string, unknown> = {}) => ({
  id,
  name: `Partner ${id}`,
  earnRule: { pointsPerUnit: 1, unitMinor: 100 },
  fundingRateMinor: 1,
  reimbursementRateMinor: 1,
  ...overrides,
});
