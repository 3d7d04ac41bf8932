import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiKeyView } from '../schemas/api-keys.ts';
import type { Role, Scope } from '../schemas/common.ts';
import type { Store } from './client.ts';
import { keys } from './keys.ts';
import { listPartition } from './pagination.ts';
import { type TransactItem, transactWrite } from './transactions.ts';

/** What a request is allowed to do, as resolved from its key. */
export interface Principal {
  keyId: string;
  role: Role;
  partnerId: string | null;
  scopes: Scope[];
}

export interface ApiKeyRecord extends ApiKeyView {
  hash: string;
}

export function apiKeyViewOf(item: Record<string, unknown> | ApiKeyView): ApiKeyView {
  const source = item as Record<string, unknown>;
  return {
    id: String(source.id),
    name: String(source.name),
    role: source.role as Role,
    partnerId: (source.partnerId as string | null) ?? null,
    scopes: (source.scopes as Scope[]) ?? [],
    last4: String(source.last4),
    createdAt: String(source.createdAt),
    lastUsedAt: (source.lastUsedAt as string | undefined) ?? null,
    revokedAt: (source.revokedAt as string | undefined) ?? null,
  };
}

/** The two items of a new key: the hash-keyed one each request reads, and the listing record. */
export function putNewApiKey(store: Store, record: ApiKeyRecord): TransactItem[] {
  // lastUsedAt and revokedAt are absent until set: conditions test them with attribute_not_exists.
  const { hash, lastUsedAt: _lastUsedAt, revokedAt: _revokedAt, ...view } = record;
  return [
    {
      Put: {
        TableName: store.tableName,
        Item: {
          ...keys.apiKeyByHash(hash),
          entity: 'apiKeyAuth',
          keyId: view.id,
          role: view.role,
          partnerId: view.partnerId,
          scopes: view.scopes,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    {
      Put: {
        TableName: store.tableName,
        Item: { ...keys.apiKeyRecord(view.id), entity: 'apiKey', ...view, hash },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
  ];
}

export async function createApiKey(store: Store, record: ApiKeyRecord): Promise<void> {
  await transactWrite(store, putNewApiKey(store, record));
}

/** The principal a key's hash-keyed item grants; `undefined` for a missing or revoked key. */
export function principalFromKeyItem(item: Record<string, unknown> | undefined): Principal | undefined {
  if (!item || item.revokedAt) return undefined;
  return {
    keyId: String(item.keyId),
    role: item.role as Role,
    partnerId: (item.partnerId as string | null) ?? null,
    scopes: (item.scopes as Scope[]) ?? [],
  };
}

/** The principal for a key hash; `undefined` for unknown or revoked keys. Strongly consistent, so revocation is immediate. */
export async function findPrincipal(store: Store, hash: string): Promise<Principal | undefined> {
  return principalFromKeyItem(await readApiKeyItem(store, keys.apiKeyByHash(hash)));
}

/** A key's hash-keyed item as it is now (strongly consistent). */
export async function readApiKeyItem(
  store: Store,
  key: { pk: string; sk: string },
): Promise<Record<string, unknown> | undefined> {
  const { Item } = await store.db.send(
    new GetCommand({ TableName: store.tableName, Key: key, ConsistentRead: true }),
  );
  return Item;
}

export async function getApiKeyRecord(store: Store, keyId: string): Promise<ApiKeyRecord | undefined> {
  const { Item } = await store.db.send(
    new GetCommand({ TableName: store.tableName, Key: keys.apiKeyRecord(keyId), ConsistentRead: true }),
  );
  return Item ? { ...apiKeyViewOf(Item), hash: String(Item.hash) } : undefined;
}

export function listApiKeys(
  store: Store,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: ApiKeyView[]; nextCursor: string | null }> {
  return listPartition(
    store,
    { pk: keys.apiKeysPartition(), skPrefix: keys.apiKeySkPrefix() },
    { limit, cursor },
    apiKeyViewOf,
  );
}

/** Mark both items revoked in one transaction; the next request with the key is refused. */
export async function revokeApiKey(store: Store, record: ApiKeyRecord, now: string): Promise<void> {
  const update = (key: Record<string, string>): TransactItem => ({
    Update: {
      TableName: store.tableName,
      Key: key,
      UpdateExpression: 'SET revokedAt = :now',
      // The first revocation wins: a second one (concurrent DELETE) keeps the first revokedAt.
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(revokedAt)',
      ExpressionAttributeValues: { ':now': now },
    },
  });
  await transactWrite(store, [update(keys.apiKeyByHash(record.hash)), update(keys.apiKeyRecord(record.id))]);
}

/** Record last use at most once a minute per key, so a busy key does not write on every request. */
export async function touchApiKey(store: Store, keyId: string, now: string): Promise<void> {
  const cutoff = new Date(Date.parse(now) - 60_000).toISOString();
  try {
    await store.db.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: keys.apiKeyRecord(keyId),
        UpdateExpression: 'SET lastUsedAt = :now',
        ConditionExpression:
          // A revoked key's record keeps the last use before its revocation.
          'attribute_exists(pk) AND attribute_not_exists(revokedAt) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt < :cutoff)',
        ExpressionAttributeValues: { ':now': now, ':cutoff': cutoff },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}
