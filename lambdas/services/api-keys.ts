import { createHash, randomBytes } from 'node:crypto';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import type { CreateApiKeyBody } from '../schemas/api-keys.ts';
import { scopes as allScopes } from '../schemas/common.ts';
import {
  type ApiKeyRecord,
  apiKeyViewOf,
  createApiKey,
  findPrincipal,
  getApiKeyRecord,
  listApiKeys,
  putNewApiKey,
  revokeApiKey,
} from '../store/api-key-store.ts';
import type { Store } from '../store/client.ts';
import { getPartner } from '../store/partner-store.ts';
import { TransactionCancelledError } from '../store/transactions.ts';
import { type RequestContext, respond, type UseCaseResponse, withinDeadline } from './context.ts';
import { createResource } from './create-resource.ts';
import { jitter } from './retry.ts';

/** Keys are 32 random bytes (256 bits), base64url, behind a recognisable prefix. */
export function generateApiKey(): string {
  return `lk_${randomBytes(32).toString('base64url')}`;
}

/** Keys are stored only as this hash; a fast hash suffices because keys carry 256 bits of entropy. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function newApiKeyRecord(
  secret: string,
  fields: Pick<ApiKeyRecord, 'name' | 'role' | 'partnerId' | 'scopes'>,
  now: string,
): ApiKeyRecord {
  return {
    id: newId('key', Date.parse(now)),
    ...fields,
    last4: secret.slice(-4),
    createdAt: now,
    lastUsedAt: null,
    revokedAt: null,
    hash: hashApiKey(secret),
  };
}

export async function createKey(ctx: RequestContext, body: CreateApiKeyBody): Promise<UseCaseResponse> {
  if (body.partnerId !== undefined && !(await getPartner(ctx.store, body.partnerId))) {
    throw new ValidationError([{ path: 'body.partnerId', message: `no partner ${body.partnerId}` }]);
  }
  const secret = generateApiKey();
  const record = newApiKeyRecord(
    secret,
    {
      name: body.name,
      role: body.role,
      partnerId: body.partnerId ?? null,
      // Partner keys default to every scope; admin and finance keys are not narrowed by scopes.
      scopes: body.role === 'partner' ? [...new Set(body.scopes ?? allScopes)] : [],
    },
    ctx.now,
  );
  const { hash: _hash, ...view } = record;
  // The secret is shown once: a replay of this request returns the same key metadata with key: null.
  return createResource(
    ctx,
    putNewApiKey(ctx.store, record),
    { status: 201, body: { ...view, key: secret }, storedBody: { ...view, key: null } },
    () => undefined,
  );
}

export async function listKeys(ctx: RequestContext, query: { limit: number; cursor?: string }) {
  return respond(200, await listApiKeys(ctx.store, query.limit, query.cursor));
}

/** Revocation is immediate (every request reads the key item strongly consistently) and idempotent. */
export async function revokeKey(ctx: RequestContext, keyId: string): Promise<UseCaseResponse> {
  for (let attempt = 1; ; attempt++) {
    const record = await getApiKeyRecord(ctx.store, keyId);
    if (!record) throw new NotFoundError(`No API key ${keyId}.`);
    if (record.revokedAt) return respond(200, apiKeyViewOf(record));
    try {
      await revokeApiKey(ctx.store, record, ctx.now);
      const { hash: _hash, ...view } = record;
      return respond(200, { ...view, revokedAt: ctx.now });
    } catch (error) {
      // A concurrent revocation won (read again: it is revoked), or a request recording the
      // key's use collided with us on AWS (TransactionConflict): try again, briefly.
      if (!(error instanceof TransactionCancelledError) || attempt === 5 || !withinDeadline(ctx)) throw error;
      if (error.isConflict) await jitter(attempt);
    }
  }
}

/**
 * Make `secret` a valid admin key (the local runtime's LOYALTY_BOOTSTRAP_ADMIN_KEY). Idempotent;
 * a bootstrap key an admin revoked stays revoked.
 */
export async function ensureAdminKey(
  store: Store,
  secret: string,
  now: string,
): Promise<'created' | 'existing' | 'revoked'> {
  const hash = hashApiKey(secret);
  if (await findPrincipal(store, hash)) return 'existing';
  const record = newApiKeyRecord(
    secret,
    { name: 'Bootstrap admin key', role: 'admin', partnerId: null, scopes: [] },
    now,
  );
  try {
    await createApiKey(store, record);
    return 'created';
  } catch (error) {
    if (error instanceof TransactionCancelledError) return 'revoked'; // the hash item exists: revoked
    throw error;
  }
}
