import type { Store } from './client.ts';
import { keys } from './keys.ts';
import type { TransactItem } from './transactions.ts';

/** An event that is not a ledger entry (envelope fields besides `version`, which is always 1). */
export interface OutboxEvent {
  id: string;
  type: string;
  occurredAt: string;
  memberId?: string;
  partnerId: string | null;
  data: Record<string, unknown>;
}

/**
 * An event written as an outbox item in the change's transaction: its stream insert is published
 * like a ledger entry's. The key is the event's natural identity (`<type>#<subject>#…`), so the
 * conditional put makes it happen once however often the change is retried.
 */
export function putOutboxEvent(store: Store, dedupeKey: string, event: OutboxEvent): TransactItem {
  return {
    Put: {
      TableName: store.tableName,
      Item: {
        ...keys.outboxEvent(dedupeKey),
        entity: 'event',
        event: { ...event, version: 1 },
        ...keys.feed(event.id, event.partnerId),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}
