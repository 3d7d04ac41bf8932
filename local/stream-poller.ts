/**
 * The event publisher under `npm start`: polls DynamoDB Local's stream of the table as Lambda's
 * event source mapping polls the real one, and runs the publisher's own `publishRecords` over each
 * batch, with an append-only file (`<dataDir>/events.ndjson`) as the sink instead of EventBridge.
 *
 * Nothing is lost or appended twice across restarts: after each batch's events are appended (and
 * synced), the shard's last sequence number is checkpointed in `<dataDir>/events.checkpoint.json`;
 * a start resumes each shard AFTER_SEQUENCE_NUMBER of its checkpoint (TRIM_HORIZON without one). A
 * crash between an append and its checkpoint hands the same records over again; the sink remembers
 * the ids at the end of the file and skips them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  type AttributeValue,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type _Record as StreamsRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { type EventSink, publishRecords } from '../lambdas/handlers/event-publisher.ts';
import { type Backoff, backoffDelay, DEFAULT_BACKOFF, formatMs, sleep } from './backoff.ts';
import { LOCAL_CREDENTIALS, localClient } from './dynamodb-local.ts';
import { appendLine, type LogLine, messageOf, openFileEventSink, writeFileAtomic } from './event-sink.ts';

export const CHECKPOINT_FILE = 'events.checkpoint.json';
/** Stream records that cannot be mapped to an event (what the AWS publisher sends to its DLQ). */
export const REJECTED_FILE = 'events.rejected.ndjson';

export interface StreamPollerOptions {
  /** DynamoDB Local's endpoint. */
  endpoint: string;
  tableName: string;
  /** Where events.ndjson and the checkpoint live. */
  dataDir: string;
  /** The pause after a pass that found nothing new (250 ms). */
  pollIntervalMs?: number;
  /** How often the shards are listed again, besides when one closes (10 s). */
  describeIntervalMs?: number;
  /** The pause after an error, growing with each error in a row (0.5 s doubling to 30 s). */
  errorBackoff?: Backoff;
  /** One line per problem (console.error by default); never throws. */
  log?: LogLine;
  /** Wraps the file sink (tests inject failures). */
  wrapSink?: (sink: EventSink) => EventSink;
}

export interface StreamPoller {
  /** events.ndjson */
  readonly file: string;
  readonly streamArn: string;
  /**
   * Resolves after a whole pass over the shards, begun after the call, found nothing new: every
   * event written to the table before the call is then in the file.
   */
  caughtUp(): Promise<void>;
  /** Stops polling (the batch in hand is appended and checkpointed first). */
  stop(): Promise<void>;
}

interface Checkpoint {
  streamArn: string;
  /** Per shard: the last sequence number whose records are done with, and whether it is drained. */
  shards: Record<string, { after?: string; done?: boolean }>;
}

interface ShardState {
  id: string;
  parent?: string;
  /** Listed by the latest DescribeStream (a shard only known from the checkpoint may be trimmed). */
  listed: boolean;
  after?: string;
  done: boolean;
  iterator?: string;
}

/** The sink failed: back off and read the same records again (the sink has said why). */
class SinkFailed extends Error {}

/**
 * Starts polling the table's stream. Rejects if the table has no stream; after that, errors are
 * logged one line each and retried with backoff, never thrown.
 */
export async function startStreamPoller(options: StreamPollerOptions): Promise<StreamPoller> {
  const log = options.log ?? ((line: string) => console.error(line));
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const describeIntervalMs = options.describeIntervalMs ?? 10_000;
  const errorBackoff = options.errorBackoff ?? DEFAULT_BACKOFF;

  const streamArn = await latestStreamArn(options.endpoint, options.tableName);
  const fileSink = openFileEventSink(options.dataDir, { log });
  const sink = options.wrapSink ? options.wrapSink(fileSink.sink) : fileSink.sink;
  const checkpointFile = join(options.dataDir, CHECKPOINT_FILE);
  const rejectedFile = join(options.dataDir, REJECTED_FILE);
  const streams = new DynamoDBStreamsClient({
    endpoint: options.endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });

  const shards = new Map<string, ShardState>();
  const saved = readCheckpoint(checkpointFile);
  if (saved && saved.streamArn !== streamArn) {
    log(`events: the table's stream changed (table recreated?); reading ${streamArn} from its start`);
  } else if (saved) {
    for (const [id, { after, done }] of Object.entries(saved.shards)) {
      shards.set(id, { id, listed: false, ...(after ? { after } : {}), done: done === true });
    }
  }

  const stopper = new AbortController();
  const signal = stopper.signal;
  let needDescribe = true;
  let nextDescribe = 0;
  let passes = 0;
  const waiters: { after: number; resolve: () => void; reject: (error: Error) => void }[] = [];

  async function saveCheckpoint(): Promise<void> {
    const checkpoint: Checkpoint = { streamArn, shards: {} };
    for (const shard of shards.values()) {
      if (shard.after || shard.done) {
        checkpoint.shards[shard.id] = { ...(shard.after ? { after: shard.after } : {}), done: shard.done };
      }
    }
    await writeFileAtomic(checkpointFile, `${JSON.stringify(checkpoint, null, 2)}\n`);
  }

  async function describe(): Promise<void> {
    const listed = new Map<string, string | undefined>();
    let start: string | undefined;
    do {
      const page = await streams.send(
        new DescribeStreamCommand({
          StreamArn: streamArn,
          ...(start ? { ExclusiveStartShardId: start } : {}),
        }),
        { abortSignal: signal },
      );
      for (const shard of page.StreamDescription?.Shards ?? []) {
        if (shard.ShardId) listed.set(shard.ShardId, shard.ParentShardId);
      }
      start = page.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    for (const [id, parent] of listed) {
      const known = shards.get(id);
      if (known) {
        known.listed = true;
        if (parent) known.parent = parent;
      } else {
        shards.set(id, { id, listed: true, done: false, ...(parent ? { parent } : {}) });
      }
    }
    // A shard no longer listed has been trimmed away with all its records.
    let pruned = false;
    for (const id of [...shards.keys()]) {
      if (!listed.has(id)) {
        shards.delete(id);
        pruned = true;
      }
    }
    if (pruned) await saveCheckpoint();
    needDescribe = false;
    nextDescribe = Date.now() + describeIntervalMs;
  }

  /** Shards to read now: not drained, and their parent (if still there) drained, so order holds. */
  function readable(): ShardState[] {
    return [...shards.values()].filter((shard) => {
      if (shard.done || !shard.listed) return false;
      const parent = shard.parent ? shards.get(shard.parent) : undefined;
      return !parent || parent.done;
    });
  }

  async function iteratorOf(shard: ShardState): Promise<string | undefined> {
    const input: GetShardIteratorCommandInput = shard.after
      ? {
          StreamArn: streamArn,
          ShardId: shard.id,
          ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
          SequenceNumber: shard.after,
        }
      : { StreamArn: streamArn, ShardId: shard.id, ShardIteratorType: 'TRIM_HORIZON' };
    try {
      return (await streams.send(new GetShardIteratorCommand(input), { abortSignal: signal })).ShardIterator;
    } catch (error) {
      if (nameOf(error) === 'TrimmedDataAccessException' && shard.after) {
        trimmed(shard);
        return iteratorOf(shard);
      }
      if (nameOf(error) === 'ResourceNotFoundException') {
        needDescribe = true;
        return undefined;
      }
      throw error;
    }
  }

  /** The records after the checkpoint are gone (older than the stream keeps): read what is left. */
  function trimmed(shard: ShardState): void {
    log(
      `events: stream records of ${shard.id} after ${shard.after} were trimmed (over 24 h old); ` +
        'resuming from the oldest record left, the events in between are lost',
    );
    delete shard.after;
    delete shard.iterator;
    needDescribe = true;
  }

  /**
   * One GetRecords call on a shard, published and checkpointed: how many records it read, or
   * undefined if the shard could not be read this time (it is tried again next pass).
   */
  async function pollShard(shard: ShardState): Promise<number | undefined> {
    shard.iterator ??= await iteratorOf(shard);
    if (!shard.iterator) return undefined;
    let page: Awaited<ReturnType<typeof getRecords>>;
    try {
      page = await getRecords(shard.iterator);
    } catch (error) {
      delete shard.iterator;
      const name = nameOf(error);
      if (name === 'ExpiredIteratorException') return undefined; // a new one from the checkpoint next pass
      if (name === 'TrimmedDataAccessException') {
        trimmed(shard);
        return undefined;
      }
      if (name === 'ResourceNotFoundException') {
        needDescribe = true;
        return undefined;
      }
      throw error;
    }
    const records = page.Records ?? [];
    if (records.length > 0) await publish(shard, records);
    shard.iterator = page.NextShardIterator;
    if (!shard.iterator) {
      // Closed and read to its end: its children (listed by the next describe) carry on.
      shard.done = true;
      needDescribe = true;
      await saveCheckpoint();
    }
    return records.length;
  }

  const getRecords = (iterator: string) =>
    streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }), { abortSignal: signal });

  async function publish(shard: ShardState, records: StreamsRecord[]): Promise<void> {
    const lambdaRecords = records.map(lambdaRecordOf);
    const { unmappable, unsent } = await publishRecords(lambdaRecords, sink);
    // Done with: everything before the first event the sink did not take.
    const firstUnsent = unsent.length === 0 ? -1 : lambdaRecords.findIndex((r) => unsent.includes(seq(r)));
    const done = firstUnsent === -1 ? lambdaRecords : lambdaRecords.slice(0, firstUnsent);
    for (const record of done) {
      if (unmappable.includes(seq(record))) {
        await appendLine(rejectedFile, JSON.stringify({ shardId: shard.id, record }), log);
        log(`events: stream record ${seq(record)} is not a valid event; kept in ${rejectedFile}`);
      }
    }
    const last = done.at(-1);
    if (last) {
      shard.after = seq(last);
      await saveCheckpoint();
    }
    if (firstUnsent !== -1) {
      delete shard.iterator; // read again from the checkpoint
      throw new SinkFailed();
    }
  }

  async function run(): Promise<void> {
    let errors = 0;
    while (!signal.aborted) {
      const pass = ++passes;
      let found = 0;
      let complete = true;
      try {
        if (needDescribe || Date.now() >= nextDescribe) await describe();
        for (const shard of readable()) {
          if (signal.aborted) break;
          const read = await pollShard(shard);
          if (read === undefined) complete = false;
          else found += read;
        }
        errors = 0;
      } catch (error) {
        if (signal.aborted) break;
        errors += 1;
        const delay = backoffDelay(errors, errorBackoff);
        if (!(error instanceof SinkFailed)) {
          log(`events: reading the stream failed: ${messageOf(error)}; retrying in ${formatMs(delay)}`);
        }
        await sleep(delay, signal);
        continue;
      }
      if (found > 0 || signal.aborted) continue;
      if (complete && !needDescribe) {
        const ready = waiters.filter((waiter) => waiter.after < pass);
        for (const waiter of ready) waiters.splice(waiters.indexOf(waiter), 1);
        for (const waiter of ready) waiter.resolve();
      }
      await sleep(pollIntervalMs, signal);
    }
  }

  const running = run().catch((error) => log(`events: the stream poller stopped: ${messageOf(error)}`));

  return {
    file: fileSink.file,
    streamArn,
    caughtUp: () =>
      new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(new Error('the stream poller is stopped'));
        waiters.push({ after: passes, resolve, reject });
      }),
    stop: async () => {
      stopper.abort();
      await running;
      streams.destroy();
      for (const waiter of waiters.splice(0)) waiter.reject(new Error('the stream poller is stopped'));
    },
  };
}

/** The table's stream, or why there is none. */
async function latestStreamArn(endpoint: string, tableName: string): Promise<string> {
  const client = localClient(endpoint);
  try {
    const table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
    if (!table?.LatestStreamArn || !table.StreamSpecification?.StreamEnabled) {
      throw new Error(`table "${tableName}" has no stream enabled`);
    }
    return table.LatestStreamArn;
  } finally {
    client.destroy();
  }
}

function readCheckpoint(file: string): Checkpoint | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let parsed: Checkpoint | undefined;
  try {
    parsed = JSON.parse(text) as Checkpoint;
  } catch {
    // Written aside and renamed, so only a hand edit gets here: guessing could lose or repeat events.
  }
  if (typeof parsed?.streamArn !== 'string' || typeof parsed.shards !== 'object' || !parsed.shards) {
    throw new Error(`${file} is not a stream checkpoint (delete it to read the stream from its start)`);
  }
  return parsed;
}

/**
 * A record from the DynamoDB Streams API in the shape Lambda delivers it (what `publishRecords`
 * takes). The images keep the SDK's attribute values, which `eventOfRecord` unmarshalls as such,
 * repaired where DynamoDB Local writes them wrong (`emptyMapsRepaired`).
 */
export function lambdaRecordOf(record: StreamsRecord): DynamoDBRecord {
  const stream = record.dynamodb;
  type Image = NonNullable<DynamoDBRecord['dynamodb']>['NewImage'];
  return {
    ...(record.eventID ? { eventID: record.eventID } : {}),
    ...(record.eventName ? { eventName: record.eventName } : {}),
    ...(record.eventSource ? { eventSource: record.eventSource } : {}),
    ...(record.eventVersion ? { eventVersion: record.eventVersion } : {}),
    ...(record.awsRegion ? { awsRegion: record.awsRegion } : {}),
    dynamodb: {
      SequenceNumber: stream?.SequenceNumber ?? '',
      ...(stream?.ApproximateCreationDateTime
        ? { ApproximateCreationDateTime: Math.floor(stream.ApproximateCreationDateTime.getTime() / 1000) }
        : {}),
      ...(stream?.SizeBytes !== undefined ? { SizeBytes: stream.SizeBytes } : {}),
      ...(stream?.StreamViewType ? { StreamViewType: stream.StreamViewType } : {}),
      ...(stream?.Keys ? { Keys: emptyMapsRepaired(stream.Keys) as unknown as Image } : {}),
      ...(stream?.NewImage ? { NewImage: emptyMapsRepaired(stream.NewImage) as unknown as Image } : {}),
    },
  };
}

const ATTRIBUTE_TYPES = ['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'NULL', 'BOOL'];

/**
 * DynamoDB Local's stream writes an empty map attribute as `{}` instead of `{"M":{}}` (the table
 * itself stores it right), which `unmarshall` refuses. An attribute value without any type can only
 * be that: it is given back its `M`, at any depth.
 */
export function emptyMapsRepaired(image: Record<string, AttributeValue>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, repaired(value)]));
}

function repaired(value: AttributeValue): AttributeValue {
  if (value.M) return { M: emptyMapsRepaired(value.M) };
  if (value.L) return { L: value.L.map(repaired) };
  if (!ATTRIBUTE_TYPES.some((type) => type in value)) return { M: {} };
  return value;
}

const seq = (record: DynamoDBRecord) => record.dynamodb?.SequenceNumber ?? '';

function nameOf(error: unknown): string | undefined {
  return (error as { name?: string } | undefined)?.name;
}
