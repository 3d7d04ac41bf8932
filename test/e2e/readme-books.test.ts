import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeServer } from '../support/readme.ts';

/**
 * README "Closing the month", run as written (curl, jq) against the local server, each step at the
 * clock its marker states, on a table of its own (the README gives it a data folder of its own).
 */
const { setUp, tearDown, step } = readmeServer();
beforeAll(setUp);
afterAll(tearDown);

describe('README "Closing the month"', () => {
  it('works as written: April sold, redeemed and surveyed; May 1st reconciles and reports it', async () => {
    const april = await step('books-walkthrough');
    expect(april).toEqual([
      { id: 'bakery', status: 'active' },
      { type: 'earn', points: 250 },
      { type: 'activity', points: 25 },
      { status: 'captured', points: 100 },
      { type: 'earn', points: 120 },
      { type: 'activity', points: 25 },
      { type: 'earn', points: 80 },
      { type: 'activity', points: 25 },
    ]);

    const [reconciled, liability, rollForward, deferred, kpis, ...csv] = await step('books-walkthrough-2');
    expect(reconciled).toEqual({
      through: '2027-04-30',
      differences: [],
      members: { available: 425, pending: 0, held: 0, outstanding: 425 },
    });
    expect(liability).toEqual({
      outstandingPoints: 425,
      liabilityMinor: 425,
      expectedLiabilityMinor: 340,
      // The surveys are the coalition's points (no partner); the 100 redeemed came from April's 525
      // in proportion: 86 of the bakery's 450, 14 of the coalition's 75.
      byPartner: [
        { partnerId: 'bakery', outstandingPoints: 364 },
        { partnerId: null, outstandingPoints: 61 },
      ],
      expiryBuckets: [{ month: '2029-05', points: 425 }],
    });
    expect(rollForward).toEqual({
      opening: 0,
      issued: 525,
      purchases: 450,
      activities: 75,
      redeemed: 100,
      expired: 0,
      closing: 425,
      unexplainedPoints: 0,
    });
    // 45,000 × 360 / 45,360 = 357.14 → 357 allocated. The 100 redeemed come FIFO from April's 525
    // points, 450 of them sold: 86 of the cohort's (largest remainder), 357 × 86 / 360 = 85.3 → 85.
    expect(deferred).toEqual({ allocatedToPointsMinor: 357, recognizedMinor: 85, deferredClosingMinor: 272 });
    expect(kpis).toEqual({
      activeMembers: 3,
      newMembers: 3,
      repeatPurchaseRate: 0,
      redemptionRate: 0.1905,
      nps: 33.3,
      groups: [{ group: 'c:store', activeMembers: 3 }],
    });
    expect(csv.map((row) => row.csv)).toEqual([
      'partnerId,name,asOf,currency,outstandingPoints,pendingPoints,heldPoints,liabilityMinor,expectedLiabilityMinor',
      '"bakery","Bakery","2027-04-30","USD",364,0,0,364,291',
      '"COALITION","Coalition","2027-04-30","USD",61,0,0,61,49',
      '"TOTAL","","2027-04-30","USD",425,0,0,425,340',
    ]);
  });
});
