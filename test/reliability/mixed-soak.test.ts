import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partnerBody, startTestApi, type TestApi } from '../support/api.ts';
import { partTimeoutMs, printCounts, scale } from './scale.ts';

/**
 * Many clients at once, for a bounded time, through the real local server: earns and returns at two
 * partners, redemptions of points and of a reward with finite stock, transfers, adjustments, and
 * requests sent again with their Idempotency-Key. Then PRODUCT.md's invariants, from the outside:
 * each member's balance is the sum of its ledger, no balance is negative, Σ balances is the
 * liability report, the reward never sold more than its stock, and every replay answered the same.
 */
interface Sent {
  method: string;
  path: string;
  body: unknown;
  key: string;
  idempotencyKey: string;
  status: number;
  text: string;
}

let api: TestApi;
let partnerKeys: Record<'alpha' | 'beta', string>;
let rewardId: string;
const STOCK = 8;
const members: string[] = [];
const today = new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  api = await startTestApi();
  partnerKeys = { alpha: '', beta: '' };
  for (const id of ['alpha', 'beta'] as const) {
    await api.request('POST', '/v1/partners', { body: partnerBody(id) });
    partnerKeys[id] = (
      await api.request('POST', '/v1/api-keys', { body: { name: id, role: 'partner', partnerId: id } })
    ).json.key;
  }
  rewardId = (
    await api.request('POST', '/v1/rewards', {
      body: { partnerId: 'alpha', name: 'Mug', costPoints: 40, valueMinor: 500, inventory: STOCK },
    })
  ).json.id;
  for (let i = 0; i < 24; i++) {
    const id = (await api.request('POST', '/v1/members', { body: {} })).json.id as string;
    members.push(id);
    const seeded = await api.request('POST', `/v1/members/${id}/earn`, {
      key: partnerKeys.alpha,
      body: { amountMinor: 50_000, currency: 'USD', orderRef: `seed-${i}` },
    });
    expect(seeded.status).toBe(201);
  }
}, 120_000);
afterAll(() => api.close());

/** Any answer but a 5xx other than 503 (a clean, retryable "out of time"). */
const clean = (status: number) => status < 500 || status === 503;
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
const between = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

describe('a concurrent soak of mixed operations', () => {
  it(
    `keeps every invariant after ${scale.soakClients} clients for ${scale.soakSeconds} s`,
    async () => {
      const sent: Sent[] = [];
      const earnedOrders: { partner: 'alpha' | 'beta'; orderRef: string }[] = [];
      const byOperation: Record<string, Record<number, number>> = {};
      let replays = 0;
      let replaysIdentical = 0;
      let rewardSales = 0;
      const count = (operation: string, status: number) => {
        byOperation[operation] ??= {};
        (byOperation[operation] as Record<number, number>)[status] =
          ((byOperation[operation] as Record<number, number>)[status] ?? 0) + 1;
      };
      const call = async (operation: string, method: string, path: string, key: string, body: unknown) => {
        const idempotencyKey = randomUUID();
        const response = await fetch(api.url + path, {
          method,
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
            'idempotency-key': idempotencyKey,
          },
          body: JSON.stringify(body),
        });
        const text = await response.text();
        count(operation, response.status);
        // Under load a call may give up cleanly (429, or 503 at its deadline: what it did is kept).
        expect(clean(response.status), `${operation} ${path} → ${text}`).toBe(true);
        const record = { method, path, body, key, idempotencyKey, status: response.status, text };
        sent.push(record);
        return record;
      };
      const operations: [number, () => Promise<unknown>][] = [
        [
          5,
          async () => {
            const partner = pick(['alpha', 'beta'] as const);
            const orderRef = `o-${randomUUID()}`;
            const r = await call('earn', 'POST', `/v1/members/${pick(members)}/earn`, partnerKeys[partner], {
              amountMinor: between(100, 20_000),
              currency: 'USD',
              orderRef,
            });
            if (r.status === 201) earnedOrders.push({ partner, orderRef });
          },
        ],
        [
          4,
          () =>
            call('redeem-points', 'POST', `/v1/members/${pick(members)}/redemptions`, partnerKeys.beta, {
              points: between(1, 30),
            }),
        ],
        [
          1,
          async () => {
            const r = await call(
              'redeem-reward',
              'POST',
              `/v1/members/${pick(members)}/redemptions`,
              partnerKeys.alpha,
              {
                rewardId,
              },
            );
            if (r.status === 201) rewardSales += 1;
          },
        ],
        [
          2,
          () =>
            call('transfer', 'POST', `/v1/members/${pick(members)}/transfers`, partnerKeys.alpha, {
              toMemberId: pick(members),
              points: between(1, 10),
            }),
        ],
        [
          1,
          () =>
            call('adjust', 'POST', `/v1/members/${pick(members)}/adjustments`, api.adminKey, {
              points: pick([-3, -1, 2, 5]),
              reason: 'soak',
            }),
        ],
        [
          1,
          async () => {
            const order = earnedOrders.length > 0 ? pick(earnedOrders) : undefined;
            if (!order) return;
            await call('return', 'POST', `/v1/orders/${order.orderRef}/reverse`, partnerKeys[order.partner], {
              points: between(1, 5),
              reason: 'returned',
            });
          },
        ],
        [
          2,
          async () => {
            const original = sent.length > 0 ? pick(sent) : undefined;
            if (!original) return;
            const response = await fetch(api.url + original.path, {
              method: original.method,
              headers: {
                authorization: `Bearer ${original.key}`,
                'content-type': 'application/json',
                'idempotency-key': original.idempotencyKey,
              },
              body: JSON.stringify(original.body),
            });
            const text = await response.text();
            count('replay', response.status);
            expect(clean(response.status), text).toBe(true);
            // A success is answered again as it was; a refusal (nothing recorded) may be judged anew.
            if (original.status < 300 && response.status !== 503 && response.status !== 429) {
              replays += 1;
              expect(response.status, `${original.path} replayed`).toBe(original.status);
              expect(response.headers.get('idempotent-replayed')).toBe('true');
              expect(JSON.parse(text)).toEqual(JSON.parse(original.text));
              replaysIdentical += 1;
            }
          },
        ],
      ];
      const weighted = operations.flatMap(([weight, run]) => Array.from({ length: weight }, () => run));
      const stopAt = Date.now() + scale.soakSeconds * 1_000;
      await Promise.all(
        Array.from({ length: scale.soakClients }, async () => {
          while (Date.now() < stopAt) await pick(weighted)();
        }),
      );

      // Each member: its balance is the sum of its ledger, and never negative.
      let sumOfBalances = 0;
      let entries = 0;
      for (const memberId of members) {
        const member = (await api.request('GET', `/v1/members/${memberId}`)).json;
        const { available, pending, reserved } = member.balances as {
          available: number;
          pending: number;
          reserved: number;
        };
        let ledger = 0;
        let cursor: string | null = null;
        do {
          const page = (
            await api.request(
              'GET',
              `/v1/members/${memberId}/transactions?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
            )
          ).json as { items: { points: number }[]; nextCursor: string | null };
          for (const entry of page.items) ledger += entry.points;
          entries += page.items.length;
          cursor = page.nextCursor;
        } while (cursor);
        expect(available, memberId).toBeGreaterThanOrEqual(0);
        expect(available + pending + reserved, `${memberId}: balances vs its ledger`).toBe(ledger);
        sumOfBalances += available + pending + reserved;
      }
      // Σ balances = the liability report (its counters), to the point.
      const financeKey = (
        await api.request('POST', '/v1/api-keys', { body: { name: 'fin', role: 'finance' } })
      ).json.key;
      const liability = (await api.request('GET', `/v1/reports/liability?asOf=${today}`, { key: financeKey }))
        .json;
      expect(liability.outstandingPoints).toBe(sumOfBalances);
      // The reward never sold more than its stock, and its inventory is what was not sold.
      const reward = (await api.request('GET', `/v1/rewards/${rewardId}`)).json;
      expect(rewardSales).toBeLessThanOrEqual(STOCK);
      expect(reward.inventory).toBe(STOCK - rewardSales);

      const requests = Object.values(byOperation).reduce(
        (total, statuses) => total + Object.values(statuses).reduce((a, b) => a + b, 0),
        0,
      );
      printCounts('soak', {
        clients: scale.soakClients,
        seconds: scale.soakSeconds,
        requests,
        byOperation,
        replays,
        replaysIdentical,
        rewardSales,
        stock: STOCK,
        members: members.length,
        ledgerEntries: entries,
        sumOfBalances,
        liabilityOutstanding: liability.outstandingPoints,
      });
      expect(replaysIdentical).toBe(replays);
      expect(requests).toBeGreaterThan(scale.soakClients);
    },
    partTimeoutMs,
  );
});
