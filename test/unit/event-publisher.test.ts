import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { transactionViewOf } from '../../lambdas/domain/entries.ts';
import { createEventPublisher, entryOf, eventOfRecord } from '../../lambdas/handlers/event-publisher.ts';
import { transactionView } from '../../lambdas/schemas/points.ts';

const txn = (id: string, type = 'earn') => ({
  id,
  type,
  memberId: 'mem_01',
  partnerId: 'acme',
  points: 120,
  status: 'posted',
  occurredAt: '2025-03-01T10:00:00.000Z',
  createdAt: '2025-03-01T10:00:05.000Z',
  breakdown: [{ rule: 'base', points: 120 }],
});

let sequence = 100;
function ledgerInsert(txnId: string, type = 'earn', overrides: Record<string, unknown> = {}): DynamoDBRecord {
  const item = {
    pk: `IDEM#acme#${txnId}`,
    sk: 'IDEM',
    entity: 'ledger',
    type,
    createdAt: '2025-03-01T10:00:05.000Z',
    txn: txn(txnId, type),
    ...overrides,
  };
  sequence += 1;
  return {
    eventName: 'INSERT',
    dynamodb: {
      SequenceNumber: String(sequence),
      NewImage: marshall(item, { removeUndefinedValues: true }) as NonNullable<
        DynamoDBRecord['dynamodb']
      >['NewImage'],
    },
  };
}

describe('eventOfRecord', () => {
  it('maps an earn entry to a points.earned envelope, with the transaction in its API shape', () => {
    // Stored entries leave null fields out; the event carries the full view, nulls included.
    expect(eventOfRecord(ledgerInsert('txn_01ABC'))).toEqual({
      id: 'evt_01ABC',
      type: 'points.earned',
      version: 1,
      occurredAt: '2025-03-01T10:00:05.000Z',
      memberId: 'mem_01',
      partnerId: 'acme',
      data: transactionViewOf(txn('txn_01ABC')),
    });
    expect(Object.keys(eventOfRecord(ledgerInsert('txn_01ABC'))?.data ?? {})).toEqual(
      Object.keys(transactionView.shape),
    );
  });

  it('names the event type from the ledger type', () => {
    expect(eventOfRecord(ledgerInsert('txn_1', 'redeem'))?.type).toBe('points.redeemed');
    expect(eventOfRecord(ledgerInsert('txn_2', 'expire'))?.type).toBe('points.expired');
    expect(eventOfRecord(ledgerInsert('txn_3', 'bonus'))?.type).toBe('points.earned');
    expect(eventOfRecord(ledgerInsert('txn_4', 'refund'))?.type).toBe('points.refunded');
    expect(eventOfRecord(ledgerInsert('txn_5', 'forfeit'))?.type).toBe('points.forfeited');
  });

  it('keeps a coalition-wide entry without partner as partnerId null', () => {
    const entry = ledgerInsert('txn_4', 'expire', { txn: { ...txn('txn_4', 'expire'), partnerId: null } });
    expect(eventOfRecord(entry)?.partnerId).toBeNull();
  });

  it('ignores modifications and items that carry no event', () => {
    expect(eventOfRecord({ ...ledgerInsert('txn_5'), eventName: 'MODIFY' })).toBeUndefined();
    expect(eventOfRecord(ledgerInsert('txn_6', 'earn', { entity: 'aggregate' }))).toBeUndefined();
  });

  it('makes a member item insert its member.enrolled event, with an id derived from the member id', () => {
    const record = ledgerInsert('txn_9', 'earn', {
      entity: 'member',
      id: 'mem_01KABC',
      createdAt: '2026-11-01T10:00:00.000Z',
      enrolledAt: '2026-11-01T09:00:00.000Z',
      channel: 'app',
      enrolledBy: 'shop',
      enrolledVia: 'import',
    });
    expect(eventOfRecord(record)).toEqual({
      id: 'evt_01KABC',
      type: 'member.enrolled',
      version: 1,
      occurredAt: '2026-11-01T10:00:00.000Z',
      memberId: 'mem_01KABC',
      partnerId: 'shop',
      data: {
        memberId: 'mem_01KABC',
        enrolledAt: '2026-11-01T09:00:00.000Z',
        source: 'import',
      },
    });
    expect(eventOfRecord({ ...record, eventName: 'MODIFY' })).toBeUndefined();
  });

  it('refuses a ledger entry without a transaction id', () => {
    expect(() =>
      eventOfRecord(ledgerInsert('txn_7', 'earn', { txn: { ...txn('txn_7', 'earn'), id: undefined } })),
    ).toThrow(/malformed/);
  });

  it('builds the PutEvents entry with source loyalty.api and the type as detail-type', () => {
    const event = eventOfRecord(ledgerInsert('txn_8'))!;
    expect(entryOf(event, 'loyalty-events')).toEqual({
      EventBusName: 'loyalty-events',
      Source: 'loyalty.api',
      DetailType: 'points.earned',
      Detail: JSON.stringify(event),
    });
  });
});

describe('event publisher handler', () => {
  const eventBridge = mockClient(EventBridgeClient);
  afterEach(() => eventBridge.reset());
  const publish = createEventPublisher(
    new EventBridgeClient({ region: 'us-east-1' }),
    () => 'loyalty-events',
  );

  it('puts events in batches of ten and reports nothing when all got through', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ({ EventId: `id-${i}` })),
    }));
    const records = Array.from({ length: 23 }, (_, i) => ledgerInsert(`txn_${i}`));
    const result = await publish({ Records: records });
    expect(result.batchItemFailures).toEqual([]);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls.map((call) => call.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
  });

  it('reports the records whose entries EventBridge rejected', async () => {
    const records = [ledgerInsert('txn_a'), ledgerInsert('txn_b'), ledgerInsert('txn_c')];
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [
        { EventId: 'e-1' },
        { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' },
        { EventId: 'e-3' },
      ],
    });
    const result = await publish({ Records: records });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.dynamodb!.SequenceNumber }]);
  });

  it('stops at the first failing call and reports the unsent records too', async () => {
    const records = Array.from({ length: 12 }, (_, i) => ledgerInsert(`txn_x${i}`));
    eventBridge.on(PutEventsCommand).rejects(new Error('throttled'));
    const result = await publish({ Records: records });
    expect(result.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(
      records.map((record) => record.dynamodb!.SequenceNumber),
    );
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(1);
  });

  it('loses nothing: with calls failing and entries rejected at random, Lambda’s retries deliver every event', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 60 }),
        fc.infiniteStream(fc.constantFrom('ok', 'ok', 'ok', 'throw', 'reject-some')),
        fc.infiniteStream(fc.boolean()),
        fc.integer({ min: 1, max: 25 }),
        async (count, outcomes, rejections, batchSize) => {
          eventBridge.reset();
          const delivered: string[] = [];
          const outcome = outcomes[Symbol.iterator]();
          const reject = rejections[Symbol.iterator]();
          eventBridge.on(PutEventsCommand).callsFake((input: { Entries: { Detail: string }[] }) => {
            const what = outcome.next().value;
            if (what === 'throw') throw new Error('EventBridge unavailable');
            const entries = input.Entries.map((entry) => {
              if (what === 'reject-some' && reject.next().value) return { ErrorCode: 'InternalFailure' };
              delivered.push(JSON.parse(entry.Detail).id);
              return { EventId: 'ok' };
            });
            return { FailedEntryCount: entries.filter((e) => 'ErrorCode' in e).length, Entries: entries };
          });
          const records = Array.from({ length: count }, (_, i) => ledgerInsert(`txn_f${count}x${i}`));
          // Lambda's stream source: a batch from the checkpoint; on failures, resume from the lowest
          // failed sequence number (ReportBatchItemFailures), else past the batch.
          let from = 0;
          for (let invocation = 0; from < records.length; invocation++) {
            if (invocation > 10_000) throw new Error('the shard never drained');
            const batch = records.slice(from, from + batchSize);
            const { batchItemFailures } = await publish({ Records: batch });
            const failed = batchItemFailures.map((f) =>
              batch.findIndex((r) => r.dynamodb?.SequenceNumber === f.itemIdentifier),
            );
            from += failed.length === 0 ? batch.length : Math.min(...failed);
          }
          // Every event got through at least once (consumers dedupe by id; EventBridge promises no
          // order, and an entry rejected inside a call is retried after its neighbours).
          expect(new Set(delivered)).toEqual(new Set(records.map((record) => eventOfRecord(record)?.id)));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('outbox events', () => {
  it('publishes an outbox item (reward.out_of_stock) with the envelope it carries', async () => {
    const { eventOfRecord } = await import('../../lambdas/handlers/event-publisher.ts');
    const { marshall } = await import('@aws-sdk/util-dynamodb');
    const event = {
      id: 'evt_01ARZ3NDEKTSV4RRFFQ69G5FAV',
      type: 'reward.out_of_stock',
      version: 1,
      occurredAt: '2026-11-23T10:00:00.000Z',
      partnerId: 'grocer',
      data: { rewardId: 'rwd_01ARZ3NDEKTSV4RRFFQ69G5FAV', name: 'Coffee' },
    };
    const record = {
      eventName: 'INSERT',
      dynamodb: {
        SequenceNumber: '1',
        NewImage: marshall({ pk: 'EVENT#x', sk: 'EVENT', entity: 'event', event }),
      },
    };
    expect(eventOfRecord(record as never)).toEqual(event);
  });
});
