import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { createStore, type Store } from '../../lambdas/store/client.ts';
import { ensureTable } from '../../local/dynamodb-local.ts';

/**
 * This worker's DynamoDB Local (global-setup.ts starts one per worker). Refuses anything but a
 * loopback endpoint: integration tests must never touch real AWS.
 */
export function localEndpoint(): string {
  const endpoints = inject('dynamoEndpoints');
  const worker = Number(process.env.VITEST_POOL_ID ?? 1) - 1;
  const endpoint = endpoints[worker % endpoints.length];
  if (!endpoint) throw new Error('no DynamoDB Local endpoint was provided to the tests');
  const host = new URL(endpoint).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost')
    throw new Error(`refusing non-local DynamoDB endpoint ${endpoint}`);
  return endpoint;
}

/** The tables this test file created, dropped after it (drop-tables.ts). */
const created: Store[] = [];

/**
 * A fresh table (from the shared definition) in this worker's DynamoDB Local, and a store on it.
 * Without its stream unless `stream` is asked for: DynamoDB Local slows every write of the process
 * as stream records pile up (16x after 100,000), even those of tables dropped since, so one CDNOW
 * import would slow every test file after it.
 */
export async function createTestStore(prefix = 'test', options: { stream?: boolean } = {}): Promise<Store> {
  const endpoint = localEndpoint();
  const tableName = `${prefix}-${randomUUID()}`;
  await ensureTable(endpoint, tableName, { stream: options.stream ?? false });
  const store = createStore({ tableName, endpoint });
  created.push(store);
  return store;
}

/**
 * Drop every table this file created, so the worker's DynamoDB Local does not carry every earlier
 * file's items to the end of the run.
 */
export async function dropTestTables(): Promise<void> {
  const stores = created.splice(0);
  await Promise.all(
    stores.map(async (store) => {
      try {
        await store.db.send(new DeleteTableCommand({ TableName: store.tableName }));
      } catch (error) {
        // A test that dropped its own table already.
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
    }),
  );
}
