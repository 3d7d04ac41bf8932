import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { transactionViewOf } from '../domain/entries.ts';
import { logger } from '../http/logger.ts';
import type { TransactionType } from '../schemas/points.ts';

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

export const EVENT_SOURCE = 'loyalty.api';
/** PutEvents takes at most 10 entries per call. */
const MAX_ENTRIES = 10;

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
 * The event of one stream record: `undefined` for anything but the insert of a ledger entry.
 * The id is derived from the transaction id (`txn_X` → `evt_X`), so a redelivered record yields the
 * same event id. `occurredAt` is when the entry was written; the business time is in `data`.
 */
export function eventOfRecord(record: DynamoDBRecord): LoyaltyEvent | undefined {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return undefined;
  const item = unmarshall(image as Record<string, AttributeValue>);
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
      channel: (item.channel as string | null | undefined) ?? null,
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

/** The PutEvents entry of an event. */
export function entryOf(event: LoyaltyEvent, busName: string): PutEventsRequestEntry {
  return {
    EventBusName: busName,
    Source: EVENT_SOURCE,
    DetailType: event.type,
    Detail: JSON.stringify(event),
  };
}

/** An event and the sequence number of the stream record it came from (the record's position). */
export interface SequencedEvent {
  sequenceNumber: string;
  event: LoyaltyEvent;
}

/**
 * Where events go, in the order given: returns the sequence numbers of the events that did not get
 * through, including any it did not try after a failure. EventBridge on AWS (`eventBridgeSink`), an
 * append-only file under `npm start` (`local/event-sink.ts`).
 */
export type EventSink = (events: SequencedEvent[]) => Promise<string[]>;

export interface PublishOutcome {
  /** Records that cannot be mapped to an event: retrying them cannot help (poison records). */
  unmappable: string[];
  /** Events the sink did not take. */
  unsent: string[];
}

/**
 * The publisher, wherever it runs (the Lambda handler and the local stream poller): maps each
 * stream record to its event, in stream order, skipping records that are not events, and hands the
 * events to the sink in that order. A record that cannot be mapped is reported, never dropped
 * silently, and does not hold back the events after it (consumers dedupe by event id).
 */
export async function publishRecords(
  records: readonly DynamoDBRecord[],
  sink: EventSink,
): Promise<PublishOutcome> {
  const unmappable: string[] = [];
  const pending: SequencedEvent[] = [];
  for (const record of records) {
    const sequenceNumber = record.dynamodb?.SequenceNumber ?? '';
    try {
      const event = eventOfRecord(record);
      if (event) pending.push({ sequenceNumber, event });
    } catch (error) {
      logger.error('cannot map stream record to an event', { sequenceNumber, error });
      unmappable.push(sequenceNumber);
    }
  }
  const unsent = pending.length > 0 ? await sink(pending) : [];
  return { unmappable, unsent };
}

/**
 * The EventBridge sink: events go out in order, ten per PutEvents call. Entries EventBridge rejects
 * are reported; so is everything after the first failing call, unsent, because Lambda resumes the
 * shard from the lowest failed sequence number anyway.
 */
export function eventBridgeSink(client: EventBridgeClient, busName: string): EventSink {
  return async (events) => {
    const pending = events.map(({ sequenceNumber, event }) => ({
      sequenceNumber,
      entry: entryOf(event, busName),
    }));
    for (let start = 0; start < pending.length; start += MAX_ENTRIES) {
      const failed = await putChunk(client, pending.slice(start, start + MAX_ENTRIES));
      if (failed.length > 0) {
        return [...failed, ...pending.slice(start + MAX_ENTRIES).map((item) => item.sequenceNumber)];
      }
    }
    return [];
  };
}

/**
 * The stream handler: `publishRecords` into EventBridge. Records that cannot be mapped and events
 * that did not get through are reported as batch item failures: retried, then bisected, then sent
 * to the DLQ, so a poison record does not vanish silently.
 */
export function createEventPublisher(
  client: EventBridgeClient = new EventBridgeClient({}),
  busName: () => string | undefined = () => process.env.EVENT_BUS_NAME,
) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const bus = busName();
    if (!bus) throw new Error('EVENT_BUS_NAME is not set');
    const { unmappable, unsent } = await publishRecords(event.Records, eventBridgeSink(client, bus));
    return { batchItemFailures: [...unmappable, ...unsent].map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

interface Pending {
  sequenceNumber: string;
  entry: PutEventsRequestEntry;
}

/** Sequence numbers of the entries of one PutEvents call that did not get through. */
async function putChunk(client: EventBridgeClient, chunk: Pending[]): Promise<string[]> {
  let results: PutEventsResultEntry[];
  try {
    const output = await client.send(new PutEventsCommand({ Entries: chunk.map((item) => item.entry) }));
    if (!output.FailedEntryCount) return [];
    results = output.Entries ?? [];
  } catch (error) {
    logger.error('PutEvents failed', { error, entries: chunk.length });
    return chunk.map((item) => item.sequenceNumber);
  }
  // Result entries line up with request entries; a rejected one carries an ErrorCode.
  const failed = chunk.filter((_, i) => !results[i] || results[i].ErrorCode !== undefined);
  logger.warn('EventBridge rejected entries', {
    failed: failed.length,
    errors: [...new Set(results.map((result) => result.ErrorCode).filter(Boolean))],
  });
  return failed.map((item) => item.sequenceNumber);
}

export const handler = createEventPublisher();
