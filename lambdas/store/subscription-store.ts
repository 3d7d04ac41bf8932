import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { nextDueAt, type Subscription } from '../domain/subscriptions.ts';
import type { Store } from './client.ts';
import { keys, shardOf } from './keys.ts';
import type { TransactItem } from './transactions.ts';

/** A member's latest subscription as stored, with the version its next write is conditioned on. */
export interface SubscriptionRecord {
  subscription: Subscription;
  version: number;
}

export function subscriptionFromItem(item: Record<string, unknown>): SubscriptionRecord {
  return { subscription: item.subscription as Subscription, version: Number(item.version) };
}

/** The renewal due index entry: the subscription's next transition or bonus, under its member. */
function renewalIndex(subscription: Subscription): Record<string, string> {
  const due = nextDueAt(subscription);
  return due === null ? {} : keys.due('renewal', shardOf(subscription.memberId), due, subscription.memberId);
}

/**
 * Write a member's latest subscription: a new one only where there is none or the previous one
 * (read at `replacing`) is unchanged; an update only at the version it was computed from.
 */
export function putSubscription(
  store: Store,
  subscription: Subscription,
  previousVersion: number | null,
): TransactItem {
  return {
    Put: {
      TableName: store.tableName,
      Item: {
        ...keys.memberSubscription(subscription.memberId),
        entity: 'subscription',
        subscription,
        version: (previousVersion ?? 0) + 1,
        ...renewalIndex(subscription),
      },
      ConditionExpression: previousVersion === null ? 'attribute_not_exists(pk)' : 'version = :version',
      ...(previousVersion === null ? {} : { ExpressionAttributeValues: { ':version': previousVersion } }),
    },
  };
}

/** The sub_ id → member pointer of a new subscription. */
export function putSubscriptionPointer(store: Store, subscription: Subscription): TransactItem {
  return {
    Put: {
      TableName: store.tableName,
      Item: {
        ...keys.subscription(subscription.id),
        entity: 'subscriptionPointer',
        memberId: subscription.memberId,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** Keep the final state of a subscription a new one replaces, under its own id. */
export function archiveSubscription(store: Store, subscription: Subscription): TransactItem {
  return {
    Update: {
      TableName: store.tableName,
      Key: keys.subscription(subscription.id),
      UpdateExpression: 'SET archived = :subscription',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':subscription': subscription },
    },
  };
}

/** Where a subscription lives: its member, and its final state if a later one replaced it. */
export async function findSubscription(
  store: Store,
  subscriptionId: string,
): Promise<{ memberId: string; archived: Subscription | undefined } | undefined> {
  const { Item } = await store.db.send(
    new GetCommand({
      TableName: store.tableName,
      Key: keys.subscription(subscriptionId),
      ConsistentRead: true,
    }),
  );
  if (!Item) return undefined;
  return { memberId: String(Item.memberId), archived: Item.archived as Subscription | undefined };
}
