import { beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, InsufficientPointsError } from '../../lambdas/domain/errors.ts';
import { defaultProgram } from '../../lambdas/schemas/program.ts';
import { replaceProgram } from '../../lambdas/services/program.ts';
import type { Store } from '../../lambdas/store/client.ts';
import { admin, contextFor, parse, partnerPrincipal } from '../support/fixtures.ts';
import { createTestPartner, ledgerCalls } from '../support/ledger.ts';
import { createTestStore } from '../support/table.ts';

/**
 * Races of the lifecycle on DynamoDB Local: whatever the interleaving, one of two conflicting
 * changes wins and the other is refused with the state it found, nothing is counted twice, and
 * the ledger still sums to the balances.
 */
let store: Store;
let calls: ReturnType<typeof ledgerCalls>;

beforeAll(async () => {
  store = await createTestStore('races');
  calls = ledgerCalls(store, partnerPrincipal('grocer'));
  await createTestPartner(store, 'grocer');
  await replaceProgram(contextFor(store, admin), { ...defaultProgram, expiryMonths: 1 });
});

const outcomes = (results: PromiseSettledResult<unknown>[]) => ({
  ok: results.filter((result) => result.status === 'fulfilled').length,
  refused: results.filter((result) => result.status === 'rejected' && result.reason instanceof ConflictError)
    .length,
  other: results.filter(
    (result) => result.status === 'rejected' && !(result.reason instanceof ConflictError),
  ),
});

async function expectBalanced(memberId: string, now?: string) {
  const entries = await calls.history(memberId);
  const { balances } = await calls.member(memberId, now);
  expect(entries.reduce((sum, entry) => sum + entry.points, 0)).toBe(
    balances.available + balances.pending + balances.reserved,
  );
}

describe('lifecycle races', () => {
  it('capture vs release of one hold: exactly one wins, every time', async () => {
    const memberId = await calls.newMember();
    await calls.earn(memberId, { amountMinor: 100_000 });
    let captured = 0;
    for (let round = 0; round < 8; round++) {
      const id = parse(await calls.hold(memberId, 100)).redemption.id;
      const results = await Promise.allSettled([calls.capture(id), calls.release(id)]);
      const { ok, refused, other } = outcomes(results);
      expect(other).toEqual([]);
      expect([ok, refused]).toEqual([1, 1]);
      const status = (await calls.redemption(id)).status;
      expect(['captured', 'released']).toContain(status);
      if (status === 'captured') captured++;
    }
    const { balances } = await calls.member(memberId);
    expect(balances).toMatchObject({
      available: 1_000 - 100 * captured,
      reserved: 0,
      lifetimeRedeemed: 100 * captured,
    });
    await expectBalanced(memberId);
  });

  it('refund vs refund: 8 parallel refunds of 30 against 100 captured → exactly 3 succeed', async () => {
    const memberId = await calls.newMember();
    await calls.earn(memberId, { amountMinor: 20_000 });
    const id = parse(await calls.redeem(memberId, 100)).redemption.id;
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => calls.refund(id, { points: 30 })),
    );
    const { ok, refused, other } = outcomes(results);
    expect(other).toEqual([]);
    expect([ok, refused]).toEqual([3, 5]);
    expect(await calls.redemption(id)).toMatchObject({ status: 'captured', refundedPoints: 90 });
    expect((await calls.member(memberId)).balances.available).toBe(190);
    await expectBalanced(memberId);
  });

  it('expire job vs redemptions of the same member: expired points are never spent, expiry is recorded once', async () => {
    const own = await createTestStore('races-expiry');
    await createTestPartner(own, 'grocer');
    await replaceProgram(contextFor(own, admin), { ...defaultProgram, expiryMonths: 1 });
    const local = ledgerCalls(own, partnerPrincipal('grocer'));
    const memberId = await local.newMember('2030-01-01T00:00:00.000Z');
    await local.earn(memberId, { amountMinor: 10_000 }, { now: '2030-01-10T10:00:00.000Z' }); // 100, gone 2030-03-01
    await local.earn(memberId, { amountMinor: 5_000 }, { now: '2030-02-10T10:00:00.000Z' }); // 50, gone 2030-04-01
    const now = '2030-03-02T10:00:00.000Z';
    const results = await Promise.allSettled([
      local.job('expire-points', '2030-03-02T00:00:00.000Z', now),
      ...Array.from({ length: 8 }, () => local.redeem(memberId, 10, { now })),
    ]);
    const [job, ...redemptions] = results;
    expect(job?.status).toBe('fulfilled');
    // 150 earned, 100 expired: only the 50 of February can be spent, by exactly 5 of the 8.
    expect(redemptions.filter((result) => result.status === 'fulfilled')).toHaveLength(5);
    for (const result of redemptions.filter((r) => r.status === 'rejected')) {
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(InsufficientPointsError);
    }
    const entries = await local.history(memberId);
    expect(entries.filter((entry) => entry.type === 'expire').map((entry) => entry.points)).toEqual([-100]);
    expect(entries.filter((entry) => entry.type === 'redeem')).toHaveLength(5);
    const { balances } = await local.member(memberId, now);
    expect(balances.available).toBe(0);
    expect(entries.reduce((sum, entry) => sum + entry.points, 0)).toBe(balances.available);
  });

  it('opposite transfers between the same members all complete, never deadlock', async () => {
    const a = await calls.newMember();
    const b = await calls.newMember();
    await calls.earn(a, { amountMinor: 10_000 });
    await calls.earn(b, { amountMinor: 10_000 });
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        i % 2 === 0
          ? calls.transfer(a, { toMemberId: b, points: 7 })
          : calls.transfer(b, { toMemberId: a, points: 7 }),
      ),
    );
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    expect((await calls.member(a)).balances.available).toBe(100);
    expect((await calls.member(b)).balances.available).toBe(100);
    await expectBalanced(a);
    await expectBalanced(b);
    expect((await calls.history(a)).filter((entry) => entry.type.startsWith('transfer'))).toHaveLength(12);
  });
});
