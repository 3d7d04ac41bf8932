import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { eventOfItem, type LoyaltyEvent } from '../domain/events.ts';
import { logger } from '../http/logger.ts';

export { eventOfItem, eventTypeOf, type LoyaltyEvent } from '../domain/events.ts';

export const EVENT_SOURCE = 'loyalty.api';
/** PutEvents takes at most 10 entries per call. */
const MAX_ENTRIES = 10;

/** The event of one stream record: the insert of an item that carries one (see domain/events.ts). */
export function eventOfRecord(record: DynamoDBRecord): LoyaltyEvent | undefined {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return undefined;
  return eventOfItem(unmarshall(image as Record<string, AttributeValue>));
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
