import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { storedTransaction, transactionViewOf } from '../domain/entries.ts';
import { ValidationError } from '../domain/errors.ts';
import { COALITION } from '../domain/namespaces.ts';
import type { Balances } from '../schemas/members.ts';
import type { ReversalView, TransactionType, TransactionView, TransferView } from '../schemas/points.ts';
import type { Store } from './client.ts';
import { counterShardOf, keys } from './keys.ts';
import { decodeCursor, encodeCursor } from './pagination.ts';
import { redemptionViewOf } from './redemption-store.ts';
import type { TransactItem } from './transactions.ts';

/**
 * The attributes that turn an idempotency record into a ledger entry: the entry is immutable, its
 * stream insert is the outbox event, and gsi1/gsi3 serve history (all, one partner's) and gsi2
 * lookup by id.
 */
export function ledgerEntryAttributes(txn: TransactionView, extra: Record<string, unknown> = {}) {
  return {
    entity: 'ledger',
    // Only what indexes filter on sits beside `txn` (the API view): entries stay under 1 KB.
    type: txn.type,
    createdAt: txn.createdAt,
    txn: storedTransaction(txn),
    ...extra,
    ...keys.memberHistory(txn.memberId, txn.id),
    ...(txn.partnerId ? keys.partnerHistory(txn.memberId, txn.partnerId, txn.id) : {}),
    ...keys.publicId(txn.id),
    ...keys.feed(`evt_${txn.id.slice('txn_'.length)}`, txn.partnerId),
  };
}

/**
 * One earn per (partner, orderRef): a second one fails this condition. The guard also carries the
 * earn's reversals so far (returns), so they never add up to more than was earned.
 */
export function putOrderGuard(
  store: Store,
  partnerId: string,
  orderRef: string,
  txnId: string,
  memberId: string,
): TransactItem {
  return {
    Put: {
      TableName: store.tableName,
      Item: {
        ...keys.order(partnerId, orderRef),
        entity: 'order',
        txnId,
        memberId,
        reversedPoints: 0,
        reversedAmountMinor: 0,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** What an earn's order guard says about the earn and its reversals so far. */
export interface OrderReversals {
  txnId: string;
  reversedPoints: number;
  reversedAmountMinor: number;
}

export function orderReversalsOf(item: Record<string, unknown>): OrderReversals {
  return {
    txnId: String(item.txnId),
    reversedPoints: Number(item.reversedPoints ?? 0),
    reversedAmountMinor: Number(item.reversedAmountMinor ?? 0),
  };
}

/** An earn's order guard, read consistently (undefined when the partner has no earn for the order). */
export async function getOrderGuard(
  store: Store,
  partnerId: string,
  orderRef: string,
): Promise<OrderReversals | undefined> {
  const { Item } = await store.db.send(
    new GetCommand({
      TableName: store.tableName,
      Key: keys.order(partnerId, orderRef),
      ConsistentRead: true,
    }),
  );
  return Item ? orderReversalsOf(Item) : undefined;
}

/** One award per (member, activity type, ref): a second one fails this condition. */
export function putActivityGuard(
  store: Store,
  memberId: string,
  type: string,
  ref: string,
  txnId: string,
): TransactItem {
  return {
    Put: {
      TableName: store.tableName,
      Item: { ...keys.activity(memberId, type, ref), entity: 'activity', txnId },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** Record a reversal on the earn's guard, only if no other reversal was recorded since it was read. */
export function recordReversal(
  store: Store,
  partnerId: string,
  orderRef: string,
  before: OrderReversals,
  after: { reversedPoints: number; reversedAmountMinor: number },
): TransactItem {
  return {
    Update: {
      TableName: store.tableName,
      Key: keys.order(partnerId, orderRef),
      UpdateExpression: 'SET reversedPoints = :points, reversedAmountMinor = :amount',
      // Guards written before reversals existed have no counters yet.
      ConditionExpression:
        '(reversedPoints = :seen OR attribute_not_exists(reversedPoints)) AND txnId = :txn',
      ExpressionAttributeValues: {
        ':points': after.reversedPoints,
        ':amount': after.reversedAmountMinor,
        ':seen': before.reversedPoints,
        ':txn': before.txnId,
      },
    },
  };
}

/** A ledger entry's stored attributes by its public id (gsi2 → table key → consistent read). */
export async function findLedgerEntry(
  store: Store,
  txnId: string,
): Promise<Record<string, unknown> | undefined> {
  const found = await store.db.send(
    new QueryCommand({
      TableName: store.tableName,
      IndexName: 'gsi2',
      KeyConditionExpression: 'gsi2pk = :id',
      ExpressionAttributeValues: { ':id': keys.publicId(txnId).gsi2pk },
    }),
  );
  const tableKey = found.Items?.[0];
  if (!tableKey) return undefined;
  const { Item } = await store.db.send(
    new GetCommand({
      TableName: store.tableName,
      Key: { pk: tableKey.pk, sk: tableKey.sk },
      ConsistentRead: true,
    }),
  );
  return Item?.entity === 'ledger' ? Item : undefined;
}

export interface AggregateDelta {
  issuedPoints?: number;
  redeemedPoints?: number;
  earnCount?: number;
  redemptionCount?: number;
  earnAmountMinor?: number;
  expiredPoints?: number;
  /** issuedPoints × the partner's funding rate at the time: what the partner owes the coalition. */
  fundingMinor?: number;
  /** redeemedPoints × the partner's reimbursement rate at the time: what the coalition owes it. */
  reimbursementMinor?: number;
  /** Points taken back from earns at the partner (returns), and the funding they had charged. */
  reversedPoints?: number;
  reversedFundingMinor?: number;
  /** Points refunded of redemptions at the partner, and the reimbursement they had charged. */
  refundedPoints?: number;
  refundedReimbursementMinor?: number;
  /** Net change of points reserved by holds (+ hold, − capture or release). */
  heldPoints?: number;
  /** Admin corrections (signed), coalition-funded. */
  adjustedPoints?: number;
  /** Points moved between members: out = in coalition-wide. */
  transferredOutPoints?: number;
  transferredInPoints?: number;
  /** Points forfeited at erasure. */
  forfeitedPoints?: number;
  activityCount?: number;
  /** Survey answers (NPS: promoters 9–10, detractors 0–6). */
  surveyResponses?: number;
  surveyPromoters?: number;
  surveyDetractors?: number;
  /** Subscription-bonus points credited (coalition-funded; not in issuedPoints). */
  bonusPoints?: number;
  /**
   * Of issuedPoints, those campaigns added: on a partner's counters its own campaigns' (it funds
   * them), on the coalition's the coalition-wide campaigns' (the coalition funds them).
   */
  campaignPoints?: number;
  /**
   * Paid membership: changes of the number of subscriptions in each live state and of the
   * recurring revenue (twelfths of a minor unit per month, exact), and the transitions counted.
   */
  subscriptionsTrialing?: number;
  subscriptionsActive?: number;
  subscriptionsPastDue?: number;
  mrrTwelfthsMinor?: number;
  subscriptionsStarted?: number;
  subscriptionsRenewed?: number;
  subscriptionsWentPastDue?: number;
  subscriptionsCanceled?: number;
  subscriptionsExpired?: number;
  /** What the PSP collected for memberships (succeeded payments). */
  subscriptionRevenueMinor?: number;
  /** Of issuedPoints, those of activities (the rest are purchases). */
  activityPoints?: number;
  /** The purchase amount a return gave back (the deferred-revenue cohort's price shrinks by it). */
  reversedAmountMinor?: number;
  /**
   * The members' positions (domain/position.ts), added by every write of a member: available (may
   * be negative), held, debt, pending (on the earning partner's counters) and points by expiry month.
   */
  posAvailable?: number;
  posHeld?: number;
  posDebt?: number;
  posPending?: number;
  [expiryBucket: `exp_${string}`]: number | undefined;
}

/** Add to the day × partner counters on the member's shard (ADD commutes: no read, no condition). */
export function addToAggregate(
  store: Store,
  day: string,
  partnerId: string | null,
  memberId: string,
  delta: AggregateDelta,
): TransactItem {
  const entries = Object.entries(delta).filter(([, value]) => value !== undefined && value !== 0);
  // An ADD of nothing is not an expression DynamoDB accepts: callers skip deltas that net to 0.
  if (entries.length === 0) throw new Error('an aggregate delta with nothing to add');
  return {
    Update: {
      TableName: store.tableName,
      Key: keys.aggregate(day, partnerId ?? COALITION, counterShardOf(memberId)),
      UpdateExpression: `SET entity = :entity ADD ${entries.map((_, i) => `#c${i} :c${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(entries.map(([name], i) => [`#c${i}`, name])),
      ExpressionAttributeValues: {
        ':entity': 'aggregate',
        ...Object.fromEntries(entries.map(([, value], i) => [`:c${i}`, value])),
      },
    },
  };
}

const MAX_READS_PER_PAGE = 10;

export interface HistoryQuery {
  memberId: string;
  limit: number;
  cursor?: string;
  type?: TransactionType;
  /** Set for partner keys: only entries made at this partner. */
  partnerId?: string;
}

/**
 * A member's ledger, newest first. Filters (type, partner) are applied by DynamoDB after the key
 * condition, so a page is filled by reading on until `limit` entries match or the history ends.
 */
export async function listHistory(
  store: Store,
  query: HistoryQuery,
): Promise<{ items: TransactionView[]; nextCursor: string | null }> {
  // A partner reads its own index (gsi3): its pages, and so its cursors, hold only its own entries.
  const index = query.partnerId
    ? { name: 'gsi3', ...prefixed('gsi3', keys.partnerHistory(query.memberId, query.partnerId)) }
    : { name: 'gsi1', ...prefixed('gsi1', keys.memberHistory(query.memberId)) };
  let startKey = await historyStartKey(store, query.cursor, index);
  const values: Record<string, unknown> = { ':pk': index.pk, ':prefix': 'TXN#' };
  if (query.type) values[':type'] = query.type;
  const items: TransactionView[] = [];
  let lastKey: Record<string, unknown> | undefined;
  let reads = 0;
  do {
    const result = await store.db.send(
      new QueryCommand({
        TableName: store.tableName,
        IndexName: index.name,
        KeyConditionExpression: `${index.pkName} = :pk AND begins_with(${index.skName}, :prefix)`,
        ExpressionAttributeValues: values,
        ...(query.type
          ? { ExpressionAttributeNames: { '#type': 'type' }, FilterExpression: '#type = :type' }
          : {}),
        ScanIndexForward: false,
        Limit: query.limit - items.length,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of result.Items ?? []) items.push(transactionViewOf(item.txn as Record<string, unknown>));
    lastKey = result.LastEvaluatedKey;
    startKey = lastKey as Record<string, string> | undefined;
    reads++;
    // A type filter over a long history may be sparse: answer a short page with a cursor rather
    // than reading on for longer than a request should take.
  } while (lastKey && items.length < query.limit && reads < MAX_READS_PER_PAGE);
  // The cursor names only the last entry's transaction id: its table key holds an Idempotency-Key,
  // which is the caller's secret (or an admin's), never something to hand out in a cursor.
  const lastTxn = lastKey ? String(lastKey[index.skName]).slice('TXN#'.length) : undefined;
  return { items, nextCursor: lastTxn ? encodeCursor({ t: lastTxn }) : null };
}

/**
 * What a ledger entry's API response holds besides balances, in order: the transaction, the
 * redemption, a reversal's or a transfer's outcome. Each is an attribute of the entry.
 */
export type ResponsePart = 'transaction' | 'redemption' | 'reversal' | 'transfer';

const renderPart: Record<ResponsePart, (entry: Record<string, unknown>) => unknown> = {
  transaction: (entry) => transactionViewOf(entry.txn as Record<string, unknown>),
  redemption: (entry) => redemptionViewOf(entry.redemption as Record<string, unknown>),
  reversal: (entry) => reversalViewOf(entry.reversal as Record<string, unknown>),
  transfer: (entry) => transferViewOf(entry.transfer as Record<string, unknown>),
};

/**
 * The response body of a point movement, rendered from the attributes its ledger entry stores:
 * the first answer and every replay come from this one function, so they are byte-identical,
 * and the entry does not carry a second copy of itself as text.
 */
export function ledgerResponseBody(entry: Record<string, unknown>): string {
  // Entries written before responseParts existed name their shape (redemption) or imply it.
  const parts =
    (entry.responseParts as ResponsePart[] | undefined) ??
    (entry.responseShape === 'redemption' ? ['redemption'] : ['transaction']);
  const body: Record<string, unknown> = {};
  for (const part of parts) body[part] = renderPart[part](entry);
  if (entry.balances) body.balances = balancesViewOf(entry.balances as Record<string, unknown>);
  return JSON.stringify(body);
}

function reversalViewOf(raw: Record<string, unknown>): ReversalView {
  return {
    earnTransactionId: String(raw.earnTransactionId),
    requestedPoints: Number(raw.requestedPoints),
    reversedPoints: Number(raw.reversedPoints),
    cancelledPendingPoints: Number(raw.cancelledPendingPoints),
    shortfallPoints: Number(raw.shortfallPoints),
  };
}

function transferViewOf(raw: Record<string, unknown>): TransferView {
  return { toMemberId: String(raw.toMemberId), inTransactionId: String(raw.inTransactionId) };
}

function balancesViewOf(raw: Record<string, unknown>): Balances {
  const next = raw.expiringNext as { points: unknown; on: unknown } | null | undefined;
  return {
    available: Number(raw.available),
    pending: Number(raw.pending),
    reserved: Number(raw.reserved),
    lifetimeEarned: Number(raw.lifetimeEarned),
    lifetimeRedeemed: Number(raw.lifetimeRedeemed),
    expiringNext: next ? { points: Number(next.points), on: String(next.on) } : null,
  };
}

/** An index's key names and this query's partition value, from a `{ gsiNpk, gsiNsk }` key pair. */
function prefixed(name: 'gsi1' | 'gsi3', key: Record<string, string>) {
  return { pkName: `${name}pk`, skName: `${name}sk`, pk: String(key[`${name}pk`]) };
}

/**
 * The DynamoDB start key of a history cursor (`{ t: txnId }`): the entry's table key is found
 * through gsi2 and the entry must lie in the listed partition. Anything else is a 400.
 */
async function historyStartKey(
  store: Store,
  cursor: string | undefined,
  index: { pkName: string; skName: string; pk: string },
): Promise<Record<string, string> | undefined> {
  const decoded = decodeCursor(cursor, { t: { prefix: 'txn_' } });
  if (!decoded) return undefined;
  const invalid = () =>
    new ValidationError([{ path: 'query.cursor', message: 'is not a cursor this list returned' }]);
  const txnId = decoded.t as string;
  if (!/^txn_[0-9A-HJKMNP-TV-Z]{26}$/.test(txnId)) throw invalid();
  const Item = await findLedgerEntry(store, txnId);
  if (!Item || Item[index.pkName] !== index.pk) throw invalid();
  return {
    pk: String(Item.pk),
    sk: String(Item.sk),
    [index.pkName]: index.pk,
    [index.skName]: `TXN#${txnId}`,
  };
}
