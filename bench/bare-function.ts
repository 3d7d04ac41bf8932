/**
 * The cold-start baseline: a function that only creates a DynamoDB client and sends one GetItem.
 * Bundled and imported exactly as our functions are (bench/bundles.ts), so the ratio of each of our
 * functions to this one is what our code adds to the SDK's own start-up.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

const client = new DynamoDBClient({});

export const handler = async (event: { id?: string }) => {
  const { Item } = await client.send(
    new GetItemCommand({
      TableName: process.env.TABLE_NAME ?? 'loyalty',
      Key: { pk: { S: event.id ?? 'x' }, sk: { S: 'STATE' } },
    }),
  );
  return { found: Item !== undefined };
};
