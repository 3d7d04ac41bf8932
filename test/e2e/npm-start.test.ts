import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { churnHistory, historyCsv, IMPORT_HEADER } from '../support/churn-history.ts';
import { npmStartLauncher, type Started } from '../support/npm-start.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'loyalty-start-'));
const { run, start, stop, killAll } = npmStartLauncher(dataDir);
afterAll(() => {
  killAll();
  rmSync(dataDir, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: responses are read field by field
type Json = Record<string, any>;

/** One call to a started server with its admin key (or `key`); JSON, or a raw body of `contentType`. */
async function call(
  started: Started,
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; contentType?: string; key?: string } = {},
): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${started.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${options.key ?? started.adminKey}`,
      ...(options.body !== undefined || options.raw !== undefined
        ? { 'content-type': options.contentType ?? 'application/json' }
        : {}),
    },
    ...(options.raw !== undefined
      ? { body: options.raw }
      : options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {}),
  });
  return { status: response.status, json: (await response.json()) as Json };
}

/** The events in a data folder's events.ndjson, in the order they were appended. */
function eventsInFile(dir: string): Json[] {
  const file = join(dir, 'events.ndjson');
  return (existsSync(file) ? readFileSync(file, 'utf8') : '')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Json);
}

const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start', () => {
  let memberId: string;
  let firstKey: string;

  it('serves the API, prints the admin key and a curl that works, and stops Java on SIGTERM', async () => {
    const started = await start();
    firstKey = started.adminKey;
    expect(started.output()).toContain(
      `curl -s ${started.url}/v1/program -H "Authorization: Bearer ${firstKey}"`,
    );
    expect(readFileSync(join(dataDir, 'admin-key'), 'utf8').trim()).toBe(firstKey);
    const program = await fetch(`${started.url}/v1/program`, {
      headers: { authorization: `Bearer ${firstKey}` },
    });
    expect(program.status).toBe(200);
    const created = await fetch(`${started.url}/v1/members`, {
      method: 'POST',
      headers: { authorization: `Bearer ${firstKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Persisted' }),
    });
    memberId = ((await created.json()) as { id: string }).id;

    const pid = Number(readFileSync(join(dataDir, 'dynamodb', 'dynamodb-local.pid'), 'utf8'));
    expect(pidAlive(pid)).toBe(true);
    expect(await stop(started)).toBe(0);
    expect(pidAlive(pid)).toBe(false);
    expect(existsSync(join(dataDir, 'dynamodb', 'dynamodb-local.pid'))).toBe(false);
  });

  it('keeps data and the generated admin key across restarts', async () => {
    const started = await start();
    expect(started.adminKey).toBe(firstKey);
    expect(started.output()).toContain('reused');
    const member = await fetch(`${started.url}/v1/members/${memberId}`, {
      headers: { authorization: `Bearer ${firstKey}` },
    });
    expect(member.status).toBe(200);
    await stop(started);
  });

  it("publishes events from the table stream: an earn shows up in the data folder's events.ndjson", async () => {
    const started = await start();
    expect(started.output()).toMatch(/Events\s+\S*events\.ndjson \(webhook: none\)/);
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${started.url}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${started.adminKey}`,
          'content-type': 'application/json',
          'idempotency-key': `events-${path}`,
        },
        body: JSON.stringify(body),
      });
      expect(response.status).toBeLessThan(300);
      // biome-ignore lint/suspicious/noExplicitAny: responses are read field by field
      return (await response.json()) as Record<string, any>;
    };
    await post('/v1/partners', {
      id: 'events-shop',
      name: 'Events shop',
      earnRule: { pointsPerUnit: 1, unitMinor: 100 },
      fundingRateMinor: 1,
      reimbursementRateMinor: 1,
    });
    const member = await post('/v1/members', {});
    const earned = await post(`/v1/members/${member.id}/earn`, {
      partnerId: 'events-shop',
      amountMinor: 1_234,
      currency: 'USD',
      orderRef: 'events-1',
    });
    const eventId = `evt_${String(earned.transaction.id).slice('txn_'.length)}`;

    const file = join(dataDir, 'events.ndjson');
    const events = () =>
      (existsSync(file) ? readFileSync(file, 'utf8') : '')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { id: string; type: string; memberId?: string });
    const deadline = Date.now() + 5_000;
    while (!events().some((event) => event.id === eventId)) {
      if (Date.now() > deadline) throw new Error(`${eventId} not in ${file}: ${started.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(events().filter((event) => event.id === eventId)).toEqual([
      expect.objectContaining({
        type: 'points.earned',
        memberId: member.id,
        partnerId: 'events-shop',
        data: expect.objectContaining({ points: 12 }),
      }),
    ]);
    // The member enrolled by the first start is there too, once: the stream was read across restarts.
    expect(
      events().filter((event) => event.type === 'member.enrolled' && event.memberId === memberId),
    ).toHaveLength(1);
    expect(await stop(started)).toBe(0);
  });

  it('accepts LOYALTY_BOOTSTRAP_ADMIN_KEY as the admin key', async () => {
    const started = await start({ LOYALTY_BOOTSTRAP_ADMIN_KEY: 'my-local-admin-key-0123456789abcdef' });
    expect(started.adminKey).toBe('my-local-admin-key-0123456789abcdef');
    const program = await fetch(`${started.url}/v1/program`, {
      headers: { authorization: `Bearer ${started.adminKey}` },
    });
    expect(program.status).toBe(200);
    await stop(started);
  });

  it('recovers from a DynamoDB Local orphaned by a crash', async () => {
    const crashed = await start();
    const pid = Number(readFileSync(join(dataDir, 'dynamodb', 'dynamodb-local.pid'), 'utf8'));
    // SIGKILL gives Node no chance to clean up: the Java child is orphaned with the pid file left behind.
    crashed.child.kill('SIGKILL');
    await new Promise((resolve) => crashed.child.once('exit', resolve));
    expect(pidAlive(pid)).toBe(true);
    const restarted = await start();
    expect(pidAlive(pid)).toBe(false);
    expect((await fetch(`${restarted.url}/v1/health`)).status).toBe(200);
    await stop(restarted);
  });

  // Two starts of npm start (Java each time): more than the default 30 s on a loaded machine.
  it('honours LOYALTY_CLOCK: restarting later over the same data lets points expire (README)', {
    timeout: 90_000,
  }, async () => {
    const clockDir = mkdtempSync(join(tmpdir(), 'loyalty-clock-'));
    const api = async (started: Started, method: string, path: string, body?: unknown) => {
      const response = await fetch(`${started.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${started.adminKey}`,
          'content-type': 'application/json',
          'idempotency-key': `clock-${method}-${path}`,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      // biome-ignore lint/suspicious/noExplicitAny: responses are read field by field
      return (await response.json()) as Record<string, any>;
    };
    try {
      const january = await start({ LOYALTY_CLOCK: '2027-01-15T09:00:00Z', LOYALTY_DATA_DIR: clockDir });
      expect(january.output()).toMatch(/Clock\s+2027-01-15T09:00/);
      await api(january, 'POST', '/v1/partners', {
        id: 'clock-shop',
        name: 'Clock shop',
        earnRule: { pointsPerUnit: 1, unitMinor: 100 },
        fundingRateMinor: 1,
        reimbursementRateMinor: 1,
      });
      const member = await api(january, 'POST', '/v1/members', {});
      expect(Date.parse(member.createdAt) - Date.parse('2027-01-15T09:00:00Z')).toBeLessThan(60_000);
      const earned = await api(january, 'POST', `/v1/members/${member.id}/earn`, {
        partnerId: 'clock-shop',
        amountMinor: 5_000,
        currency: 'USD',
        orderRef: 'clock-1',
      });
      // The default program keeps points 24 months after the month they were earned in.
      expect(earned.transaction.expiresAt).toBe('2029-02-01T00:00:00.000Z');
      await stop(january);

      const later = await start({ LOYALTY_CLOCK: '2029-02-02T09:00:00Z', LOYALTY_DATA_DIR: clockDir });
      const job = await api(later, 'POST', '/v1/jobs/expire-points', {});
      expect(job).toMatchObject({ job: 'expire-points', processed: 1, changed: 1, complete: true });
      expect(job.asOf.startsWith('2029-02-02T09:0')).toBe(true);
      const history = await api(later, 'GET', `/v1/members/${member.id}/transactions`);
      expect(history.items.map((t: { type: string; points: number }) => [t.type, t.points])).toEqual([
        ['expire', -50],
        ['earn', 50],
      ]);
      await stop(later);
    } finally {
      rmSync(clockDir, { recursive: true, force: true });
    }

    const { output, exited } = run({ LOYALTY_CLOCK: 'next tuesday' });
    expect(await exited).toBe(1);
    expect(output()).toContain('LOYALTY_CLOCK=next tuesday is not an RFC 3339 instant');
  });

  it('one churn band change is one member.churn_risk.changed, in the feed and in events.ndjson, however often the scan runs', async () => {
    const churnDir = mkdtempSync(join(tmpdir(), 'loyalty-churn-'));
    // The feed lists events at once (30 s by default).
    const env = { LOYALTY_DATA_DIR: churnDir, LOYALTY_FEED_HOLDBACK_SECONDS: '0' };
    const DAY1 = '2027-07-01';
    const DAY2 = '2027-07-02';
    /** GET /v1/events?type=member.churn_risk.changed, every page. */
    const feed = async (started: Started) => {
      const read: Json[] = [];
      let after = '';
      for (;;) {
        const page = await call(
          started,
          'GET',
          `/v1/events?type=member.churn_risk.changed&limit=10${after ? `&after=${after}` : ''}`,
        );
        expect(page.status).toBe(200);
        read.push(...page.json.items);
        if (page.json.nextCursor === null) return read;
        after = page.json.nextCursor;
      }
    };
    /** Waits until the poller has appended the event with this id to events.ndjson. */
    const appended = async (started: Started, id: string) => {
      const deadline = Date.now() + 10_000;
      while (!eventsInFile(churnDir).some((event) => event.id === id)) {
        if (Date.now() > deadline) throw new Error(`${id} not in events.ndjson: ${started.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const churnEvents = (events: Json[], memberId?: string) =>
      events.filter(
        (event) =>
          event.type === 'member.churn_risk.changed' &&
          (memberId === undefined || event.memberId === memberId),
      );
    // A server still running when an expectation fails is stopped before its folder goes, so its
    // DynamoDB Local is not left behind.
    let running: Started | undefined;
    try {
      // Day 1: 22 purchasers' history imported, the model fitted and every purchaser scored.
      const day1 = await start({ ...env, LOYALTY_CLOCK: `${DAY1}T09:00:00Z` });
      running = day1;
      const shop = await call(day1, 'POST', '/v1/partners', {
        body: {
          id: 'churn-shop',
          name: 'Churn shop',
          earnRule: { pointsPerUnit: 1, unitMinor: 100 },
          fundingRateMinor: 1,
          reimbursementRateMinor: 1,
        },
      });
      expect(shop.status).toBe(201);
      const till = (
        await call(day1, 'POST', '/v1/api-keys', {
          body: { name: 'churn till', role: 'partner', partnerId: 'churn-shop' },
        })
      ).json.key as string;
      const history = churnHistory(DAY1);
      const imported = await call(day1, 'POST', '/v1/imports/transactions', {
        raw: historyCsv(history, 'churn-shop'),
        contentType: 'text/csv',
      });
      expect(imported.json).toMatchObject({
        complete: true,
        imported: 174,
        membersCreated: 22,
        rejectedCount: 0,
      });
      const fit = await call(day1, 'POST', '/v1/analytics/churn-model/fit', { body: {} });
      expect(fit.status).toBe(200);
      expect(fit.json).toMatchObject({ calibrationEnd: DAY1, members: 22, repeatMembers: 18 });
      const scan1 = await call(day1, 'POST', '/v1/jobs/churn-scan', { body: {} });
      expect(scan1.json).toMatchObject({ job: 'churn-scan', processed: 22, changed: 22, complete: true });
      const lapsed = (await call(day1, 'GET', '/v1/members?externalRef=lapsed-1', { key: till })).json
        .items[0] as Json;
      expect(lapsed.churn).toMatchObject({
        risk: 'high',
        scoredAt: expect.stringMatching(/^2027-07-01T09:/),
      });
      const firstBands = await feed(day1);
      // A first score is a change from nothing: one event per purchaser.
      expect(firstBands).toHaveLength(22);
      expect(new Set(firstBands.map((event) => event.memberId)).size).toBe(22);
      expect(churnEvents(firstBands, lapsed.id)).toEqual([
        expect.objectContaining({ data: expect.objectContaining({ previous: null, current: 'high' }) }),
      ]);
      await appended(day1, (churnEvents(firstBands, lapsed.id)[0] as Json).id);
      running = undefined;
      expect(await stop(day1)).toBe(0);

      // Day 2: lapsed-1 buys again. Only its band moves; the scan runs twice, as a retried schedule would.
      const day2 = await start({ ...env, LOYALTY_CLOCK: `${DAY2}T09:00:00Z` });
      running = day2;
      const comeback = await call(day2, 'POST', '/v1/imports/transactions', {
        raw: `${IMPORT_HEADER}\nlapsed-1,churn-shop,4000,USD,${DAY2}T08:00:00Z,lapsed-1-comeback\n`,
        contentType: 'text/csv',
      });
      expect(comeback.json).toMatchObject({ imported: 1, membersCreated: 0 });
      const scan2 = await call(day2, 'POST', '/v1/jobs/churn-scan', { body: {} });
      expect(scan2.json).toMatchObject({ processed: 22, changed: 1, complete: true });
      expect(scan2.json.asOf).toMatch(/^2027-07-02T09:/);
      const again = await call(day2, 'POST', '/v1/jobs/churn-scan', { body: {} });
      expect(again.json).toMatchObject({ processed: 22, changed: 1, complete: true });
      const member = (await call(day2, 'GET', `/v1/members/${lapsed.id}`)).json;
      expect(member.churn).toMatchObject({ risk: 'low', scoredAt: expect.stringMatching(/^2027-07-02T09:/) });
      expect(member.churn.pAlive).toBeGreaterThan(0.6);

      // The feed: exactly one more event, for lapsed-1 alone, with the new scores.
      const bands = await feed(day2);
      const added = bands.filter((event) => !firstBands.some((seen) => seen.id === event.id));
      expect(added).toEqual([
        {
          id: expect.stringMatching(/^evt_/),
          type: 'member.churn_risk.changed',
          version: 1,
          occurredAt: expect.stringMatching(/^2027-07-02T09:/),
          memberId: lapsed.id,
          partnerId: null,
          data: {
            previous: 'high',
            current: 'low',
            pAlive: member.churn.pAlive,
            clvMinor: member.churn.clvMinor,
          },
        },
      ]);
      const change = added[0] as Json;
      expect(churnEvents(bands, lapsed.id)).toHaveLength(2);

      // events.ndjson: the same event, appended once. A member enrolled after both scans is appended
      // after anything they wrote, so once it is in the file nothing of theirs is still on its way.
      const sentinel = (await call(day2, 'POST', '/v1/members', { body: {} })).json;
      await appended(day2, `evt_${String(sentinel.id).slice('mem_'.length)}`);
      const file = eventsInFile(churnDir);
      expect(file.filter((event) => event.id === change.id)).toEqual([change]);
      expect(churnEvents(file, lapsed.id).map((event) => event.data)).toEqual([
        expect.objectContaining({ previous: null, current: 'high' }),
        change.data,
      ]);
      // Every churn event of both days in the file once, and nothing the feed does not have.
      expect(
        churnEvents(file)
          .map((event) => event.id)
          .sort(),
      ).toEqual(bands.map((event) => event.id));
      running = undefined;
      expect(await stop(day2)).toBe(0);
    } finally {
      if (running && running.child.exitCode === null) await stop(running);
      rmSync(churnDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('says clearly that the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const { output, exited } = run({ PORT: String(port) });
    expect(await exited).toBe(1);
    expect(output()).toContain(`Port ${port} is already in use`);
    blocker.close();
  });

  it('says clearly that Java is missing', async () => {
    const { output, exited } = run({ PATH: '/nonexistent' });
    expect(await exited).toBe(1);
    expect(output()).toContain('DynamoDB Local needs Java 17 or newer');
  });
});
