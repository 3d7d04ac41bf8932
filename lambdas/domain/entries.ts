import type { TransactionView } from '../schemas/points.ts';

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
