import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { defaultProgram, type Program } from '../schemas/program.ts';
import type { Store } from './client.ts';
import { keys } from './keys.ts';

export interface ProgramRecord extends Program {
  updatedAt: string | null;
}

/** Strip storage attributes and fill defaults for fields added after the record was written. */
export function programFromItem(item: Record<string, unknown> | undefined): ProgramRecord {
  if (!item) return { ...defaultProgram, updatedAt: null };
  const { pk: _pk, sk: _sk, entity: _entity, ...stored } = item;
  return {
    ...defaultProgram,
    ...(stored as Partial<ProgramRecord>),
    updatedAt: (stored.updatedAt as string) ?? null,
  };
}

export async function getProgram(store: Store): Promise<ProgramRecord> {
  const { Item } = await store.db.send(
    new GetCommand({ TableName: store.tableName, Key: keys.program(), ConsistentRead: true }),
  );
  return programFromItem(Item);
}

export async function putProgram(store: Store, program: Program, now: string): Promise<ProgramRecord> {
  const record: ProgramRecord = { ...program, updatedAt: now };
  await store.db.send(
    new PutCommand({ TableName: store.tableName, Item: { ...keys.program(), entity: 'program', ...record } }),
  );
  return record;
}
