import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { env } from '../config/env.ts';

/** What every repository needs: a document client and the table it works on. */
export interface Store {
  db: DynamoDBDocumentClient;
  tableName: string;
}

export function createStore(options: { tableName: string; endpoint?: string; region?: string }): Store {
  const client = new DynamoDBClient({
    region: options.region ?? 'us-east-1',
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    retryMode: 'standard',
    maxAttempts: 3,
  });
  const db = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { db, tableName: options.tableName };
}

let defaultStore: Store | undefined;

/** The store of this cold start, built from the environment once. */
export function storeFromEnv(): Store {
  if (!defaultStore) {
    const { TABLE_NAME, DYNAMODB_ENDPOINT, AWS_REGION } = env();
    defaultStore = createStore({ tableName: TABLE_NAME, endpoint: DYNAMODB_ENDPOINT, region: AWS_REGION });
  }
  return defaultStore;
}
