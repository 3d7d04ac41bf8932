import { randomBytes, randomUUID } from 'node:crypto';
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

type Responses = Record<string, { content?: Record<string, unknown> }>;
const documented = buildOpenApiDocument('test').paths as Record<
  string,
  Record<string, { responses: Responses }>
>;

/** Undocumented answers the e2e tests met (OPENAPI_AUDIT=1 prints them instead of failing). */
function checkDocumented(method: string, url: string, status: number, contentType: string | null): void {
  const path = new URL(url).pathname;
  const [match] = matchPath(path).filter(({ route }) => route.method === method);
  // No route (an unknown path or method): the fallback's 404/405 are not an operation's.
  if (!match) return;
  const responses = documented[match.route.path]?.[method.toLowerCase()]?.responses ?? {};
  const response = responses[String(status)];
  const media = contentType?.split(';')[0]?.trim();
  const problem = !response
    ? `status ${status} is not documented`
    : media && response.content && !(media in response.content)
      ? `media type ${media} is not documented for ${status}`
      : undefined;
  if (!problem) return;
  const message = `${method} ${match.route.path}: ${problem} in the OpenAPI document`;
  if (process.env.OPENAPI_AUDIT) console.error(`OPENAPI_AUDIT ${message}`);
  else throw new Error(message);
}

/**
 * The real local server (same routing, authorizer and handlers as `npm start`) on a random port,
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
    checkDocumented(method, server.url + path, response.status, response.headers.get('content-type'));
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
