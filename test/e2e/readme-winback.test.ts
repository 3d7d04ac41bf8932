import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Json, readmeServer } from '../support/readme.ts';

/**
 * README "Win-back", run as written (awk, curl, jq) against the local server on a table of its own:
 * the CDNOW sample imported, fitted, scanned; the audience read from the segments and the at-risk
 * index; a coalition-wide campaign for high risk; one at-risk and one low-risk purchase.
 */
const server = readmeServer();
const { step } = server;
beforeAll(server.setUp);
afterAll(server.tearDown);

/** Every scored member's stored scores, straight from the table (what the reads must agree with). */
async function scoredMembers(): Promise<{ id: string; churn: Json }[]> {
  const { store } = server.api();
  const members: { id: string; churn: Json }[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await store.db.send(
      new ScanCommand({
        TableName: store.tableName,
        FilterExpression: 'entity = :member AND attribute_exists(churn.risk)',
        ExpressionAttributeValues: { ':member': 'member' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) members.push({ id: String(item.id), churn: item.churn as Json });
    start = page.LastEvaluatedKey;
  } while (start);
  return members;
}

describe('README "Win-back"', () => {
  it('works as written: the audience from the churn scan, a campaign for high risk, the bonus in the breakdown', async () => {
    const [shop, imported, fit, scan, ...rest] = await step('winback-walkthrough');
    expect(shop).toMatchObject({ id: 'cdnow', status: 'active' });
    expect(imported).toEqual({ complete: true, accepted: 6919 });
    expect(fit).toEqual({ members: 2357 });
    expect(scan).toEqual({ processed: 2357, complete: true });

    const scored = await scoredMembers();
    expect(scored).toHaveLength(2357);
    const cells = rest.slice(0, 3);
    // One cell per band, high first, from the scan's sums: the table's members, CLV and points.
    expect(cells.map((cell) => cell.churnRisk)).toEqual(['high', 'medium', 'low']);
    for (const cell of cells) {
      const band = scored.filter((member) => member.churn.risk === cell.churnRisk);
      const clv = band.reduce((sum, member) => sum + Number(member.churn.clvMinor), 0);
      expect(cell).toEqual({
        churnRisk: cell.churnRisk,
        members: band.length,
        averageClvMinor: Math.floor(clv / band.length),
        outstandingPoints: 0,
      });
    }

    // The three most valuable high-risk members with CLV ≥ 1,000, as the table has them.
    const atRisk = rest.slice(3, 6);
    const expected = scored
      .filter((member) => member.churn.risk === 'high' && member.churn.clvMinor >= 1000)
      .sort((a, b) => b.churn.clvMinor - a.churn.clvMinor || b.id.localeCompare(a.id))
      .slice(0, 3)
      .map((member) => ({
        memberId: member.id,
        pAlive: member.churn.pAlive,
        clvMinor: member.churn.clvMinor,
      }));
    expect(atRisk).toEqual(expected);

    const [winBack, noOffer, campaign] = rest.slice(6);
    const campaignLine = winBack?.breakdown.find((line: Json) => line.rule.startsWith('campaign:cmp_'));
    expect(winBack).toEqual({
      points: 525,
      breakdown: [
        { rule: 'base', points: 25 },
        { rule: campaignLine?.rule, points: 500 },
      ],
    });
    expect(noOffer).toEqual({ points: 25, breakdown: [{ rule: 'base', points: 25 }] });
    expect(campaign).toEqual({
      name: 'Win-back July',
      budget: { awardedPoints: 500, remainingPoints: 99_500, exhaustedAt: null },
    });
    expect(rest).toHaveLength(9);
  }, 240_000);
});
