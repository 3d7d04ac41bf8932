import { createHash } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { canonicalJson } from '../../lambdas/http/middlewares/idempotency-key.ts';
import { scopes } from '../../lambdas/schemas/common.ts';
import type { RequestContext } from '../../lambdas/services/context.ts';
import { idempotencyScope } from '../../lambdas/services/context.ts';
import type { Principal } from '../../lambdas/store/api-key-store.ts';
import type { Store } from '../../lambdas/store/client.ts';

export const admin: Principal = { keyId: 'key_admin', role: 'admin', partnerId: null, scopes: [] };

export const finance: Principal = { keyId: 'key_finance', role: 'finance', partnerId: null, scopes: [] };

export const partnerPrincipal = (partnerId: string): Principal => ({
  keyId: `key_${partnerId}`,
  role: 'partner',
  partnerId,
  scopes: [...scopes],
});

/** A use-case context as the middlewares would build it, fingerprinting `body` for idempotency. */
export function contextFor(
  store: Store,
  principal: Principal,
  options: { idempotencyKey?: string; path?: string; body?: unknown; now?: string } = {},
): RequestContext {
  const now = options.now ?? new Date().toISOString();
  if (options.idempotencyKey === undefined) return { store, principal, now };
  const fingerprint = `POST ${options.path ?? '/'}\n${canonicalJson(options.body ?? {})}`;
  return {
    store,
    principal,
    now,
    idempotency: {
      scope: idempotencyScope(principal),
      key: options.idempotencyKey,
      requestHash: createHash('sha256').update(fingerprint).digest('base64url'),
    },
  };
}

/**
 * Every item in the table, for asserting that a rejected request wrote nothing. An API key's
 * `lastUsedAt` is left out: authentication's bookkeeping, written on use, refused or not.
 */
export async function snapshotTable(store: Store): Promise<string> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await store.db.send(
      new ScanCommand({ TableName: store.tableName, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return JSON.stringify(items.map(({ lastUsedAt: _lastUsedAt, ...item }) => canonicalJson(item)).sort());
}

export const parse = (response: { body: string }) => JSON.parse(response.body);
