import { randomBytes, randomUUID } from 'node:crypto';
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
