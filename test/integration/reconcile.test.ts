import { beforeAll, describe, expect, it } from 'vitest';
import { liabilityReport } from '../../lambdas/services/finance-reports.ts';
import { runJob } from '../../lambdas/services/jobs.ts';
import type { Store } from '../../lambdas/store/client.ts';
import { admin, contextFor, finance, parse, partnerPrincipal } from '../support/fixtures.ts';
import { createTestPartner, ledgerCalls } from '../support/ledger.ts';
import { createTestStore } from '../support/table.ts';

/**
 * The reconciliation reads every member as of the end of yesterday while members keep changing
 * today: their balance cuts make the walk exact, whatever commits during it.
 */
let store: Store;
let calls: ReturnType<typeof ledgerCalls>;
const DAY = '2027-05-10';
const at = (time: string, day = DAY) => `${day}T${time}.000Z`;

beforeAll(async () => {
  store = await createTestStore('reconcile');
  await createTestPartner(store, 'grocer');
  calls = ledgerCalls(store, partnerPrincipal('grocer'));
});

const reconcile = async (now: string) =>
  parse(await runJob({ ...contextFor(store, admin, { now }) }, 'reconcile', {}));

describe('reconcile', () => {
  it('is exact for the end of yesterday while 120 changes of today commit during the walk', async () => {
    const members = await Promise.all(Array.from({ length: 40 }, () => calls.newMember(at('08:00:00'))));
    for (const [index, id] of members.entries()) {
      await calls.earn(id, { amountMinor: 10_000 + index * 100 }, { now: at('09:00:00') });
    }
    const yesterday = parse(
      await liabilityReport(contextFor(store, finance, { now: at('23:00:00') }), {
        asOf: DAY,
        format: 'json',
      }),
    );

    // Today: the walk and 120 earns and redemptions of the same members, all at once.
    const today = '2027-05-11';
    const changes = members.flatMap((id, index) => [
      calls.earn(id, { amountMinor: 5_000 }, { now: at('00:30:00', today) }),
      calls.redeem(id, 10 + index, { now: at('00:30:01', today), body: { partnerId: 'grocer' } }),
      calls.earn(id, { amountMinor: 700 }, { now: at('00:30:02', today) }),
    ]);
    const [run] = await Promise.all([reconcile(at('00:30:00', today)), ...changes]);
    expect(run).toMatchObject({
      complete: true,
      reconciliation: {
        through: DAY,
        differences: [],
        unverifiableMembers: 0,
        members: { outstanding: yesterday.outstandingPoints },
      },
    });
    expect(run.processed).toBeGreaterThanOrEqual(members.length);
  });

  it('stays exact with a write of yesterday that commits after one of today (midnight)', async () => {
    const id = await calls.newMember(at('10:00:00', '2027-06-01'));
    await calls.earn(id, { amountMinor: 20_000 }, { now: at('10:00:00', '2027-06-01') });
    // 00:00:01 on the 2nd commits first; a request of 23:59:59 on the 1st lands after it.
    await calls.earn(id, { amountMinor: 3_000 }, { now: at('00:00:01', '2027-06-02') });
    await calls.earn(id, { amountMinor: 1_000 }, { now: at('23:59:59', '2027-06-01') });
    const run = await reconcile(at('01:00:00', '2027-06-02'));
    const books = parse(
      await liabilityReport(contextFor(store, finance, { now: at('01:00:00', '2027-06-02') }), {
        asOf: '2027-06-01',
        format: 'json',
      }),
    );
    expect(run.reconciliation).toMatchObject({
      through: '2027-06-01',
      differences: [],
      unverifiableMembers: 0,
    });
    expect(run.reconciliation.members.outstanding).toBe(books.outstandingPoints);
  });
});
