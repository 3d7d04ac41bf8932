import { readFileSync } from 'node:fs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compress, fitBgNbd, fitGammaGamma } from '../../lambdas/domain/customer-base.ts';
import { modelInputs } from '../../lambdas/domain/purchase-history.ts';
import { keys } from '../../lambdas/store/keys.ts';
import { batchGet, memberFromItem } from '../../lambdas/store/member-store.ts';
import { partnerBody, startTestApi, type TestApi } from '../support/api.ts';
import { cdnowCsv, cdnowPurchases } from '../support/cdnow.ts';

/**
 * POST /v1/imports/transactions over HTTP: each line judged on its own, members created on first
 * sight, a re-import changes nothing, points only when asked; and the CDNOW sample imported as raw
 * purchases yields exactly the published per-customer summaries, from which the published model
 * parameters are recovered.
 */
let api: TestApi;
let partnerKey = '';

beforeAll(async () => {
  api = await startTestApi();
  for (const id of ['imp-shop', 'cdnow'])
    await api.request('POST', '/v1/partners', { body: partnerBody(id) });
  partnerKey = (
    await api.request('POST', '/v1/api-keys', {
      body: { name: 'shop', role: 'partner', partnerId: 'imp-shop' },
    })
  ).json.key;
});
afterAll(() => api.close());

const post = (body: string, contentType: string, query = '') =>
  api.request('POST', `/v1/imports/transactions${query}`, {
    rawBody: body,
    headers: { 'content-type': contentType },
  });

/**
 * A large import sent again until it is complete, as the README tells: a call stops at its deadline
 * (`complete: false`, or 503 when a step in flight outlasts it, as on a loaded machine), and the
 * same body again continues. The complete answer: its `imported` + `alreadyImported` are every line.
 * Its tests allow minutes: each call may take up to 29 s.
 */
async function importAll(body: string) {
  for (let call = 0; call < 10; call++) {
    const response = await post(body, 'text/csv');
    if (response.status === 503) continue;
    expect(response.status, response.text).toBe(200);
    if (response.json.complete) return response.json;
  }
  throw new Error('the import never completed');
}

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({
    externalRef: 'cust-1',
    partnerId: 'imp-shop',
    amountMinor: 1000,
    currency: 'USD',
    occurredAt: '2026-01-05T10:00:00Z',
    orderRef: 'o-1',
    ...fields,
  });

describe('imports', () => {
  it('judges each NDJSON line on its own, creates members on first sight, and a re-import changes nothing', async () => {
    const body = [
      line({}),
      line({ orderRef: 'o-2', occurredAt: '2026-01-05T18:00:00Z', amountMinor: 500 }),
      line({ orderRef: 'o-3', occurredAt: '2026-02-01T09:00:00Z', amountMinor: 2000 }),
      line({ externalRef: 'cust-2', orderRef: 'o-4' }),
      '{"externalRef": "cust-3", ',
      line({ orderRef: 'o-5', currency: 'EUR' }),
      line({ orderRef: 'o-6', partnerId: 'nobody' }),
      line({ orderRef: 'o-1' }),
      line({ orderRef: 'o-7', occurredAt: '2999-01-01T00:00:00Z' }),
      line({ orderRef: 'o-8', amountMinor: -1 }),
      '',
      line({ orderRef: 'o-9', extra: true }),
    ].join('\n');
    const first = await post(body, 'application/x-ndjson');
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      id: expect.stringMatching(/^imp_/),
      accepted: 4,
      imported: 4,
      alreadyImported: 0,
      membersCreated: 2,
      rejectedCount: 7,
    });
    expect(first.json.rejected.map((r: { line: number }) => r.line)).toEqual([5, 6, 7, 8, 9, 10, 12]);
    expect(first.json.rejected[0].problem).toMatch(/not valid JSON/);
    expect(first.json.rejected[1].problem).toBe("currency: the program's currency is USD");
    expect(first.json.rejected[2].problem).toBe('partnerId: no partner nobody');
    expect(first.json.rejected[3].problem).toBe('orderRef: o-1 is already on line 1 of this import');
    expect(first.json.rejected[4].problem).toMatch(/future/);
    expect(first.json.rejected[5].problem).toMatch(/^amountMinor: /);
    expect(first.json.rejected[6].problem).toMatch(/extra/);

    const again = await post(body, 'application/x-ndjson');
    expect(again.json).toMatchObject({ accepted: 4, imported: 0, alreadyImported: 4, membersCreated: 0 });

    // The partner finds its customer by its own reference; history only: no points.
    const found = await api.request('GET', '/v1/members?externalRef=cust-1', { key: partnerKey });
    const member = found.json.items[0];
    expect(member).toMatchObject({
      externalRef: 'cust-1',
      enrolledAt: '2026-01-05T10:00:00.000Z',
      balances: { available: 0, lifetimeEarned: 0 },
    });
    const [stored] = (await batchGet(api.store, [keys.member(member.id)])).values();
    // Two purchases on Jan 5 are one transaction; Feb 1 is the one repeat, worth 20.00.
    expect(modelInputs(memberFromItem(stored as Record<string, unknown>).purchases, '2026-02-26')).toEqual({
      x: 1,
      tx: 27 / 7,
      T: 52 / 7,
      meanSpendMinor: 2000,
    });
  });

  it('takes CSV with a header in any column order; earns points only when asked, once', async () => {
    const csv = [
      'orderRef,externalRef,partnerId,amountMinor,currency,occurredAt',
      'p-1,cust-p,imp-shop,12345,USD,2026-11-01T10:00:00Z',
      '"p-2","cust-p",imp-shop,1000,USD,2026-11-02T10:00:00Z',
      'p-3,cust-p,imp-shop,12.5,USD,2026-11-02T10:00:00Z',
    ].join('\r\n');
    const earned = await post(csv, 'text/csv; charset=utf-8', '?points=true');
    expect(earned.json).toMatchObject({ accepted: 2, imported: 2, membersCreated: 1, rejectedCount: 1 });
    expect(earned.json.rejected[0]).toMatchObject({
      line: 4,
      problem: expect.stringMatching(/^amountMinor: /),
    });
    const again = await post(csv, 'text/csv', '?points=true');
    expect(again.json).toMatchObject({ accepted: 2, imported: 0, alreadyImported: 2 });
    const member = (await api.request('GET', '/v1/members?externalRef=cust-p', { key: partnerKey })).json
      .items[0];
    expect(member.balances).toMatchObject({ available: 133, lifetimeEarned: 133 });
    const history = await api.request('GET', `/v1/members/${member.id}/transactions`);
    expect(
      history.json.items.map((t: { orderRef: string; points: number }) => [t.orderRef, t.points]),
    ).toEqual([
      ['p-2', 10],
      ['p-1', 123],
    ]);
  });

  it('refuses what is not an import: 415 for JSON, 400 for nothing or a wrong header, 413 over 6 MB, 403 for partners', async () => {
    expect((await post(line({}), 'application/json')).status).toBe(415);
    const empty = await post('', 'text/csv');
    expect(empty.status).toBe(400);
    const header = await post('customer,amount\n1,2\n', 'text/csv');
    expect(header.status).toBe(400);
    expect(header.json.errors[0].message).toMatch(/missing: externalRef/);
    expect((await post('x'.repeat(6 * 1024 * 1024 + 1), 'text/csv')).status).toBe(413);
    const partner = await api.request('POST', '/v1/imports/transactions', {
      key: partnerKey,
      rawBody: line({}),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(partner.status).toBe(403);
  });

  it('CDNOW sample, raw purchases through the calibration period: the published summaries exactly, and the published fits', async () => {
    const calibration = cdnowPurchases('sample').filter((p) => p.day <= '1997-09-30');
    const imported = await importAll(cdnowCsv(calibration, 'cdnow'));
    expect(imported).toMatchObject({ accepted: calibration.length, rejectedCount: 0 });
    expect(imported.imported + imported.alreadyImported).toBe(calibration.length);

    const expected = new Map(
      readFileSync('test/fixtures/cdnow/cdnow_customers_summary_with_transactions.csv', 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((row) => {
          const [id, x, tx, T, zbar] = row.split(',');
          return [String(id), { x: Number(x), tx: Number(tx), T: Number(T), zbar: Number(zbar) }];
        }),
    );
    // Every imported member's history, as the model will read it (a Scan of member items).
    const histories = new Map<string, ReturnType<typeof modelInputs>>();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await api.store.db.send(
        new ScanCommand({
          TableName: api.store.tableName,
          FilterExpression: 'entity = :member AND attribute_exists(externalRefs.cdnow)',
          ExpressionAttributeValues: { ':member': 'member' },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const member = memberFromItem(item);
        histories.set(String(member.externalRefs.cdnow), modelInputs(member.purchases, '1997-09-30'));
      }
      start = page.LastEvaluatedKey;
    } while (start);
    expect(histories.size).toBe(2357);
    const round2 = (value: number) => Math.round(value * 100) / 100;
    const mismatches = [...expected].filter(([customer, summary]) => {
      const inputs = histories.get(customer);
      return (
        !inputs ||
        inputs.x !== summary.x ||
        round2(inputs.tx) !== summary.tx ||
        round2(inputs.T) !== summary.T ||
        // The published zbar is rounded to cents (half up); ours is exact.
        Math.abs(inputs.meanSpendMinor / 100 - summary.zbar) > 0.005 + 1e-9
      );
    });
    expect(mismatches.map(([customer, summary]) => [customer, summary, histories.get(customer)])).toEqual([]);

    const all = [...histories.values()].filter((inputs) => inputs !== null);
    const bgnbd = fitBgNbd(compress(all));
    const gammaGamma = fitGammaGamma(all.map((i) => ({ x: i.x, meanSpend: i.meanSpendMinor / 100 })));
    const within1 = (actual: number, published: number) =>
      expect(Math.abs(actual / published - 1), `${actual} vs ${published}`).toBeLessThan(0.01);
    within1(bgnbd.r, 0.243);
    within1(bgnbd.alpha, 4.414);
    within1(bgnbd.a, 0.793);
    within1(bgnbd.b, 2.426);
    within1(gammaGamma.p, 6.25);
    within1(gammaGamma.q, 3.74);
    within1(gammaGamma.v, 15.44);

    // The same through the API, as an operator fits it: every active purchaser as of the day.
    const fit = await api.request('POST', '/v1/analytics/churn-model/fit', {
      body: { calibrationEnd: '1997-09-30' },
    });
    expect(fit.status).toBe(200);
    expect(fit.json).toMatchObject({ calibrationEnd: '1997-09-30', members: 2357, repeatMembers: 946 });
    const stored = await api.request('GET', '/v1/analytics/churn-model');
    expect(stored.json).toEqual(fit.json);
    const { bgnbd: fitted, gammaGamma: spend } = fit.json;
    within1(fitted.r, 0.243);
    within1(fitted.alpha, 4.414);
    within1(fitted.a, 0.793);
    within1(fitted.b, 2.426);
    within1(spend.p, 6.25);
    within1(spend.q, 3.74);
    // Spend is fitted in minor units: v in cents.
    within1(spend.v / 100, 15.44);
  }, 180_000);

  it('CDNOW sample, the purchases after the calibration period imported too: a fit to 1997-09-30 still recovers BG/NBD; Gamma-Gamma has only the repeat spend that ended by then', async () => {
    // The calibration period as the previous test imports it (nothing new if it ran), then the rest.
    const calibration = cdnowPurchases('sample').filter((p) => p.day <= '1997-09-30');
    expect(await importAll(cdnowCsv(calibration, 'cdnow'))).toMatchObject({
      complete: true,
      rejectedCount: 0,
    });
    const later = cdnowPurchases('sample').filter((p) => p.day > '1997-09-30');
    const rows = cdnowCsv(later, 'cdnow').split('\n');
    // orderRefs go on after the calibration import's (cd-1…cd-4960), so each purchase is new.
    const offset = cdnowPurchases('sample').length - later.length;
    const body = [
      rows[0],
      ...rows.slice(1).map((row) => row.replace(/,cd-(\d+)$/, (_, n) => `,cd-${Number(n) + offset}`)),
    ].join('\n');
    const imported = await importAll(body);
    expect(imported).toMatchObject({ accepted: later.length, rejectedCount: 0 });
    expect(imported.imported + imported.alreadyImported).toBe(later.length);

    const fit = await api.request('POST', '/v1/analytics/churn-model/fit', {
      body: { calibrationEnd: '1997-09-30' },
    });
    expect(fit.status).toBe(200);
    // Purchase days are kept day by day, so the histories are cut exactly at the calibration day.
    expect(fit.json).toMatchObject({ calibrationEnd: '1997-09-30', members: 2357, repeatMembers: 946 });
    const within1 = (actual: number, published: number) =>
      expect(Math.abs(actual / published - 1), `${actual} vs ${published}`).toBeLessThan(0.01);
    within1(fit.json.bgnbd.r, 0.243);
    within1(fit.json.bgnbd.alpha, 4.414);
    within1(fit.json.bgnbd.a, 0.793);
    within1(fit.json.bgnbd.b, 2.426);
    // Spend is kept in total (domain/purchase-history.ts), so a repeat purchaser who bought again
    // after the calibration day has no known repeat spend as of that day: Gamma-Gamma is fitted on
    // the 455 of the 946 whose purchases all fall in the period (not the published p, q, v, which
    // need the calibration period's spend of every repeat purchaser: the previous test's import).
    expect(fit.json.spendMembers).toBe(455);
  }, 180_000);
});
