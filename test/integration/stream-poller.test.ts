import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventSink, LoyaltyEvent } from '../../lambdas/handlers/event-publisher.ts';
import { createPartner } from '../../lambdas/services/partners.ts';
import type { Store } from '../../lambdas/store/client.ts';
import { putOutboxEvent } from '../../lambdas/store/outbox.ts';
import { freePort } from '../../local/dynamodb-local.ts';
import { type StreamPoller, type StreamPollerOptions, startStreamPoller } from '../../local/stream-poller.ts';
import { startWebhookDeliverer, type WebhookDeliverer } from '../../local/webhook.ts';
import { admin, contextFor, parse, partnerPrincipal } from '../support/fixtures.ts';
import { ledgerCalls } from '../support/ledger.ts';
import { createTestStore, localEndpoint } from '../support/table.ts';

/**
 * The stream poller of `npm start` over this run's DynamoDB Local: each test has its own table
 * (with its stream) and its own data folder.
 */
let store: Store;
let calls: ReturnType<typeof ledgerCalls>;
let dataDir: string;
const running: { stop: () => Promise<void> }[] = [];
const servers: Server[] = [];
const logged: string[] = [];

beforeEach(async () => {
  store = await createTestStore('events', { stream: true });
  calls = ledgerCalls(store, partnerPrincipal('grocer'));
  await createPartner(contextFor(store, admin), {
    id: 'grocer',
    name: 'Grocer',
    earnRule: { pointsPerUnit: 1, unitMinor: 100 },
    fundingRateMinor: 1,
    reimbursementRateMinor: 1,
    status: 'active',
  });
  dataDir = mkdtempSync(join(tmpdir(), 'loyalty-poller-'));
  logged.length = 0;
});

afterEach(async () => {
  for (const task of running.splice(0).reverse()) await task.stop();
  for (const server of servers.splice(0)) server.close();
  store.db.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

const fast = { initialMs: 10, maxMs: 100 };

async function poller(options: Partial<StreamPollerOptions> = {}): Promise<StreamPoller> {
  const started = await startStreamPoller({
    endpoint: localEndpoint(),
    tableName: store.tableName,
    dataDir,
    pollIntervalMs: 25,
    errorBackoff: fast,
    log: (line) => logged.push(line),
    ...options,
  });
  running.push(started);
  return started;
}

function deliverer(url: string): WebhookDeliverer {
  const started = startWebhookDeliverer({
    url,
    dataDir,
    pollIntervalMs: 10,
    backoff: { initialMs: 10, maxMs: 50 },
    log: (line) => logged.push(line),
  });
  running.push(started);
  return started;
}

const fileEvents = (): LoyaltyEvent[] => {
  const file = join(dataDir, 'events.ndjson');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LoyaltyEvent);
};

/** What a member's writes publish, in the order they were made: [type, memberId, id?]. */
type Expected = [type: string, memberId: string, id?: string];

async function enrol(expected: Expected[]): Promise<string> {
  const memberId = await calls.newMember();
  expected.push(['member.enrolled', memberId]);
  return memberId;
}

async function earn(memberId: string, expected: Expected[], amountMinor = 2_500): Promise<void> {
  const response = await calls.earn(memberId, { amountMinor });
  expect(response.status).toBe(201);
  const txnId: string = parse(response).transaction.id;
  expected.push(['points.earned', memberId, `evt_${txnId.slice('txn_'.length)}`]);
}

/** An outbox item written straight through the store, with an empty map in its data. */
async function outbox(expected: Expected[], memberId: string, n: number): Promise<void> {
  const id = `evt_TEST${String(n).padStart(22, '0')}`;
  await store.db.send(
    new TransactWriteCommand({
      TransactItems: [
        putOutboxEvent(store, `test.outbox#${id}`, {
          id,
          type: 'test.outbox',
          occurredAt: new Date().toISOString(),
          memberId,
          partnerId: null,
          data: { n, empty: {} },
        }),
      ],
    }),
  );
  expected.push(['test.outbox', memberId, id]);
}

function expectFileToBe(expected: Expected[]): void {
  const events = fileEvents();
  expect(events.map((event) => [event.type, event.memberId])).toEqual(expected.map(([type, m]) => [type, m]));
  expected.forEach(([, , id], i) => {
    if (id) expect(events[i]?.id).toBe(id);
  });
  expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
}

describe('stream poller', () => {
  it('appends every event of the stream exactly once, in stream order, with the publisher mapping', async () => {
    const expected: Expected[] = [];
    const ada = await enrol(expected);
    await earn(ada, expected);
    const started = await poller();
    await started.caughtUp();
    expectFileToBe(expected);

    // Written while it runs: ledger entries and outbox items, interleaved.
    const bob = await enrol(expected);
    await earn(bob, expected);
    await outbox(expected, ada, 1);
    await earn(ada, expected, 9_900);
    await started.caughtUp();
    expectFileToBe(expected);
    const earned = fileEvents().find((event) => event.id === expected.at(-1)?.[2]);
    expect(earned).toMatchObject({ type: 'points.earned', partnerId: 'grocer', data: { points: 99 } });
    expect(fileEvents().find((event) => event.type === 'test.outbox')?.data).toEqual({ n: 1, empty: {} });
    expect(logged).toEqual([]);
  });

  it('resumes after a restart without appending anything twice, and picks up what came meanwhile', async () => {
    const expected: Expected[] = [];
    const ada = await enrol(expected);
    await earn(ada, expected);
    const first = await poller();
    await first.caughtUp();
    await first.stop();
    running.splice(running.indexOf(first), 1);
    const checkpoint = JSON.parse(readFileSync(join(dataDir, 'events.checkpoint.json'), 'utf8'));
    expect(checkpoint.streamArn).toBe(first.streamArn);
    expect(Object.values(checkpoint.shards)).toEqual([
      { after: expect.stringMatching(/^\d+$/), done: false },
    ]);

    await earn(ada, expected);
    const second = await poller();
    await second.caughtUp();
    await earn(ada, expected);
    await second.caughtUp();
    expectFileToBe(expected);
  });

  it('appends nothing twice after a crash between an append and its checkpoint, or in an append', async () => {
    const expected: Expected[] = [];
    const ada = await enrol(expected);
    await earn(ada, expected);
    await earn(ada, expected);
    const first = await poller();
    await first.caughtUp();
    await first.stop();
    running.splice(running.indexOf(first), 1);
    // The checkpoint never written (TRIM_HORIZON again), and half a line of a torn append.
    rmSync(join(dataDir, 'events.checkpoint.json'));
    appendFileSync(join(dataDir, 'events.ndjson'), '{"id":"evt_torn","ty');

    await earn(ada, expected);
    const second = await poller();
    await second.caughtUp();
    expectFileToBe(expected);
    expect(logged).toEqual([expect.stringContaining('unfinished line')]);
  });

  it('backs off and reads the records again when the sink fails, losing and repeating nothing', async () => {
    const expected: Expected[] = [];
    const ada = await enrol(expected);
    let failures = 3;
    const wrapSink = (sink: EventSink): EventSink => {
      return async (events) => {
        if (failures > 0) {
          failures -= 1;
          // Half got through before it failed, as a partial write would.
          await sink(events.slice(0, Math.ceil(events.length / 2)));
          return events.map((event) => event.sequenceNumber);
        }
        return sink(events);
      };
    };
    await earn(ada, expected);
    await earn(ada, expected);
    const started = await poller({ wrapSink });
    await started.caughtUp();
    expect(failures).toBe(0);
    expectFileToBe(expected);
  });
});

/** A webhook on a random port that answers `status(attempt)` and records what it accepted. */
async function webhook(status: (attempt: number) => number) {
  const attempts: { id: string; status: number }[] = [];
  const accepted: { body: LoyaltyEvent; header: string | undefined }[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const answer = status(attempts.length + 1);
      const event = JSON.parse(body) as LoyaltyEvent;
      attempts.push({ id: event.id, status: answer });
      if (answer < 300)
        accepted.push({ body: event, header: request.headers['x-loyalty-event-id'] as string });
      response.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'not now');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, attempts, accepted };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('webhook', () => {
  it('receives every event once, in order, after failed attempts, while the file keeps growing', async () => {
    const expected: Expected[] = [];
    const ada = await enrol(expected);
    await earn(ada, expected);
    let down = true;
    const failFirst = 4;
    const hook = await webhook((attempt) => (down || attempt <= failFirst ? 503 : 204));
    const started = await poller();
    const delivering = deliverer(hook.url);
    await until(() => hook.attempts.length >= 2, 'two failed attempts');

    // The webhook is down: the poller appends new events all the same.
    const bob = await enrol(expected);
    await earn(bob, expected);
    await outbox(expected, bob, 2);
    await started.caughtUp();
    expectFileToBe(expected);
    expect(hook.accepted).toEqual([]);

    down = false;
    await until(() => hook.attempts.length > failFirst, 'the webhook to come back');
    await earn(ada, expected);
    await started.caughtUp();
    await delivering.delivered();
    expect(hook.accepted.map(({ body }) => body)).toEqual(fileEvents());
    expect(hook.accepted.every(({ body, header }) => header === body.id)).toBe(true);
    expectFileToBe(expected);
    // Every failed attempt was at the first event: nothing was skipped to get past it.
    const failed = hook.attempts.filter((attempt) => attempt.status >= 300);
    expect(failed.length).toBeGreaterThanOrEqual(failFirst);
    expect(new Set(failed.map((attempt) => attempt.id))).toEqual(new Set([fileEvents()[0]?.id]));
    expect(readFileSync(join(dataDir, 'webhook.offset'), 'utf8').trim()).toBe(
      String(readFileSync(join(dataDir, 'events.ndjson')).length),
    );
    expect(logged.length).toBe(failed.length);
  });

  it('a dead webhook (connection refused) does not stop the file sink', async () => {
    const expected: Expected[] = [];
    const ada = await enrol(expected);
    const started = await poller();
    deliverer(`http://127.0.0.1:${await freePort()}/events`);
    await earn(ada, expected);
    await started.caughtUp();
    await until(() => logged.length >= 2, 'failed attempts');
    await earn(ada, expected);
    await started.caughtUp();
    expectFileToBe(expected);
    expect(
      logged.every((line) => /webhook .* failed \(ECONNREFUSED\) for evt_\w+ \(attempt \d+\)/.test(line)),
    ).toBe(true);
    expect(existsSync(join(dataDir, 'webhook.offset'))).toBe(false);
  });
});
