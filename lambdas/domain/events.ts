/**
 * The domain events: the envelope, and how an inserted item is its event. A ledger entry, an outbox
 * item and a member item (its enrolment) each carry exactly one event; the stream publisher and the
 * events feed both build events with `eventOfItem`, so what is published and what is replayed agree.
 */
import type { TransactionType } from '../schemas/points.ts';
import { transactionViewOf } from './entries.ts';

/** The envelope of every domain event (PRODUCT.md, "Events"). Consumers dedupe by `id`. */
export interface LoyaltyEvent {
  id: string;
  type: string;
  version: 1;
  occurredAt: string;
  memberId?: string;
  partnerId: string | null;
  data: Record<string, unknown>;
}

/**
 * Ledger type → event type, for every type (a new type fails to compile until it has its event).
 * Points credited other than by a purchase are `points.earned` too; `data.type` says which.
 */
export const eventTypeOf: Record<TransactionType, string> = {
  earn: 'points.earned',
  activity: 'points.earned',
  bonus: 'points.earned',
  redeem: 'points.redeemed',
  reverse: 'points.reversed',
  refund: 'points.refunded',
  expire: 'points.expired',
  adjust: 'points.adjusted',
  transfer_in: 'points.transferred',
  transfer_out: 'points.transferred',
  forfeit: 'points.forfeited',
};

/**
 * The `entity` of every item whose insert is an event (eventOfItem): the stream filter of the
 * publisher on AWS passes exactly these.
 */
export const EVENT_ENTITIES = ['ledger', 'event', 'member'] as const;

/**
 * The event an inserted item carries (undefined: none). A ledger entry's id is derived from its
 * transaction id (`txn_X` → `evt_X`), so a redelivered record yields the same event id;
 * `occurredAt` is when the entry was written, the business time is in `data`.
 */
export function eventOfItem(item: Record<string, unknown>): LoyaltyEvent | undefined {
  if (item.entity === 'event') return outboxEventOf(item);
  if (item.entity === 'member') return enrolmentOf(item);
  if (item.entity !== 'ledger') return undefined;

  // The entry's `txn` map is the transaction as the API shows it: the event is built from it alone.
  const txn = item.txn as Record<string, unknown> | undefined;
  const txnId = String(txn?.id ?? '');
  if (!txn || !txnId.startsWith('txn_') || typeof txn.type !== 'string' || !txn.memberId) {
    throw new Error(`malformed ledger entry ${JSON.stringify({ pk: item.pk, sk: item.sk, txnId })}`);
  }
  return {
    id: `evt_${txnId.slice('txn_'.length)}`,
    type: eventTypeOf[txn.type as TransactionType] ?? `points.${txn.type}`,
    version: 1,
    occurredAt: String(txn.createdAt),
    memberId: String(txn.memberId),
    partnerId: (txn.partnerId as string | null | undefined) ?? null,
    // The transaction as the API shows it (stored entries leave their null fields out).
    data: transactionViewOf(txn),
  };
}

/**
 * `member.enrolled`: a member item is inserted exactly once, when the member is enrolled (by the
 * API or an import), so its insert is the event; the id follows from the member's (`mem_X` → `evt_X`).
 */
function enrolmentOf(item: Record<string, unknown>): LoyaltyEvent {
  const memberId = String(item.id ?? '');
  if (!memberId.startsWith('mem_')) {
    throw new Error(`malformed member item ${JSON.stringify({ pk: item.pk, sk: item.sk })}`);
  }
  return {
    id: `evt_${memberId.slice('mem_'.length)}`,
    type: 'member.enrolled',
    version: 1,
    occurredAt: String(item.createdAt),
    memberId,
    partnerId: (item.enrolledBy as string | null | undefined) ?? null,
    data: {
      memberId,
      enrolledAt: item.enrolledAt,
      source: (item.enrolledVia as string | undefined) ?? 'api',
    },
  };
}

/** An outbox item (an event that is not a ledger entry, e.g. reward.out_of_stock) carries its envelope. */
function outboxEventOf(item: Record<string, unknown>): LoyaltyEvent {
  const event = item.event as Record<string, unknown> | undefined;
  if (!event || typeof event.id !== 'string' || typeof event.type !== 'string') {
    throw new Error(`malformed outbox event ${JSON.stringify({ pk: item.pk, sk: item.sk })}`);
  }
  return {
    id: event.id,
    type: event.type,
    version: 1,
    occurredAt: String(event.occurredAt),
    ...(typeof event.memberId === 'string' ? { memberId: event.memberId } : {}),
    partnerId: (event.partnerId as string | null | undefined) ?? null,
    data: (event.data as Record<string, unknown>) ?? {},
  };
}
