/**
 * `/docs` and `/console` in headless Chromium (Debian's package, driven by playwright-core), served
 * by `npm start` over live data. Screenshots land in test/artifacts/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../lambdas/routes/manifest.ts';
import { churnHistory, historyCsv } from '../support/churn-history.ts';
import { npmStartLauncher, type Started } from '../support/npm-start.ts';

/** The page's own global, inside page.evaluate (the project compiles without the DOM library). */
// biome-ignore lint/suspicious/noExplicitAny: browser-side code, typed by the browser
declare const document: any;

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
const dataDir = mkdtempSync(join(tmpdir(), 'loyalty-browser-'));
const launcher = npmStartLauncher(dataDir);

let started: Started;
let browser: Browser;
let financeKey: string;

// biome-ignore lint/suspicious/noExplicitAny: responses are read field by field
async function call(method: string, path: string, body?: unknown, key = started.adminKey): Promise<any> {
  const response = await fetch(`${started.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined
        ? {}
        : { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

/**
 * Two partners, members earning at both, a redemption at one, and an imported purchase history
 * (no points) fitted and scanned for churn: every panel has figures.
 */
async function seed(): Promise<void> {
  const keys: Record<string, string> = {};
  for (const partnerId of ['north-books', 'south-coffee']) {
    await call('POST', '/v1/partners', {
      id: partnerId,
      name: partnerId === 'north-books' ? 'North Books' : 'South Coffee',
      earnRule: { pointsPerUnit: 1, unitMinor: 100 },
      fundingRateMinor: 1,
      reimbursementRateMinor: 1,
    });
    keys[partnerId] = (
      await call('POST', '/v1/api-keys', {
        name: `${partnerId} till`,
        role: 'partner',
        partnerId,
        scopes: ['members:write', 'points:earn', 'points:redeem'],
      })
    ).key;
  }
  financeKey = (await call('POST', '/v1/api-keys', { name: 'Finance', role: 'finance' })).key;
  for (let i = 0; i < 3; i += 1) {
    const member = await call('POST', '/v1/members', { externalRef: `browser-${i}` });
    await call(
      'POST',
      `/v1/members/${member.id}/earn`,
      { amountMinor: 12_000 + i * 1_000, currency: 'USD', orderRef: `n-${i}` },
      keys['north-books'],
    );
    await call(
      'POST',
      `/v1/members/${member.id}/earn`,
      { amountMinor: 5_000, currency: 'USD', orderRef: `s-${i}` },
      keys['south-coffee'],
    );
    if (i === 0)
      await call(
        'POST',
        `/v1/members/${member.id}/redemptions`,
        { points: 40, orderRef: 'r-0' },
        keys['south-coffee'],
      );
  }
  const today = new Date().toISOString().slice(0, 10);
  const imported = await fetch(`${started.url}/v1/imports/transactions`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${started.adminKey}`,
      'content-type': 'text/csv',
      'idempotency-key': 'browser-history',
    },
    body: historyCsv(churnHistory(today), 'north-books'),
  });
  if (imported.status !== 200) throw new Error(`import → ${imported.status}: ${await imported.text()}`);
  await call('POST', '/v1/analytics/churn-model/fit', {});
  await call('POST', '/v1/jobs/churn-scan', {});
}

/** A page that records every request, so a test can prove nothing left this origin. */
async function open(path: string): Promise<{ page: Page; requested: string[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const requested: string[] = [];
  const errors: string[] = [];
  page.on('request', (request) => requested.push(request.url()));
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${started.url}${path}`);
  return { page, requested, errors };
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`No Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH).`);
  mkdirSync(ARTIFACTS, { recursive: true });
  started = await launcher.start();
  await seed();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // The machine's network is closed: Chromium's own background connections only fail slowly.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (started) await launcher.stop(started);
  launcher.killAll();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('GET /docs', () => {
  it('lists every operation of the manifest, loading nothing from outside this origin', async () => {
    const { page, requested, errors } = await open('/docs');
    await page.getByText('Loyalty rewards API').first().waitFor({ timeout: 20_000 });
    // Each group opened in the sidebar shows its operations by summary.
    const text = await page.evaluate(async () => {
      for (const button of document.querySelectorAll('[aria-expanded="false"]')) button.click();
      await new Promise((resolve) => setTimeout(resolve, 500));
      return document.body.innerText;
    });
    const missing = routes.filter((route) => !text.includes(route.summary)).map((route) => route.operationId);
    expect(missing).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'docs.png') });
    expect(errors).toEqual([]);
    expect([...new Set(requested.map((url) => new URL(url).origin))]).toEqual([started.url]);
    await page.close();
  }, 60_000);
});

describe('GET /console', () => {
  it('draws liability, roll-forward, settlement, churn segments and KPIs from the report routes with a finance key', async () => {
    const { page, requested, errors } = await open('/console');
    await page.fill('#key', financeKey);
    await page.click('button[type=submit]');
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 30_000 });

    const today = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.UTC(Number(today.slice(0, 4)), Number(today.slice(5, 7)) - 12, 1))
      .toISOString()
      .slice(0, 10);
    const series = async (id: string) =>
      JSON.parse((await page.getAttribute(`#${id}`, 'data-series')) as string) as Record<string, unknown[]>;

    const liability = await call('GET', `/v1/reports/liability?asOf=${today}`, undefined, financeKey);
    const liabilitySeries = await series('liability-chart');
    expect(liabilitySeries.labels?.length).toBe(12);
    expect(liabilitySeries.outstandingPoints?.at(-1)).toBe(liability.outstandingPoints);
    expect(liability.outstandingPoints).toBe(120 + 130 + 140 + 3 * 50 - 40);

    const rollForward = await call(
      'GET',
      `/v1/reports/roll-forward?from=${from}&to=${today}`,
      undefined,
      financeKey,
    );
    const rollSeries = await series('roll-forward-chart');
    expect(rollSeries.closing).toEqual(rollForward.months.map((m: { closing: number }) => m.closing));
    expect(rollSeries.closing?.at(-1)).toBe(liability.outstandingPoints);

    const settlement = await call(
      'GET',
      `/v1/reports/settlement?from=${from}&to=${today}`,
      undefined,
      financeKey,
    );
    const settlementSeries = await series('settlement-chart');
    expect(settlementSeries.labels).toEqual(['north-books', 'south-coffee']);
    expect(settlementSeries.netMinor).toEqual(
      settlement.partners.map((p: { netMinor: number }) => p.netMinor),
    );

    const segments = await call('GET', '/v1/analytics/segments?by=churnRisk', undefined, financeKey);
    const segmentSeries = await series('segments-chart');
    const byRisk = Object.fromEntries(
      segments.cells.map((cell: { churnRisk: string; members: number }) => [cell.churnRisk, cell.members]),
    );
    expect(segmentSeries.members).toEqual(['low', 'medium', 'high'].map((risk) => byRisk[risk] ?? 0));
    // The imported history's 16 regular, stopped and one-time purchasers and today's 3 buyers are
    // low, its 6 lapsed high.
    expect(segmentSeries.members).toEqual([19, 0, 6]);

    for (const id of ['kpis', 'liability', 'roll-forward', 'settlement', 'segments'])
      expect(await page.getAttribute(`#${id}`, 'data-state')).toBe('ready');
    const kpis = await call('GET', `/v1/reports/kpis?from=${from}&to=${today}`, undefined, financeKey);
    expect(await page.textContent('[data-kpi="Active members"] .value')).toBe(String(kpis.activeMembers));
    expect(kpis.activeMembers).toBeGreaterThanOrEqual(3);

    // The charts drew: each canvas differs from a blank one of its size.
    const drawn = await page.evaluate(() =>
      ['liability-chart', 'roll-forward-chart', 'settlement-chart', 'segments-chart'].map((id) => {
        const canvas = document.getElementById(id);
        const blank = Object.assign(document.createElement('canvas'), {
          width: canvas.width,
          height: canvas.height,
        });
        return canvas.width > 0 && canvas.toDataURL() !== blank.toDataURL();
      }),
    );
    expect(drawn).toEqual([true, true, true, true]);

    await page.screenshot({ path: join(ARTIFACTS, 'console.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect([...new Set(requested.map((url) => new URL(url).origin))]).toEqual([started.url]);
    await page.close();
  }, 60_000);

  it('says "not available" for the panels a partner key may not read, and refuses an unknown key', async () => {
    const partnerKey = (
      await call('POST', '/v1/api-keys', {
        name: 'North books web',
        role: 'partner',
        partnerId: 'north-books',
        scopes: ['members:write'],
      })
    ).key;
    const { page } = await open('/console');
    await page.fill('#key', 'lk_not_a_key_at_all_0000000000000000000000000');
    await page.click('button[type=submit]');
    await page.waitForSelector('#status.error');
    expect(await page.textContent('#status')).toContain('not valid (401)');

    await page.fill('#key', partnerKey);
    await page.click('button[type=submit]');
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 30_000 });
    expect(await page.getAttribute('#segments', 'data-state')).toBe('unavailable');
    expect(await page.textContent('#segments .unavailable')).toMatch(/Not available: .*\(403\)/);
    await page.close();
  }, 60_000);
});
