import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../domain/errors.ts';
import type { Partner, UpdatePartnerBody } from '../schemas/partners.ts';
import type { Store } from './client.ts';
import { keys } from './keys.ts';
import { listPartition } from './pagination.ts';
import { patchExisting } from './patch.ts';
import type { TransactItem } from './transactions.ts';

export function partnerFromItem(item: Record<string, unknown>): Partner {
  return {
    id: String(item.id),
    name: String(item.name),
    earnRule: item.earnRule as Partner['earnRule'],
    categoryMultipliers: (item.categoryMultipliers as Record<string, number>) ?? {},
    fundingRateMinor: Number(item.fundingRateMinor),
    reimbursementRateMinor: Number(item.reimbursementRateMinor),
    status: item.status as Partner['status'],
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
  };
}

export function putNewPartner(store: Store, partner: Partner): TransactItem {
  return {
    Put: {
      TableName: store.tableName,
      Item: { ...keys.partner(partner.id), entity: 'partner', ...partner },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

export async function getPartner(store: Store, partnerId: string): Promise<Partner | undefined> {
  const { Item } = await store.db.send(
    new GetCommand({ TableName: store.tableName, Key: keys.partner(partnerId), ConsistentRead: true }),
  );
  return Item ? partnerFromItem(Item) : undefined;
}

export function listPartners(
  store: Store,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: Partner[]; nextCursor: string | null }> {
  return listPartition(
    store,
    { pk: keys.partnersPartition(), skPrefix: keys.partnerSkPrefix() },
    { limit, cursor },
    partnerFromItem,
  );
}

/** Every partner, suspended ones too (a coalition has tens: a few pages of one partition). */
export async function allPartners(store: Store): Promise<Partner[]> {
  const partners: Partner[] = [];
  let cursor: string | undefined;
  do {
    const page = await listPartners(store, 100, cursor);
    partners.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return partners;
}

export async function updatePartner(
  store: Store,
  partnerId: string,
  changes: UpdatePartnerBody,
  now: string,
): Promise<Partner> {
  const item = await patchExisting(store, keys.partner(partnerId), changes, now);
  if (!item) throw new NotFoundError(`No partner ${partnerId}.`);
  return partnerFromItem(item);
}
