/**
 * The raw baseline: the very BatchGetItem and TransactWriteItems our code sent for one probe request, replayed
 * with fresh ids. The probe captured the marshalled input as it went on the wire; here its JSON
 * is a template in which the probe's own ids (member, transaction, redemption, idempotency key,
 * order reference) are swapped for fresh ones of the same length, so every item keeps its shape,
 * attributes, expressions and byte size, and only the member version, the counter shards and the
 * program copy are re-pointed at the new member. The baseline therefore pays for DynamoDB, HTTP and the SDK's
 * low-level client, and nothing of ours.
 */
import type {
  AttributeValue,
  BatchGetItemCommandInput,
  TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import { counterShardOf, keys, programCopyOf } from '../lambdas/store/keys.ts';

/** The ids one request put into its items, by role. */
export type RequestIds = Record<string, string>;

export interface TransactionTemplate {
  json: string;
  ids: RequestIds;
  itemCount: number;
}

export function templateOf(input: Record<string, unknown>, ids: RequestIds): TransactionTemplate {
  const json = JSON.stringify({ TransactItems: input.TransactItems });
  for (const [role, value] of Object.entries(ids)) {
    if (!json.includes(value)) throw new Error(`the captured transaction does not contain its ${role}`);
  }
  return { json, ids, itemCount: (input.TransactItems as unknown[]).length };
}

type TransactItems = NonNullable<TransactWriteItemsCommandInput['TransactItems']>;

/** The template's items for another member (at `version`) with fresh ids of the same roles. */
export function instantiate(
  template: TransactionTemplate,
  fresh: RequestIds & { memberId: string },
  version: number,
): TransactWriteItemsCommandInput {
  let json = template.json;
  for (const [role, old] of Object.entries(template.ids)) {
    const value = fresh[role];
    if (value === undefined || value.length !== old.length) {
      throw new Error(`fresh ${role} ${value} must have the length of ${old} to keep item sizes`);
    }
    json = json.replaceAll(old, value);
  }
  const { TransactItems } = JSON.parse(json) as { TransactItems: TransactItems };
  retarget(TransactItems, fresh.memberId, version);
  return { TransactItems };
}

/** Point the version condition at the member's current version and the aggregate at its shard. */
function retarget(items: TransactItems, memberId: string, version: number): void {
  let memberUpdates = 0;
  for (const { Update } of items) {
    const pk = Update?.Key?.pk?.S ?? '';
    const values = Update?.ExpressionAttributeValues as Record<string, AttributeValue> | undefined;
    if (Update && pk.startsWith('MEMBER#') && values?.[':version'] && values[':next']) {
      values[':version'] = { N: String(version) };
      values[':next'] = { N: String(version + 1) };
      memberUpdates++;
    }
    // The counters of the new member's shard (the partition follows the shard).
    if (Update && pk.startsWith('AGG#')) {
      const day = String(Update.Key?.sk?.S).split('#')[0] as string;
      const { pk: shardPk, sk } = keys.aggregate(day, pk.split('#')[1] as string, counterShardOf(memberId));
      Update.Key = { pk: { S: shardPk }, sk: { S: sk } };
    }
    if (Update && pk.startsWith('KPI#')) {
      const { pk: shardPk, sk } = keys.kpi(pk.split('#')[1] as string, counterShardOf(memberId));
      Update.Key = { pk: { S: shardPk }, sk: { S: sk } };
    }
  }
  if (memberUpdates !== 1) throw new Error('expected one version-conditioned member update to retarget');
}

/** The read our code sent (member, program, partner, key…), with the probe member's id to swap. */
export interface ReadTemplate {
  json: string;
  memberId: string;
  keyCount: number;
}

export function readTemplateOf(input: Record<string, unknown>, memberId: string): ReadTemplate {
  const json = JSON.stringify({ RequestItems: input.RequestItems });
  if (!json.includes(memberId)) throw new Error('the captured BatchGetItem does not read the member');
  const tables = Object.values(input.RequestItems as Record<string, { Keys: unknown[] }>);
  return { json, memberId, keyCount: tables.reduce((total, table) => total + table.Keys.length, 0) };
}

/** The same read for another member (same id length, so the same request size). */
export function instantiateRead(template: ReadTemplate, memberId: string): BatchGetItemCommandInput {
  if (memberId.length !== template.memberId.length) throw new Error('member ids must have the same length');
  const input = JSON.parse(template.json.replaceAll(template.memberId, memberId)) as BatchGetItemCommandInput;
  // The program copy the new member's requests read.
  const copy = keys.programCopy(programCopyOf(memberId));
  for (const table of Object.values(input.RequestItems ?? {})) {
    table.Keys = table.Keys?.map((key) =>
      String(key.pk?.S).startsWith('PROGRAM') ? { pk: { S: copy.pk }, sk: { S: copy.sk } } : key,
    );
  }
  return input;
}
