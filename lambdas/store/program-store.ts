import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { CONFIG_COPIES } from '../config/capacity.ts';
import { defaultProgram, type Program } from '../schemas/program.ts';
import type { Store } from './client.ts';
import { keys, programCopyOf } from './keys.ts';
import { transactWrite } from './transactions.ts';

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

/** The program, read strongly consistently from the copy of `memberId`'s requests (or the item itself). */
export async function getProgram(store: Store, memberId?: string): Promise<ProgramRecord> {
  const key = memberId === undefined ? keys.program() : keys.programCopy(programCopyOf(memberId));
  const { Item } = await store.db.send(
    new GetCommand({ TableName: store.tableName, Key: key, ConsistentRead: true }),
  );
  return programFromItem(Item);
}

/** The program and every copy of it, in one transaction: no reader ever sees two versions. */
export async function putProgram(store: Store, program: Program, now: string): Promise<ProgramRecord> {
  const record: ProgramRecord = { ...program, updatedAt: now };
  await transactWrite(
    store,
    Array.from({ length: CONFIG_COPIES }, (_, copy) => ({
      Put: { TableName: store.tableName, Item: { ...keys.programCopy(copy), entity: 'program', ...record } },
    })),
  );
  return record;
}

/**
 * Write the copies of a program stored before there were copies (or when LOYALTY_CONFIG_COPIES
 * was raised): run at start-up by `npm start`, and documented for upgrades on AWS.
 */
export async function ensureProgramCopies(store: Store): Promise<boolean> {
  const read = (copy: number) =>
    store.db.send(
      new GetCommand({ TableName: store.tableName, Key: keys.programCopy(copy), ConsistentRead: true }),
    );
  const [{ Item }, { Item: last }] = await Promise.all([read(0), read(CONFIG_COPIES - 1)]);
  if (!Item) return false;
  // Copies are written with the item in one transaction: the last one current means all are.
  if (last && last.updatedAt === Item.updatedAt) return true;
  const record = programFromItem(Item);
  const { updatedAt: _updatedAt, ...program } = record;
  await putProgram(store, program, record.updatedAt ?? new Date().toISOString());
  return true;
}
