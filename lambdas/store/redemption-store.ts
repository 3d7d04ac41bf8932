import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { LotPoints } from '../domain/member-ledger.ts';
import type { RedemptionView } from '../schemas/points.ts';
import type { Store } from './client.ts';
import { keys, shardOf } from './keys.ts';
import type { TransactItem } from './transactions.ts';

/**
 * A redemption's current state. Its ledger entries are immutable (the `redeem` entry at capture,
 * `refund` entries later); this item is what changes: held → captured | released, captured →
 * refunded, with a version so every change is applied to the state it was planned on.
 */
export interface RedemptionRecord {
  redemption: RedemptionView;
  /** The lots the captured points came from (soonest-expiring first): refunds give them back. */
  consumed: LotPoints[];
  /** The partner's reimbursement rate when the points were captured (0 before). */
  reimbursementRateMinor: number;
  /** Whether a unit of the reward's finite stock was taken (and goes back on release or refund). */
  rewardUnitTaken: boolean;
  version: number;
}

/** Rebuild the view in API field order (DynamoDB does not keep map key order). */
export function redemptionViewOf(raw: Record<string, unknown>): RedemptionView {
  const nullable = <T>(value: unknown) => (value ?? null) as T | null;
  const status = raw.status as RedemptionView['status'];
  const points = Number(raw.points);
  return {
    id: String(raw.id),
    transactionId: nullable<string>(raw.transactionId),
    memberId: String(raw.memberId),
    partnerId: nullable<string>(raw.partnerId),
    status,
    points,
    // Redemptions written before holds existed were captured whole and never refunded.
    capturedPoints: raw.capturedPoints === undefined ? points : Number(raw.capturedPoints),
    refundedPoints: Number(raw.refundedPoints ?? 0),
    valueMinor: Number(raw.valueMinor),
    currency: String(raw.currency),
    rewardId: nullable<string>(raw.rewardId),
    orderRef: nullable<string>(raw.orderRef),
    holdExpiresAt: nullable<string>(raw.holdExpiresAt),
    createdAt: String(raw.createdAt),
    updatedAt: String(raw.updatedAt ?? raw.createdAt),
  };
}

export function redemptionFromItem(item: Record<string, unknown>): RedemptionRecord {
  return {
    redemption: redemptionViewOf(item.redemption as Record<string, unknown>),
    consumed: ((item.consumed as LotPoints[] | undefined) ?? []).map((lot) => ({
      expiryKey: String(lot.expiryKey),
      points: Number(lot.points),
    })),
    reimbursementRateMinor: Number(item.reimbursementRateMinor ?? 0),
    rewardUnitTaken: Boolean(item.rewardUnitTaken),
    version: Number(item.version ?? 0),
  };
}

/**
 * A held redemption is on the hold due index until it is captured or released, under its member:
 * the job settles the member, which releases every hold of it that has expired.
 */
function holdIndex(record: RedemptionRecord): Record<string, string> {
  const { redemption } = record;
  return redemption.status === 'held' && redemption.holdExpiresAt
    ? keys.due('hold', shardOf(redemption.memberId), redemption.holdExpiresAt, redemption.memberId)
    : {};
}

export function putNewRedemption(store: Store, record: RedemptionRecord): TransactItem {
  return {
    Put: {
      TableName: store.tableName,
      Item: {
        ...keys.redemption(record.redemption.id),
        entity: 'redemption',
        ...record,
        ...holdIndex(record),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/**
 * Replace a redemption's state, only if it is still the version it was planned on. Leaving the
 * `held` state takes it off the hold due index.
 */
export function updateRedemption(
  store: Store,
  before: RedemptionRecord,
  after: RedemptionRecord,
): TransactItem {
  const index = holdIndex(after);
  const stillHeld = Object.keys(index).length > 0;
  return {
    Put: {
      TableName: store.tableName,
      Item: {
        ...keys.redemption(after.redemption.id),
        entity: 'redemption',
        ...after,
        version: before.version + 1,
        ...(stillHeld ? index : {}),
      },
      ConditionExpression: 'version = :version',
      ExpressionAttributeValues: { ':version': before.version },
    },
  };
}

/**
 * A hold released because it expired, found while settling its member: status `released`, off
 * the hold due index. Conditioned on still being held (the member's version condition already
 * rules out a concurrent capture; this keeps the item honest on its own).
 */
export function releaseHeldRedemption(store: Store, redemptionId: string, now: string): TransactItem {
  return {
    Update: {
      TableName: store.tableName,
      Key: keys.redemption(redemptionId),
      UpdateExpression:
        'SET #r.#status = :released, #r.updatedAt = :now ADD version :one REMOVE gsi6pk, gsi6sk',
      ConditionExpression: '#r.#status = :held',
      ExpressionAttributeNames: { '#r': 'redemption', '#status': 'status' },
      ExpressionAttributeValues: { ':released': 'released', ':held': 'held', ':now': now, ':one': 1 },
    },
  };
}

export async function getRedemption(
  store: Store,
  redemptionId: string,
): Promise<RedemptionRecord | undefined> {
  const { Item } = await store.db.send(
    new GetCommand({ TableName: store.tableName, Key: keys.redemption(redemptionId), ConsistentRead: true }),
  );
  return Item ? redemptionFromItem(Item) : undefined;
}
