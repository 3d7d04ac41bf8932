import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { createStore, type Store } from '../../lambdas/store/client.ts';
import { ensureTable } from '../../local/dynamodb-local.ts';

/** Refuse anything but a loopback endpoint: integration tests must never touch real AWS. */
export function localEndpoint(): string {
  const endpoint = inject('dynamoEndpoint');
  const host = new URL(endpoint).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost')
    throw new Error(`refusing non-local DynamoDB endpoint ${endpoint}`);
  return endpoint;
}

/** A fresh table (from the shared definition) in the run's DynamoDB Local, and a store on it. */
export async function createTestStore(prefix = 'test'): Promise<Store> {
  const endpoint = localEndpoint();
  const tableName = `${prefix}-${randomUUID()}`;
  await ensureTable(endpoint, tableName);
  return createStore({ tableName, endpoint });
}
