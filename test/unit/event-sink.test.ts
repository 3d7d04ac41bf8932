import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import {
  eventOfRecord,
  type LoyaltyEvent,
  type SequencedEvent,
} from '../../lambdas/handlers/event-publisher.ts';
import { backoffDelay } from '../../local/backoff.ts';
import { freePort } from '../../local/dynamodb-local.ts';
import { openFileEventSink } from '../../local/event-sink.ts';
import { emptyMapsRepaired, lambdaRecordOf } from '../../local/stream-poller.ts';
import { startWebhookDeliverer, type WebhookDeliverer } from '../../local/webhook.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'loyalty-events-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const event = (n: number): LoyaltyEvent => ({
  id: `evt_${String(n).padStart(4, '0')}`,
  type: 'points.earned',
  version: 1,
  occurredAt: '2026-01-01T00:00:00.000Z',
  memberId: 'mem_1',
  partnerId: 'grocer',
  data: { n },
});
const sequenced = (...ns: number[]): SequencedEvent[] =>
  ns.map((n) => ({ sequenceNumber: String(n).padStart(21, '0'), event: event(n) }));
const linesOf = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LoyaltyEvent);

describe('file event sink', () => {
  it('appends each event as one JSON line, in order', async () => {
    const { file, sink } = openFileEventSink(tempDir());
    expect(await sink(sequenced(1, 2))).toEqual([]);
    expect(await sink(sequenced(3))).toEqual([]);
    expect(linesOf(file)).toEqual([event(1), event(2), event(3)]);
  });

  it('skips events already at the end of the file, also after reopening it', async () => {
    const dir = tempDir();
    const first = openFileEventSink(dir);
    await first.sink(sequenced(1, 2, 3));
    await first.sink(sequenced(2, 3, 4, 4));
    // A crash between the append and the checkpoint: the poller hands 3..5 over again.
    const reopened = openFileEventSink(dir);
    await reopened.sink(sequenced(3, 4, 5));
    expect(linesOf(reopened.file).map((e) => e.id)).toEqual([1, 2, 3, 4, 5].map((n) => event(n).id));
  });

  it('remembers only the last ids (the crash window is one batch)', async () => {
    const dir = tempDir();
    await openFileEventSink(dir).sink(sequenced(1, 2, 3, 4));
    const reopened = openFileEventSink(dir, { rememberIds: 2 });
    expect([1, 2, 3, 4].map((n) => reopened.has(event(n).id))).toEqual([false, false, true, true]);
  });

  it('cuts off a line torn by a crash, so the event is appended whole again', async () => {
    const dir = tempDir();
    const { file, sink } = openFileEventSink(dir);
    await sink(sequenced(1));
    appendFileSync(file, JSON.stringify(event(2)).slice(0, 40));
    const lines: string[] = [];
    const reopened = openFileEventSink(dir, { log: (line) => lines.push(line) });
    expect(lines).toEqual([expect.stringContaining('unfinished line')]);
    await reopened.sink(sequenced(2));
    expect(linesOf(file)).toEqual([event(1), event(2)]);
  });

  it('reports every event unsent when it cannot append', async () => {
    const dir = tempDir();
    const { sink } = openFileEventSink(dir, { log: () => {} });
    rmSync(dir, { recursive: true });
    mkdirSync(join(dir, 'events.ndjson'), { recursive: true }); // a folder where the file was
    expect(await sink(sequenced(7, 8))).toEqual(sequenced(7, 8).map((item) => item.sequenceNumber));
  });
});

describe('backoff', () => {
  it('doubles from the initial delay, spread ±25%, never over the cap', () => {
    const backoff = { initialMs: 500, maxMs: 30_000 };
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, backoff, () => 0.5))).toEqual([
      500, 1000, 2000, 4000,
    ]);
    expect(backoffDelay(1, backoff, () => 0)).toBe(375);
    expect(backoffDelay(1, backoff, () => 0.999_999)).toBe(625);
    expect(backoffDelay(7, backoff, () => 0.5)).toBe(30_000);
    expect(backoffDelay(1_000, backoff, () => 0.999_999)).toBe(30_000);
    expect(backoffDelay(1_000, backoff, () => 0)).toBe(22_500);
  });
});

describe('stream records of DynamoDB Local', () => {
  it('repairs empty maps, which its stream writes as {} instead of {"M":{}}', () => {
    const image = { a: {}, b: { M: { c: {}, d: { L: [{}] } } }, e: { S: 'x' }, f: { L: [] } };
    expect(emptyMapsRepaired(image as never)).toEqual({
      a: { M: {} },
      b: { M: { c: { M: {} }, d: { L: [{ M: {} }] } } },
      e: { S: 'x' },
      f: { L: [] },
    });
  });

  it('maps an outbox insert from the Streams API to the event the Lambda handler would publish', () => {
    const outbox = { ...event(9), data: { reasons: {} } };
    const newImage = marshall({ pk: 'EVENT#x', sk: 'EVENT', entity: 'event', event: outbox });
    // What DynamoDB Local's stream gives for the empty map.
    (newImage.event!.M!.data!.M! as Record<string, unknown>).reasons = {};
    const record = lambdaRecordOf({
      eventID: 'e1',
      eventName: 'INSERT',
      dynamodb: {
        SequenceNumber: '000000000000000000042',
        ApproximateCreationDateTime: new Date('2026-01-01T00:00:01Z'),
        NewImage: newImage as never,
      },
    });
    expect(record.dynamodb?.SequenceNumber).toBe('000000000000000000042');
    expect(record.dynamodb?.ApproximateCreationDateTime).toBe(Date.parse('2026-01-01T00:00:01Z') / 1000);
    expect(eventOfRecord(record)).toEqual(outbox);
  });
});

interface Received {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook that answers with `answer(attempt)` and records every request. */
async function webhookServer(answer: (attempt: number) => number): Promise<{
  url: string;
  received: Received[];
  accepted: () => LoyaltyEvent[];
  server: Server;
}> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const status = answer(received.length + 1);
      received.push({ status, headers: request.headers, body });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    accepted: () => received.filter((r) => r.status < 300).map((r) => JSON.parse(r.body) as LoyaltyEvent),
    server,
  };
}

const servers: Server[] = [];
const deliverers: WebhookDeliverer[] = [];
afterEach(async () => {
  await Promise.all(deliverers.splice(0).map((deliverer) => deliverer.stop()));
  for (const server of servers.splice(0)) server.close();
});

const fast = { pollIntervalMs: 10, backoff: { initialMs: 5, maxMs: 40 } };

describe('webhook deliverer', () => {
  it('POSTs each event in order, retrying a failed one until a 2xx, and keeps its offset', async () => {
    const dir = tempDir();
    const { file, sink } = openFileEventSink(dir);
    await sink(sequenced(1, 2, 3));
    const hook = await webhookServer((attempt) => (attempt <= 3 ? 503 : attempt === 5 ? 500 : 204));
    const lines: string[] = [];
    const deliverer = startWebhookDeliverer({
      url: hook.url,
      dataDir: dir,
      ...fast,
      log: (l) => lines.push(l),
    });
    deliverers.push(deliverer);
    await deliverer.delivered();
    expect(hook.accepted()).toEqual([event(1), event(2), event(3)]);
    // Failed attempts were at the event due, never a later one.
    expect(hook.received.map((r) => [JSON.parse(r.body).id, r.status])).toEqual([
      [event(1).id, 503],
      [event(1).id, 503],
      [event(1).id, 503],
      [event(1).id, 204],
      [event(2).id, 500],
      [event(2).id, 204],
      [event(3).id, 204],
    ]);
    expect(hook.received[0]?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-loyalty-event-id': event(1).id,
      'x-loyalty-event-type': 'points.earned',
    });
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(
      /webhook http:\/\/127\.0\.0\.1:\d+\/hook answered 503 for evt_0001 \(attempt 1\)/,
    );
    const size = readFileSync(file).length;
    expect(readFileSync(join(dir, 'webhook.offset'), 'utf8').trim()).toBe(String(size));

    // Restarted, it carries on from its offset: only new events are sent.
    await deliverer.stop();
    await sink(sequenced(4));
    const again = startWebhookDeliverer({ url: hook.url, dataDir: dir, ...fast });
    deliverers.push(again);
    await again.delivered();
    expect(hook.accepted().map((e) => e.id)).toEqual([1, 2, 3, 4].map((n) => event(n).id));
  });

  it('does not send a line still being written', async () => {
    const dir = tempDir();
    const { file, sink } = openFileEventSink(dir);
    await sink(sequenced(1));
    appendFileSync(file, JSON.stringify(event(2)).slice(0, 30));
    const hook = await webhookServer(() => 200);
    const deliverer = startWebhookDeliverer({ url: hook.url, dataDir: dir, ...fast });
    deliverers.push(deliverer);
    await deliverer.delivered();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(hook.accepted()).toEqual([event(1)]);
    appendFileSync(file, `${JSON.stringify(event(2)).slice(30)}\n`);
    await deliverer.delivered();
    expect(hook.accepted()).toEqual([event(1), event(2)]);
  });

  it('retries a dead webhook without end, logging one line per attempt, and stops at once', async () => {
    const dir = tempDir();
    await openFileEventSink(dir).sink(sequenced(1));
    const port = await freePort(); // nothing listens there
    const lines: string[] = [];
    const deliverer = startWebhookDeliverer({
      url: `http://127.0.0.1:${port}/hook`,
      dataDir: dir,
      ...fast,
      log: (line) => lines.push(line),
    });
    while (lines.length < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(lines[0]).toMatch(/failed \(ECONNREFUSED\) for evt_0001 \(attempt 1\); retrying in \d+ ms/);
    const started = Date.now();
    await deliverer.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(() => readFileSync(join(dir, 'webhook.offset'))).toThrow(/ENOENT/);
  });

  it('starts over when the file is shorter than its offset (the file was deleted)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'webhook.offset'), '100000\n');
    await openFileEventSink(dir).sink(sequenced(1));
    const hook = await webhookServer(() => 202);
    const deliverer = startWebhookDeliverer({ url: hook.url, dataDir: dir, ...fast, log: () => {} });
    deliverers.push(deliverer);
    await deliverer.delivered();
    expect(hook.accepted()).toEqual([event(1)]);
  });
});
