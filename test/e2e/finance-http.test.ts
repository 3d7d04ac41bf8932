import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClockAt } from '../../lambdas/config/clock.ts';
import { parseCsv } from '../../lambdas/domain/csv.ts';
import { keys } from '../../lambdas/store/keys.ts';
import { partnerBody, startTestApi, type TestApi } from '../support/api.ts';

/**
 * The finance reports over HTTP, as finance would pull them, on a clock that moves through two
 * years: IFRS 15 Illustrative Example 52 exactly, the liability as it stood on past days, the
 * roll-forward, the KPIs, the reconciliation control, and every report's CSV read back.
 */
let api: TestApi;
let financeKey = '';
const at = (instant: string) => startClockAt(instant);

beforeAll(async () => {
  at('2027-01-10T09:00:00Z');
  api = await startTestApi();
  const program = (await api.request('GET', '/v1/program')).json;
  const { updatedAt: _updatedAt, ...config } = program;
  // Example 52: 1 currency unit per point, 95% of points expected to be redeemed, points never expire.
  const put = await api.request('PUT', '/v1/program', {
    body: {
      ...config,
      pointValueMinor: 1,
      expectedRedemptionRate: 0.95,
      expiryMonths: null,
      activityRules: { survey: 5 },
    },
  });
  expect(put.status).toBe(200);
  // 1 point per 10 currency units: 100,000 of sales earn 10,000 points.
  await api.request('POST', '/v1/partners', {
    body: partnerBody('shop', { earnRule: { pointsPerUnit: 1, unitMinor: 10 } }),
  });
  await api.request('POST', '/v1/partners', { body: partnerBody('cafe') });
  financeKey = (await api.request('POST', '/v1/api-keys', { body: { name: 'finance', role: 'finance' } }))
    .json.key;
});
afterAll(async () => {
  startClockAt(new Date().toISOString());
  await api.close();
});

const asFinance = (path: string) => api.request('GET', path, { key: financeKey });

async function newMember(channel?: string): Promise<string> {
  const created = await api.request('POST', '/v1/members', { body: channel ? { channel } : {} });
  expect(created.status).toBe(201);
  return created.json.id;
}

async function earn(memberId: string, partnerId: string, amountMinor: number, channel?: string) {
  const response = await api.request('POST', `/v1/members/${memberId}/earn`, {
    body: {
      partnerId,
      amountMinor,
      currency: 'USD',
      orderRef: `o-${Math.random()}`,
      ...(channel ? { channel } : {}),
    },
  });
  expect(response.status, response.text).toBe(201);
  return response.json;
}

async function redeem(memberId: string, points: number) {
  const response = await api.request('POST', `/v1/members/${memberId}/redemptions`, {
    body: { points, partnerId: 'shop' },
  });
  expect(response.status, response.text).toBe(201);
}

/** A CSV report read back: one object per row, numbers as numbers, empty cells as null. */
function csvRows(text: string): Record<string, string | number | null>[] {
  const [header, ...records] = parseCsv(text);
  return records.map(({ fields }) =>
    Object.fromEntries(
      (header?.fields ?? []).map((name, index) => {
        const cell = fields[index] ?? '';
        return [name, cell === '' ? null : /^-?\d+(\.\d+)?$/.test(cell) ? Number(cell) : cell];
      }),
    ),
  );
}

describe('IFRS 15 Illustrative Example 52 through the API', () => {
  let customer = '';

  it('allocates 8,676 to the points, recognises 4,110 in year 1 and 3,493 in year 2 after the estimate moves to 9,700', async () => {
    // Year 1: 100,000 of sales with 10,000 points; 4,500 points redeemed.
    at('2027-01-15T10:00:00Z');
    customer = await newMember();
    expect((await earn(customer, 'shop', 100_000)).transaction.points).toBe(10_000);
    at('2027-06-01T10:00:00Z');
    await redeem(customer, 4_500);
    // Year 2 opens with a revised estimate: 9,700 of the 10,000 points will be redeemed.
    at('2028-01-01T08:00:00Z');
    const estimate = await api.request('POST', '/v1/program/redemption-estimates', {
      body: { effectiveFrom: '2028-01-01', expectedRedemptionRate: 0.97 },
    });
    expect(estimate.status, estimate.text).toBe(201);
    expect(estimate.json).toMatchObject({ effectiveFrom: '2028-01-01', expectedRedemptionRate: 0.97 });
    at('2028-09-01T10:00:00Z');
    await redeem(customer, 4_000);
    at('2029-01-05T10:00:00Z');

    const year1 = await asFinance('/v1/reports/deferred-revenue?from=2027-01-01&to=2027-12-31');
    expect(year1.status, year1.text).toBe(200);
    expect(year1.json).toMatchObject({
      expectedRedemptionRate: 0.95,
      allocatedToPointsMinor: 8_676,
      recognizedMinor: 4_110,
      deferredOpeningMinor: 0,
      deferredClosingMinor: 8_676 - 4_110,
    });
    expect(year1.json.cohorts).toEqual([
      {
        month: '2027-01',
        pointsIssued: 10_000,
        transactionPriceMinor: 100_000,
        allocationRate: 0.95,
        allocatedMinor: 8_676,
        redeemedPoints: 4_500,
        expectedRedemptions: 9_500,
        recognizedOpeningMinor: 0,
        recognizedInPeriodMinor: 4_110,
        recognizedClosingMinor: 4_110,
        deferredClosingMinor: 4_566,
      },
    ]);
    const year2 = await asFinance('/v1/reports/deferred-revenue?from=2028-01-01&to=2028-12-31');
    expect(year2.json).toMatchObject({
      expectedRedemptionRate: 0.97,
      allocatedToPointsMinor: 0,
      recognizedMinor: 3_493,
      deferredOpeningMinor: 4_566,
      deferredClosingMinor: 8_676 - 4_110 - 3_493,
    });
    expect(year2.json.cohorts[0]).toMatchObject({ redeemedPoints: 8_500, expectedRedemptions: 9_700 });
    // Periods add up: the halves of year 2 recognise what the year does.
    const first = await asFinance('/v1/reports/deferred-revenue?from=2028-01-01&to=2028-06-30');
    const second = await asFinance('/v1/reports/deferred-revenue?from=2028-07-01&to=2028-12-31');
    expect(first.json.recognizedMinor + second.json.recognizedMinor).toBe(3_493);
    expect(second.json.deferredOpeningMinor).toBe(first.json.deferredClosingMinor);

    const csv = csvRows(
      (await asFinance('/v1/reports/deferred-revenue?from=2028-01-01&to=2028-12-31&format=csv')).text,
    );
    expect(csv.slice(0, -1)).toEqual(
      year2.json.cohorts.map((cohort: Record<string, unknown>) => ({
        ...cohort,
        from: '2028-01-01',
        to: '2028-12-31',
        currency: 'USD',
      })),
    );
    expect(csv.at(-1)).toMatchObject({
      month: 'TOTAL',
      recognizedInPeriodMinor: 3_493,
      deferredClosingMinor: 1_073,
    });
  });

  it('keeps revisions as they were: none backdated, one per day', async () => {
    const past = await api.request('POST', '/v1/program/redemption-estimates', {
      body: { effectiveFrom: '2028-06-01', expectedRedemptionRate: 0.5 },
    });
    expect(past.status).toBe(400);
    expect(past.json.errors).toEqual([
      { path: 'body.effectiveFrom', message: expect.stringMatching(/today or later/) },
    ]);
    const planned = { effectiveFrom: '2040-01-01', expectedRedemptionRate: 0.9 };
    expect((await api.request('POST', '/v1/program/redemption-estimates', { body: planned })).status).toBe(
      201,
    );
    const twice = await api.request('POST', '/v1/program/redemption-estimates', { body: planned });
    expect(twice.status).toBe(409);
    const list = await asFinance('/v1/program/redemption-estimates');
    expect(list.json.items).toEqual([
      {
        effectiveFrom: '2028-01-01',
        expectedRedemptionRate: 0.97,
        createdAt: expect.stringMatching(/^2028-01-01T08:00/),
      },
      { ...planned, createdAt: expect.stringMatching(/^2029-01-05T10:00/) },
    ]);
  });

  it('gives the liability as it stood on past days, valued net of breakage at the estimate then', async () => {
    const on = async (day: string) => (await asFinance(`/v1/reports/liability?asOf=${day}`)).json;
    expect(await on('2027-01-14')).toMatchObject({ outstandingPoints: 0, liabilityMinor: 0 });
    expect(await on('2027-03-01')).toMatchObject({
      outstandingPoints: 10_000,
      liabilityMinor: 10_000,
      expectedRedemptionRate: 0.95,
      expectedLiabilityMinor: 9_500,
      expiryBuckets: [{ month: 'never', points: 10_000 }],
    });
    expect(await on('2028-03-01')).toMatchObject({
      outstandingPoints: 5_500,
      expectedRedemptionRate: 0.97,
      expectedLiabilityMinor: 5_335,
    });
    const today = await on('2029-01-05');
    expect(today).toMatchObject({ outstandingPoints: 1_500 });
    expect(today.byPartner).toEqual([
      expect.objectContaining({ partnerId: 'cafe', outstandingPoints: 0 }),
      expect.objectContaining({ partnerId: 'shop', outstandingPoints: 1_500, liabilityMinor: 1_500 }),
      expect.objectContaining({ partnerId: null, name: 'Coalition', outstandingPoints: 0 }),
    ]);
    const future = await asFinance('/v1/reports/liability?asOf=2029-01-06');
    expect(future.status).toBe(400);
  });

  it('rolls the points forward by month: opening + movements = closing, every month', async () => {
    const report = (await asFinance('/v1/reports/roll-forward?from=2027-01-01&to=2027-12-31')).json;
    expect(report).toMatchObject({
      opening: 0,
      issued: 10_000,
      purchases: 10_000,
      redeemed: 4_500,
      closing: 5_500,
      unexplainedPoints: 0,
    });
    expect(report.months).toHaveLength(12);
    expect(report.months[0]).toMatchObject({ month: '2027-01', opening: 0, issued: 10_000, closing: 10_000 });
    expect(report.months[5]).toMatchObject({
      month: '2027-06',
      opening: 10_000,
      redeemed: 4_500,
      closing: 5_500,
    });
    for (const [index, month] of report.months.entries()) {
      if (index > 0) expect(month.opening).toBe(report.months[index - 1].closing);
      expect(month.unexplainedPoints).toBe(0);
    }
    const csv = csvRows(
      (await asFinance('/v1/reports/roll-forward?from=2027-01-01&to=2027-12-31&format=csv')).text,
    );
    expect(csv).toEqual([
      ...report.months.map((month: Record<string, unknown>) => ({ ...month, currency: 'USD' })),
      expect.objectContaining({ month: 'TOTAL', opening: 0, closing: 5_500, redeemed: 4_500 }),
    ]);
  });
});

describe('KPIs over HTTP', () => {
  it('counts active, new, retained and repeat members by month, partner and channel, with NPS and redemption rate', async () => {
    // March 2029: ann (app) and bob (store) buy; April: ann twice, cy (new, app) once; bob does not.
    at('2029-03-05T10:00:00Z');
    const ann = await newMember('app');
    const bob = await newMember('store');
    await earn(ann, 'cafe', 1_000, 'app');
    await earn(bob, 'shop', 1_000, 'store');
    at('2029-04-02T10:00:00Z');
    const cy = await newMember('app');
    await earn(ann, 'cafe', 1_000, 'app');
    await earn(cy, 'cafe', 1_000, 'app');
    at('2029-04-03T10:00:00Z');
    await earn(ann, 'shop', 1_000, 'app');
    for (const [member, score] of [
      [ann, 10],
      [bob, 9],
      [cy, 3],
    ] as const) {
      const survey = await api.request('POST', `/v1/members/${member}/activities`, {
        body: { type: 'survey', ref: 'april', score },
      });
      expect(survey.status, survey.text).toBe(201);
    }
    at('2029-05-01T10:00:00Z');

    const april = (await asFinance('/v1/reports/kpis?from=2029-04&to=2029-04&groupBy=partner')).json;
    expect(april).toMatchObject({
      from: '2029-04',
      to: '2029-04',
      groupBy: 'partner',
      activeMembers: 2,
      newMembers: 1,
      retentionRate: 0.5,
      churnRate: 0.5,
      repeatPurchaseRate: 0.5,
      nps: 33.3,
      averageClvMinor: null,
      counts: { previousActiveMembers: 2, retainedMembers: 1, repeatMemberMonths: 1, activeMemberMonths: 2 },
    });
    expect(april.groups).toEqual([
      expect.objectContaining({
        group: 'p:cafe',
        activeMembers: 2,
        retentionRate: 1,
        counts: expect.objectContaining({ previousActiveMembers: 1, retainedMembers: 1 }),
      }),
      expect.objectContaining({
        group: 'p:shop',
        activeMembers: 1,
        retentionRate: 0,
        churnRate: 1,
        counts: expect.objectContaining({ previousActiveMembers: 1, retainedMembers: 0 }),
      }),
    ]);
    // Over the two months: 3 distinct active members (ann, bob, cy); 3 enrolled.
    const spring = (await asFinance('/v1/reports/kpis?from=2029-03-01&to=2029-04-30&groupBy=channel')).json;
    expect(spring).toMatchObject({ activeMembers: 3, newMembers: 3 });
    expect(spring.groups).toEqual([
      expect.objectContaining({ group: 'c:app', activeMembers: 2, newMembers: 2, redemptionRate: null }),
      expect.objectContaining({ group: 'c:store', activeMembers: 1, newMembers: 1 }),
    ]);
    const csv = csvRows(
      (await asFinance('/v1/reports/kpis?from=2029-04&to=2029-04&groupBy=partner&format=csv')).text,
    );
    expect(csv.map((row) => [row.group, row.activeMembers, row.retentionRate])).toEqual([
      ['all', 2, 0.5],
      ['p:cafe', 2, 1],
      ['p:shop', 1, 0],
    ]);
    const tooLong = await asFinance('/v1/reports/kpis?from=2028-01&to=2029-04');
    expect(tooLong.status).toBe(400);
    const midMonth = await asFinance('/v1/reports/kpis?from=2029-04-02&to=2029-04');
    expect(midMonth.status).toBe(400);
  });
});

describe('the reconciliation control', () => {
  it('finds the books in balance, then a member item changed behind the ledger’s back', async () => {
    at('2029-05-02T01:00:00Z');
    const balanced = await api.request('POST', '/v1/jobs/reconcile', { body: {} });
    expect(balanced.status, balanced.text).toBe(200);
    const liability = (await asFinance('/v1/reports/liability?asOf=2029-05-01')).json;
    expect(balanced.json).toMatchObject({
      job: 'reconcile',
      complete: true,
      changed: 0,
      reconciliation: {
        through: '2029-05-01',
        differences: [],
        unverifiableMembers: 0,
        members: { outstanding: liability.outstandingPoints },
        counters: {
          outstanding: liability.outstandingPoints,
          outstandingByMovements: liability.outstandingPoints,
        },
      },
    });
    // Months that are over are closed (snapshots); the reports read the same figures from them.
    expect(balanced.json.reconciliation.monthsClosed).toContain('2029-03');
    expect((await asFinance('/v1/reports/liability?asOf=2029-05-01')).json).toEqual(liability);
    // Someone edits a member's balance in the table: the next day's run finds 7 points nobody issued.
    const victim = await newMember();
    await earn(victim, 'cafe', 1_000);
    await api.store.db.send(
      new UpdateCommand({
        TableName: api.store.tableName,
        Key: keys.member(victim),
        UpdateExpression: 'SET points.available = points.available + :seven',
        ExpressionAttributeValues: { ':seven': 7 },
      }),
    );
    at('2029-05-03T01:00:00Z');
    const found = await api.request('POST', '/v1/jobs/reconcile', { body: {} });
    expect(found.json.reconciliation.differences).toEqual([
      { figure: 'available', counters: expect.any(Number), actual: expect.any(Number), difference: 7 },
    ]);
    // The same call again answers the same findings (the run is complete).
    const again = await api.request('POST', '/v1/jobs/reconcile', { body: {} });
    expect(again.json.reconciliation.differences).toEqual(found.json.reconciliation.differences);
  });
});

describe('CSV', () => {
  it('reads back as the JSON for the liability, KPIs and settlement', async () => {
    const liability = (await asFinance('/v1/reports/liability?asOf=2029-05-01')).json;
    const rows = csvRows((await asFinance('/v1/reports/liability?asOf=2029-05-01&format=csv')).text);
    expect(rows.slice(0, -1)).toEqual(
      liability.byPartner.map((line: { partnerId: string | null }) => ({
        ...line,
        partnerId: line.partnerId ?? 'COALITION',
        asOf: '2029-05-01',
        currency: 'USD',
      })),
    );
    expect(rows.at(-1)).toMatchObject({ partnerId: 'TOTAL', outstandingPoints: liability.outstandingPoints });
    const csv = await asFinance('/v1/reports/liability?format=csv');
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  });
});
