import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partnerBody, startTestApi, type TestApi } from '../support/api.ts';

/** The oversell race over HTTP, through the real local server, with a stock large enough to matter. */
let api: TestApi;
let fuelKey: string;
beforeAll(async () => {
  api = await startTestApi();
  await api.request('POST', '/v1/partners', { body: partnerBody('fuel') });
  fuelKey = (
    await api.request('POST', '/v1/api-keys', { body: { name: 'fuel', role: 'partner', partnerId: 'fuel' } })
  ).json.key;
});
afterAll(() => api.close());

describe('reward oversell race over HTTP', () => {
  it('150 members redeem a reward with 120 in stock at once: exactly 120 get it, 30 get 409 out-of-stock', async () => {
    const reward = (
      await api.request('POST', '/v1/rewards', {
        key: fuelKey,
        body: { name: 'Festival ticket', costPoints: 50, valueMinor: 2_500, inventory: 120 },
      })
    ).json;
    const members: string[] = [];
    for (let i = 0; i < 150; i++) {
      const memberId = (await api.request('POST', '/v1/members', { key: fuelKey, body: {} })).json.id;
      await api.request('POST', `/v1/members/${memberId}/earn`, {
        key: fuelKey,
        body: { amountMinor: 5_000, currency: 'USD', orderRef: `race-${i}` },
      });
      members.push(memberId);
    }
    const responses = await Promise.all(
      members.map((memberId) =>
        api.request('POST', `/v1/members/${memberId}/redemptions`, {
          key: fuelKey,
          body: { rewardId: reward.id },
        }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(120);
    expect(statuses.filter((s) => s === 409)).toHaveLength(30);
    for (const refused of responses.filter((r) => r.status === 409))
      expect(refused.json.type).toBe('/problems/out-of-stock');
    expect((await api.request('GET', `/v1/rewards/${reward.id}`, { key: fuelKey })).json.inventory).toBe(0);
    // Everyone who got a 201 paid; nobody else did.
    const balances = await Promise.all(
      members.map((m) => api.request('GET', `/v1/members/${m}`, { key: fuelKey })),
    );
    const paid = balances.filter((b) => b.json.balances.available === 0).length;
    expect(paid).toBe(120);
    const report = await api.request(
      'GET',
      `/v1/reports/settlement?from=${new Date().toISOString().slice(0, 10)}&to=${new Date().toISOString().slice(0, 10)}`,
      {
        key: fuelKey,
      },
    );
    expect(report.json.partners[0]).toMatchObject({ redeemedPoints: 6_000, issuedPoints: 7_500 });
  });
});
