import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Json, readmeServer } from '../support/readme.ts';

/**
 * README "Churn risk", run as written (awk, curl, jq) against the local server, each step at the
 * clock its marker states. The README starts this walkthrough on a data folder of its own, so it
 * has its own test file and table: the other walkthroughs' members (cd-4 of "Importing history"
 * bought in 1997 too) would be fitted with CDNOW's customers and move the published parameters.
 */
const server = readmeServer();
const { step } = server;
beforeAll(server.setUp);
afterAll(server.tearDown);

/** Every `member.churn_risk.changed` in the table (the outbox items the scans wrote). */
async function churnEvents(): Promise<Json[]> {
  const events: Json[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const { store } = server.api();
    const page = await store.db.send(
      new ScanCommand({
        TableName: store.tableName,
        FilterExpression: 'entity = :event AND #event.#type = :type',
        ExpressionAttributeNames: { '#event': 'event', '#type': 'type' },
        ExpressionAttributeValues: { ':event': 'event', ':type': 'member.churn_risk.changed' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    events.push(...(page.Items ?? []).map((item) => item.event as Json));
    start = page.LastEvaluatedKey;
  } while (start);
  return events;
}

const within1 = (actual: number, published: number) =>
  expect(Math.abs(actual / published - 1), `${actual} vs ${published}`).toBeLessThan(0.01);

describe('README "Churn risk"', () => {
  it('works as written: CDNOW to September 1997 fitted to the published parameters, scanned; nine months later only the bands that moved are events, read from the feed', async () => {
    // October 1997: the calibration period imported, fitted, every customer scored once.
    const [shop, imported, fit, scan] = await step('churn-walkthrough');
    expect(shop).toMatchObject({ id: 'cdnow', status: 'active' });
    expect(imported).toEqual({ complete: true, accepted: 4960, rejectedCount: 0 });
    expect(fit).toMatchObject({ members: 2357, repeatMembers: 946 });
    // The values the block's comment (and test/fixtures/cdnow/README.md) states.
    within1(fit?.bgnbd.r, 0.243);
    within1(fit?.bgnbd.alpha, 4.414);
    within1(fit?.bgnbd.a, 0.793);
    within1(fit?.bgnbd.b, 2.426);
    within1(fit?.gammaGamma.p, 6.25);
    within1(fit?.gammaGamma.q, 3.74);
    within1(fit?.gammaGamma.v, 1544);
    expect(scan).toEqual({
      job: 'churn-scan',
      asOf: expect.stringMatching(/^1997-10-01T00:00:/),
      processed: 2357,
      changed: 2357,
      complete: true,
    });
    expect(await churnEvents()).toHaveLength(2357);

    // July 1998: the rest imported (no new customer), the same model scores everyone as of today.
    const [rest, rescan] = await step('churn-walkthrough-2');
    expect(rest).toEqual({ complete: true, accepted: 1959, rejectedCount: 0 });
    expect(rescan).toMatchObject({
      job: 'churn-scan',
      asOf: expect.stringMatching(/^1998-07-01T00:00:/),
      processed: 2357,
      complete: true,
    });
    const moved = (await churnEvents()).filter((event) => event.occurredAt.startsWith('1998-07-01'));
    expect(rescan?.changed).toBe(moved.length);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.length).toBeLessThan(2357);
    expect(new Set(moved.map((event) => event.memberId)).size).toBe(moved.length);
    for (const event of moved) expect(event.data.previous).not.toBe(event.data.current);

    // A minute later (past the feed's 30-second holdback): the members who turned high, from the feed.
    const turnedHigh = moved.filter((event) => event.data.current === 'high');
    expect(turnedHigh.length).toBeGreaterThan(0);
    const [count, first, churn, analytics] = await step('churn-walkthrough-3');
    expect(Number(count?.csv)).toBe(turnedHigh.length);
    expect(first).toEqual({
      id: expect.stringMatching(/^evt_/),
      memberId: expect.stringMatching(/^mem_/),
      data: {
        previous: expect.stringMatching(/^(low|medium)$/),
        current: 'high',
        pAlive: expect.any(Number),
        clvMinor: expect.any(Number),
      },
    });
    // The feed's first: the smallest id of the day's turns.
    expect(first?.id).toBe(turnedHigh.map((event) => event.id).sort()[0]);
    expect(first?.data.pAlive).toBeLessThan(0.3);
    expect(churn).toEqual({
      pAlive: first?.data.pAlive,
      risk: 'high',
      expectedPurchases90d: expect.any(Number),
      clvMinor: first?.data.clvMinor,
      scoredAt: rescan?.asOf,
    });
    // Computed now, on the same day with the same model: the scores the scan stored.
    expect(analytics).toEqual({
      inputs: {
        x: expect.any(Number),
        tx: expect.any(Number),
        T: expect.any(Number),
        meanSpendMinor: expect.any(Number),
      },
      scores: {
        pAlive: first?.data.pAlive,
        risk: 'high',
        expectedPurchases90d: churn?.expectedPurchases90d,
        expectedSpendMinor: expect.any(Number),
        clvMinor: first?.data.clvMinor,
      },
    });
    // CDNOW's customers first bought in the first quarter of 1997: T is 65 to 78 weeks on 1998-07-01.
    expect(analytics?.inputs.T).toBeGreaterThan(65);
    expect(analytics?.inputs.T).toBeLessThanOrEqual(78);
  }, 180_000);
});
