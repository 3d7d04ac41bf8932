import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** `npm start` as a user runs it: bin/local.ts in its own process, with its own .data folder. */
interface Started {
  child: ChildProcess;
  output: () => string;
  url: string;
  adminKey: string;
}

const dataDir = mkdtempSync(join(tmpdir(), 'loyalty-start-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

function run(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['bin/local.ts'], {
    env: { ...process.env, LOYALTY_DATA_DIR: dataDir, PORT: '0', LOYALTY_BOOTSTRAP_ADMIN_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function start(env: Record<string, string> = {}): Promise<Started> {
  const { child, output } = run(env);
  const deadline = Date.now() + 45_000;
  while (!/Try it:/.test(output())) {
    if (child.exitCode !== null) throw new Error(`npm start exited: ${output()}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up: ${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const url = /listening on (http:\/\/localhost:\d+)/.exec(output())?.[1] as string;
  const adminKey = /Admin key\s+(\S+)/.exec(output())?.[1] as string;
  return { child, output, url, adminKey };
}

async function stop(started: Started): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => started.child.once('exit', (code) => resolve(code)));
  started.child.kill('SIGTERM');
  return exited;
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

  it('honours LOYALTY_CLOCK: restarting later over the same data lets points expire (README)', async () => {
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

  it('one churn band change gives exactly one event, in the feed and in events.ndjson (LOYALTY_CLOCK)', async () => {
    const churnDir = mkdtempSync(join(tmpdir(), 'loyalty-churn-'));
    const env = { LOYALTY_DATA_DIR: churnDir, LOYALTY_FEED_HOLDBACK_SECONDS: '0' };
    const api = async (started: Started, method: string, path: string, body?: unknown, csv?: string) => {
      const response = await fetch(`${started.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${started.adminKey}`,
          'content-type': csv === undefined ? 'application/json' : 'text/csv',
        },
        ...(csv !== undefined ? { body: csv } : body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(response.status, `${method} ${path}`).toBeLessThan(300);
      // biome-ignore lint/suspicious/noExplicitAny: responses are read field by field
      return (await response.json()) as Record<string, any>;
    };
    type Event = { id: string; type: string; memberId: string; data: Record<string, unknown> };
    const churnEvents = async (started: Started): Promise<Event[]> =>
      (await api(started, 'GET', '/v1/events?type=member.churn_risk.changed&limit=100')).items;
    const file = join(churnDir, 'events.ndjson');
    const inFile = () =>
      (existsSync(file) ? readFileSync(file, 'utf8') : '')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Event)
        .filter((event) => event.type === 'member.churn_risk.changed');
    /** The file once it holds `count` churn events (the poller appends them a moment after the commit). */
    const fileWith = async (count: number) => {
      const deadline = Date.now() + 10_000;
      while (inFile().length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      return inFile();
    };
    const header = 'externalRef,partnerId,amountMinor,currency,occurredAt,orderRef';
    const day = (offset: number) =>
      new Date(Date.parse('2026-01-05T12:00:00Z') + offset * 86_400_000).toISOString();
    // 20 customers buying every one to five weeks, some until June and some only in the winter;
    // `lapsed` bought weekly in January and February, then never again.
    const rows: string[] = [];
    for (let c = 0; c < 20; c++) {
      const every = 7 + 7 * (c % 5);
      const until = c % 3 === 0 ? 60 : 170;
      for (let d = c, n = 0; d <= until; d += every, n++)
        rows.push(`c${c},churn-shop,${1_500 + 100 * c},USD,${day(d)},c${c}-${n}`);
    }
    for (let d = 0; d < 56; d += 7) rows.push(`lapsed,churn-shop,2500,USD,${day(d)},lapsed-${d}`);
    try {
      const july1 = await start({ ...env, LOYALTY_CLOCK: '2026-07-01T00:00:00Z' });
      await api(july1, 'POST', '/v1/partners', {
        id: 'churn-shop',
        name: 'Churn shop',
        earnRule: { pointsPerUnit: 1, unitMinor: 100 },
        fundingRateMinor: 1,
        reimbursementRateMinor: 1,
      });
      const imported = await api(
        july1,
        'POST',
        '/v1/imports/transactions',
        undefined,
        [header, ...rows].join('\n'),
      );
      expect(imported).toMatchObject({ complete: true, membersCreated: 21, rejectedCount: 0 });
      await api(july1, 'POST', '/v1/analytics/churn-model/fit', {});
      const first = await api(july1, 'POST', '/v1/jobs/churn-scan', {});
      expect(first).toMatchObject({ processed: 21, changed: 21, complete: true });
      const firstEvents = await churnEvents(july1);
      expect(firstEvents).toHaveLength(21); // a first score is a change from nothing
      const lapsed = firstEvents.find(
        (event) =>
          event.data.current === 'high' &&
          event.data.pAlive === Math.min(...firstEvents.map((e) => e.data.pAlive as number)),
      );
      expect(lapsed).toBeDefined();
      expect((await fileWith(21)).map((event) => event.id).sort()).toEqual(
        firstEvents.map((event) => event.id).sort(),
      );
      // The lapsed customer comes back late that evening.
      const back = await api(
        july1,
        'POST',
        '/v1/imports/transactions',
        undefined,
        `${header}\nlapsed,churn-shop,4000,USD,2026-07-01T00:00:30Z,lapsed-back`,
      );
      expect(back).toMatchObject({ imported: 1 });
      await stop(july1);

      const july2 = await start({ ...env, LOYALTY_CLOCK: '2026-07-02T00:00:00Z' });
      const second = await api(july2, 'POST', '/v1/jobs/churn-scan', {});
      expect(second).toMatchObject({ processed: 21, complete: true });
      const again = await api(july2, 'POST', '/v1/jobs/churn-scan', {});
      // The day's run is done: nothing is scored or sent twice.
      expect(again).toEqual({ ...second, asOf: expect.stringMatching(/^2026-07-02T/) });
      const events = await churnEvents(july2);
      const added = events.filter((event) => !firstEvents.some((seen) => seen.id === event.id));
      // One event per band change, no more: the job's count, each member at most once.
      expect(added).toHaveLength(second.changed);
      expect(new Set(added.map((event) => event.memberId)).size).toBe(added.length);
      const comeback = added.filter((event) => event.memberId === lapsed?.memberId);
      expect(comeback).toEqual([
        expect.objectContaining({ data: expect.objectContaining({ previous: 'high', current: 'low' }) }),
      ]);
      const member = await api(july2, 'GET', `/v1/members/${lapsed?.memberId}`);
      expect(member.churn).toMatchObject({ risk: 'low', pAlive: comeback[0]?.data.pAlive });
      // The file holds every event of the feed exactly once.
      const written = await fileWith(21 + added.length);
      expect(written.map((event) => event.id).sort()).toEqual(events.map((event) => event.id).sort());
      expect(written.filter((event) => event.memberId === lapsed?.memberId)).toHaveLength(2);
      await stop(july2);
    } finally {
      rmSync(churnDir, { recursive: true, force: true });
    }
  });

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
