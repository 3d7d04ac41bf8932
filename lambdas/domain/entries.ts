import type { TransactionType, TransactionView } from '../schemas/points.ts';

type Core = Pick<TransactionView, 'id' | 'type' | 'memberId' | 'points' | 'occurredAt' | 'createdAt'>;

/**
 * A ledger entry's API view with everything a movement does not say set to its neutral value:
 * posted, no partner, no purchase fields, no related entry. Movements name only what they are.
 */
export function transactionOf(fields: Core & Partial<TransactionView>): TransactionView {
  return {
    partnerId: null,
    status: 'posted',
    availableAt: null,
    expiresAt: null,
    breakdown: [],
    orderRef: null,
    amountMinor: null,
    currency: null,
    category: null,
    channel: null,
    redemptionId: null,
    relatedTransactionId: null,
    reason: null,
    actorKeyId: null,
    ...fields,
  };
}

/**
 * A transaction as stored: its null fields left out (a ledger entry must stay under 1 KB, one
 * write unit; a dozen nulls cost ~150 bytes). {@link transactionViewOf} puts them back.
 */
export function storedTransaction(txn: TransactionView): Partial<TransactionView> {
  return Object.fromEntries(
    Object.entries(txn).filter(([, value]) => value !== null),
  ) as Partial<TransactionView>;
}

/** Rebuild a stored entry in the field order of the API (DynamoDB does not keep map key order). */
export function transactionViewOf(raw: Record<string, unknown>): TransactionView {
  const nullable = <T>(value: unknown) => (value ?? null) as T | null;
  return {
    id: String(raw.id),
    type: raw.type as TransactionType,
    memberId: String(raw.memberId),
    partnerId: nullable<string>(raw.partnerId),
    points: Number(raw.points),
    status: raw.status as TransactionView['status'],
    availableAt: nullable<string>(raw.availableAt),
    expiresAt: nullable<string>(raw.expiresAt),
    breakdown: ((raw.breakdown as { rule: string; points: number }[]) ?? []).map((line) => ({
      rule: line.rule,
      points: Number(line.points),
    })),
    orderRef: nullable<string>(raw.orderRef),
    amountMinor: nullable<number>(raw.amountMinor),
    currency: nullable<string>(raw.currency),
    category: nullable<string>(raw.category),
    channel: nullable<string>(raw.channel),
    redemptionId: nullable<string>(raw.redemptionId),
    relatedTransactionId: nullable<string>(raw.relatedTransactionId),
    reason: nullable<string>(raw.reason),
    actorKeyId: nullable<string>(raw.actorKeyId),
    occurredAt: String(raw.occurredAt),
    createdAt: String(raw.createdAt),
  };
}
