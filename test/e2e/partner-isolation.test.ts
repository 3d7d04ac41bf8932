import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeKeyOf, routes } from '../../lambdas/routes/manifest.ts';
import {
  type ApiResponse,
  partnerBody,
  type RequestOptions,
  startTestApi,
  type TestApi,
} from '../support/api.ts';

/**
 * The isolation matrix: partner B, with a key holding every scope, tries every route against
 * partner A's data. Each attempt must be refused (403/404) or answer with B's own data only, and no
 * response may mention anything of A's that B was not shown by itself.
 */
let api: TestApi;
const a = {
  key: '',
  keyId: '',
  memberId: '',
  rewardId: '',
  txnId: '',
  redemptionId: '',
  subscriptionId: '',
  campaignId: '',
  ref: 'a-secret-customer-ref',
};
let bKey = '';

const partner = (id: string) => partnerBody(id);

beforeAll(async () => {
  api = await startTestApi();
  for (const id of ['brand-a', 'brand-b']) await api.request('POST', '/v1/partners', { body: partner(id) });
  const keyA = await api.request('POST', '/v1/api-keys', {
    body: { name: 'A', role: 'partner', partnerId: 'brand-a' },
  });
  a.key = keyA.json.key;
  a.keyId = keyA.json.id;
  bKey = (
    await api.request('POST', '/v1/api-keys', { body: { name: 'B', role: 'partner', partnerId: 'brand-b' } })
  ).json.key;

  a.memberId = (
    await api.request('POST', '/v1/members', { key: a.key, body: { externalRef: a.ref } })
  ).json.id;
  const earned = await api.request('POST', `/v1/members/${a.memberId}/earn`, {
    key: a.key,
    body: { amountMinor: 20_000, currency: 'USD', orderRef: 'a-order-1' },
  });
  a.txnId = earned.json.transaction.id;
  a.rewardId = (
    await api.request('POST', '/v1/rewards', {
      key: a.key,
      body: { name: 'A gift', costPoints: 10, valueMinor: 100, inventory: 5 },
    })
  ).json.id;
  // A holds 10 points at its till: a redemption B must not see, capture, release or refund.
  a.redemptionId = (
    await api.request('POST', `/v1/members/${a.memberId}/redemptions`, {
      key: a.key,
      body: { points: 10, hold: true, orderRef: 'a-order-2' },
    })
  ).json.redemption.id;
  // A sells its member a paid membership: B may see the membership, never act on it or see its payments.
  await api.request('POST', '/v1/plans', {
    body: { id: 'iso-plus', name: 'Plus', priceMinor: 500, currency: 'USD', interval: 'month' },
  });
  a.subscriptionId = (
    await api.request('POST', `/v1/members/${a.memberId}/subscriptions`, {
      key: a.key,
      body: { planId: 'iso-plus', paymentRef: 'a-secret-pay-ref' },
    })
  ).json.subscription.id;
  // A runs a campaign of its own: B may neither see nor change it, nor pay into it.
  a.campaignId = (
    await api.request('POST', '/v1/campaigns', {
      key: a.key,
      body: {
        name: 'A secret weekend',
        startsAt: '2026-01-01T00:00:00Z',
        endsAt: '2036-01-01T00:00:00Z',
        reward: { bonusPoints: 1 },
        target: { categories: ['a-only'] },
      },
    })
  ).json.id;
});
afterAll(() => api.close());

/** Things of A's that B must never be shown. */
const secretsOfA = () => [
  a.ref,
  a.txnId,
  a.rewardId,
  a.redemptionId,
  a.keyId,
  a.key,
  'a-order-1',
  'a-order-2',
  'A gift',
  'a-secret-pay-ref',
  a.campaignId,
  'A secret weekend',
];

/** What B sent: an id B put in its own request may come back in the problem (`instance`, `detail`). */
const sentByB = new WeakMap<ApiResponse, string>();

const asB = async (method: string, path: string, options: RequestOptions = {}) => {
  const response = await api.request(method, path, { key: bKey, ...options });
  sentByB.set(response, `${path} ${JSON.stringify(options.body ?? null)}`);
  return response;
};

function expectNoLeak(response: ApiResponse) {
  const sent = sentByB.get(response) ?? '';
  for (const secret of secretsOfA()) {
    if (!sent.includes(secret)) expect(response.text, `leaks ${secret}`).not.toContain(secret);
  }
}

/** One attempt per route: how B tries to reach A's data, and what must come back. */
const attempts: Record<string, () => Promise<{ response: ApiResponse; allowed: number[] }>> = {
  'POST /v1/campaigns': async () => ({
    response: await asB('POST', '/v1/campaigns', {
      body: {
        name: 'x',
        partnerId: 'brand-a',
        startsAt: '2026-01-01T00:00:00Z',
        endsAt: '2036-01-01T00:00:00Z',
        reward: { bonusPoints: 1 },
      },
    }),
    allowed: [403],
  }),
  'GET /v1/campaigns': async () => {
    const mine = await asB('GET', '/v1/campaigns');
    expect(mine.json.items).toEqual([]);
    return { response: await asB('GET', '/v1/campaigns?partnerId=brand-a'), allowed: [403] };
  },
  'GET /v1/campaigns/{campaignId}': async () => ({
    response: await asB('GET', `/v1/campaigns/${a.campaignId}`),
    allowed: [404],
  }),
  'PATCH /v1/campaigns/{campaignId}': async () => ({
    response: await asB('PATCH', `/v1/campaigns/${a.campaignId}`, { body: { active: false } }),
    allowed: [404],
  }),
  'GET /v1/analytics/segments': async () => ({
    response: await asB('GET', '/v1/analytics/segments'),
    allowed: [403],
  }),
  'GET /v1/analytics/members': async () => ({
    response: await asB('GET', '/v1/analytics/members?churnRisk=high'),
    allowed: [403],
  }),
  'GET /v1/health': async () => ({ response: await asB('GET', '/v1/health'), allowed: [200] }),
  'GET /openapi.json': async () => ({ response: await asB('GET', '/openapi.json'), allowed: [200] }),
  // Static pages: the same bytes for everyone, no data (the console's figures come from the report
  // routes, each with its own row).
  'GET /docs': async () => ({ response: await asB('GET', '/docs'), allowed: [200] }),
  'GET /console': async () => ({ response: await asB('GET', '/console'), allowed: [200] }),
  'GET /assets/{file}': async () => ({ response: await asB('GET', '/assets/console.js'), allowed: [200] }),
  'GET /v1/program': async () => ({ response: await asB('GET', '/v1/program'), allowed: [200] }),
  'PUT /v1/program': async () => ({
    response: await asB('PUT', '/v1/program', { body: {} }),
    allowed: [403],
  }),
  'POST /v1/partners': async () => ({
    response: await asB('POST', '/v1/partners', { body: partner('brand-c') }),
    allowed: [403],
  }),
  'GET /v1/partners': async () => {
    const response = await asB('GET', '/v1/partners');
    expect(response.json.items.map((p: { id: string }) => p.id)).toEqual(['brand-b']);
    return { response, allowed: [200] };
  },
  'GET /v1/partners/{partnerId}': async () => ({
    response: await asB('GET', '/v1/partners/brand-a'),
    allowed: [404],
  }),
  'PATCH /v1/partners/{partnerId}': async () => ({
    response: await asB('PATCH', '/v1/partners/brand-a', { body: { status: 'suspended' } }),
    allowed: [403],
  }),
  'POST /v1/api-keys': async () => ({
    response: await asB('POST', '/v1/api-keys', {
      body: { name: 'x', role: 'partner', partnerId: 'brand-a' },
    }),
    allowed: [403],
  }),
  'GET /v1/api-keys': async () => ({ response: await asB('GET', '/v1/api-keys'), allowed: [403] }),
  'DELETE /v1/api-keys/{keyId}': async () => ({
    response: await asB('DELETE', `/v1/api-keys/${a.keyId}`),
    allowed: [403],
  }),
  'POST /v1/members': async () => {
    // B enrols its own customer under the same reference: a different member, A's stays A's.
    const response = await asB('POST', '/v1/members', { body: { externalRef: a.ref } });
    expect(response.json.id).not.toBe(a.memberId);
    return { response, allowed: [201] };
  },
  'GET /v1/members': async () => {
    const response = await asB('GET', '/v1/members?externalRef=a-secret-customer-ref');
    expect(response.json.items.map((m: { id: string }) => m.id)).not.toContain(a.memberId);
    return { response, allowed: [200] };
  },
  'GET /v1/members/{memberId}': async () => {
    // Members belong to the coalition: B may read the profile and balance, never A's externalRef.
    const response = await asB('GET', `/v1/members/${a.memberId}`);
    expect(response.json.externalRef).toBeNull();
    return { response, allowed: [200] };
  },
  'PATCH /v1/members/{memberId}': async () => {
    // Members belong to the coalition: a partner with members:write may correct a profile, and
    // still sees none of A's references in the answer.
    const response = await asB('PATCH', `/v1/members/${a.memberId}`, { body: { channel: 'app' } });
    expect(response.json.externalRef).toBeNull();
    return { response, allowed: [200] };
  },
  'DELETE /v1/members/{memberId}': async () => ({
    response: await asB('DELETE', `/v1/members/${a.memberId}`),
    allowed: [403],
  }),
  'POST /v1/members/{memberId}/earn': async () => ({
    response: await asB('POST', `/v1/members/${a.memberId}/earn`, {
      body: { partnerId: 'brand-a', amountMinor: 100, currency: 'USD', orderRef: 'b-1' },
    }),
    allowed: [403],
  }),
  'POST /v1/members/{memberId}/redemptions': async () => ({
    response: await asB('POST', `/v1/members/${a.memberId}/redemptions`, { body: { rewardId: a.rewardId } }),
    allowed: [404],
  }),
  'GET /v1/redemptions/{redemptionId}': async () => ({
    response: await asB('GET', `/v1/redemptions/${a.redemptionId}`),
    allowed: [404],
  }),
  'POST /v1/redemptions/{redemptionId}/capture': async () => ({
    response: await asB('POST', `/v1/redemptions/${a.redemptionId}/capture`, { body: {} }),
    allowed: [404],
  }),
  'POST /v1/redemptions/{redemptionId}/release': async () => ({
    response: await asB('POST', `/v1/redemptions/${a.redemptionId}/release`, { body: {} }),
    allowed: [404],
  }),
  'POST /v1/redemptions/{redemptionId}/refund': async () => ({
    response: await asB('POST', `/v1/redemptions/${a.redemptionId}/refund`, { body: {} }),
    allowed: [404],
  }),
  'POST /v1/transactions/{transactionId}/reverse': async () => ({
    response: await asB('POST', `/v1/transactions/${a.txnId}/reverse`, { body: { reason: 'return' } }),
    allowed: [404],
  }),
  'POST /v1/orders/{orderRef}/reverse': async () => {
    // B's order references are B's: A's order does not exist for it, and naming A is refused.
    const own = await asB('POST', '/v1/orders/a-order-1/reverse', { body: { reason: 'return' } });
    expect(own.status).toBe(404);
    return {
      response: await asB('POST', '/v1/orders/a-order-1/reverse', {
        body: { reason: 'return', partnerId: 'brand-a' },
      }),
      allowed: [403],
    };
  },
  'POST /v1/members/{memberId}/adjustments': async () => ({
    response: await asB('POST', `/v1/members/${a.memberId}/adjustments`, {
      body: { points: 100, reason: 'gift' },
    }),
    allowed: [403],
  }),
  'POST /v1/members/{memberId}/transfers': async () => {
    // B may pool a coalition member's points, but only with points the member has.
    const other = (await asB('POST', '/v1/members', { body: {} })).json.id;
    return {
      response: await asB('POST', `/v1/members/${a.memberId}/transfers`, {
        body: { toMemberId: other, points: 1_000_000 },
      }),
      allowed: [409],
    };
  },
  'POST /v1/members/{memberId}/activities': async () => {
    // B rewards the member's survey at B: B's own entry, which A never sees as its own.
    const response = await asB('POST', `/v1/members/${a.memberId}/activities`, {
      body: { type: 'survey', ref: 'b-survey-1', score: 9 },
    });
    expect(response.json.transaction.partnerId).toBe('brand-b');
    return { response, allowed: [201] };
  },
  'GET /v1/members/{memberId}/transactions': async () => {
    const response = await asB('GET', `/v1/members/${a.memberId}/transactions`);
    // Only B's own entry (the survey it rewarded), none of A's.
    expect(
      response.json.items.map((t: { partnerId: string; type: string }) => [t.partnerId, t.type]),
    ).toEqual([['brand-b', 'activity']]);
    return { response, allowed: [200] };
  },
  'POST /v1/rewards': async () => ({
    response: await asB('POST', '/v1/rewards', {
      body: { partnerId: 'brand-a', name: 'x', costPoints: 1, valueMinor: 1 },
    }),
    allowed: [403],
  }),
  'GET /v1/rewards': async () => ({
    response: await asB('GET', '/v1/rewards?partnerId=brand-a'),
    allowed: [403],
  }),
  'GET /v1/rewards/{rewardId}': async () => ({
    response: await asB('GET', `/v1/rewards/${a.rewardId}`),
    allowed: [404],
  }),
  'PATCH /v1/rewards/{rewardId}': async () => ({
    response: await asB('PATCH', `/v1/rewards/${a.rewardId}`, { body: { inventory: 0 } }),
    allowed: [404],
  }),
  'GET /v1/reports/settlement': async () => ({
    response: await asB('GET', '/v1/reports/settlement?partnerId=brand-a&from=2026-01-01&to=2026-12-31'),
    allowed: [403],
  }),
  'GET /v1/reports/liability': async () => ({
    response: await asB('GET', '/v1/reports/liability?partnerId=brand-a'),
    allowed: [403],
  }),
  // The roll-forward and deferred revenue are the coalition's statements: finance and admin only.
  'GET /v1/reports/roll-forward': async () => ({
    response: await asB('GET', '/v1/reports/roll-forward?from=2026-01-01&to=2026-12-31'),
    allowed: [403],
  }),
  'GET /v1/reports/deferred-revenue': async () => ({
    response: await asB('GET', '/v1/reports/deferred-revenue?from=2026-01-01&to=2026-12-31'),
    allowed: [403],
  }),
  // A partner reads its own KPI line only: the channel view is everyone's customers.
  'GET /v1/reports/kpis': async () => ({
    response: await asB('GET', '/v1/reports/kpis?from=2026-01&to=2026-12&groupBy=channel'),
    allowed: [403],
  }),
  'POST /v1/program/redemption-estimates': async () => ({
    response: await asB('POST', '/v1/program/redemption-estimates', {
      body: { effectiveFrom: '2099-01-01', expectedRedemptionRate: 0.5 },
    }),
    allowed: [403],
  }),
  'GET /v1/program/redemption-estimates': async () => ({
    response: await asB('GET', '/v1/program/redemption-estimates'),
    allowed: [403],
  }),
  'GET /v1/reports/subscriptions': async () => ({
    response: await asB('GET', '/v1/reports/subscriptions?from=2026-01-01&to=2026-12-31'),
    allowed: [403],
  }),
  'POST /v1/plans': async () => ({
    response: await asB('POST', '/v1/plans', {
      body: { id: 'b-plan', name: 'B', priceMinor: 1, currency: 'USD', interval: 'month' },
    }),
    allowed: [403],
  }),
  'GET /v1/plans': async () => ({ response: await asB('GET', '/v1/plans'), allowed: [403] }),
  'GET /v1/plans/{planId}': async () => ({
    response: await asB('GET', '/v1/plans/iso-plus'),
    allowed: [403],
  }),
  'PATCH /v1/plans/{planId}': async () => ({
    response: await asB('PATCH', '/v1/plans/iso-plus', { body: { priceMinor: 1 } }),
    allowed: [403],
  }),
  'POST /v1/members/{memberId}/subscriptions': async () => ({
    // The member already has a live membership (A's sale): one per member.
    response: await asB('POST', `/v1/members/${a.memberId}/subscriptions`, {
      body: { planId: 'iso-plus', paymentRef: 'b-pay' },
    }),
    allowed: [409],
  }),
  'GET /v1/members/{memberId}/subscription': async () => {
    const response = await asB('GET', `/v1/members/${a.memberId}/subscription`);
    expect(response.json).toMatchObject({ id: a.subscriptionId, status: 'active', lastPayment: null });
    return { response, allowed: [200] };
  },
  'GET /v1/subscriptions/{subscriptionId}': async () => {
    const response = await asB('GET', `/v1/subscriptions/${a.subscriptionId}`);
    expect(response.json).toMatchObject({ partnerId: 'brand-a', lastPayment: null });
    return { response, allowed: [200] };
  },
  'PATCH /v1/subscriptions/{subscriptionId}': async () => ({
    response: await asB('PATCH', `/v1/subscriptions/${a.subscriptionId}`, { body: { planId: 'iso-plus' } }),
    allowed: [404],
  }),
  'POST /v1/subscriptions/{subscriptionId}/payments': async () => ({
    response: await asB('POST', `/v1/subscriptions/${a.subscriptionId}/payments`, {
      body: { status: 'failed', paymentRef: 'b-fail', amountMinor: 500 },
    }),
    allowed: [404],
  }),
  'POST /v1/subscriptions/{subscriptionId}/cancel': async () => ({
    response: await asB('POST', `/v1/subscriptions/${a.subscriptionId}/cancel`, {
      body: { atPeriodEnd: false },
    }),
    allowed: [404],
  }),
  'GET /v1/events': async () => {
    // B's key reads its own events only: nothing A's members did at A.
    const response = await asB('GET', '/v1/events?limit=100');
    expect(response.json.items.every((event: { partnerId: string }) => event.partnerId === 'brand-b')).toBe(
      true,
    );
    return { response, allowed: [200] };
  },
  'POST /v1/imports/transactions': async () => ({
    // Imports are the operator's: a partner may not create members or history under A's references.
    response: await asB('POST', '/v1/imports/transactions', {
      rawBody: JSON.stringify({
        externalRef: a.ref,
        partnerId: 'brand-a',
        amountMinor: 100,
        currency: 'USD',
        occurredAt: '2026-01-01T00:00:00Z',
        orderRef: 'b-import-1',
      }),
      headers: { 'content-type': 'application/x-ndjson' },
    }),
    allowed: [403],
  }),
  'POST /v1/jobs/{name}': async () => ({
    response: await asB('POST', '/v1/jobs/expire-points', { body: {} }),
    allowed: [403],
  }),
  // The churn model and members' scores are the operator's analytics: no partner fits or reads them.
  'POST /v1/analytics/churn-model/fit': async () => ({
    response: await asB('POST', '/v1/analytics/churn-model/fit', { body: {} }),
    allowed: [403],
  }),
  'GET /v1/analytics/churn-model': async () => ({
    response: await asB('GET', '/v1/analytics/churn-model'),
    allowed: [403],
  }),
  'GET /v1/analytics/members/{memberId}': async () => ({
    response: await asB('GET', `/v1/analytics/members/${a.memberId}`),
    allowed: [403],
  }),
};

describe('partner isolation matrix', () => {
  it('covers every route of the manifest', () => {
    expect(Object.keys(attempts).sort()).toEqual(routes.map(routeKeyOf).sort());
  });

  for (const [route, attempt] of Object.entries(attempts)) {
    it(`${route}: partner B gets nothing of partner A's`, async () => {
      const { response, allowed } = await attempt();
      expect(allowed, `${route} → ${response.status} ${response.text}`).toContain(response.status);
      expectNoLeak(response);
    });
  }

  it('left A’s data as it was', async () => {
    const member = await api.request('GET', `/v1/members/${a.memberId}`, { key: a.key });
    // 200 earned, 10 held by A's own till, 25 for the survey B rewarded: nothing else moved.
    expect(member.json).toMatchObject({ externalRef: a.ref, balances: { available: 215, reserved: 10 } });
    const held = await api.request('GET', `/v1/redemptions/${a.redemptionId}`, { key: a.key });
    expect(held.json).toMatchObject({ status: 'held', points: 10 });
    const history = await api.request('GET', `/v1/members/${a.memberId}/transactions`, { key: a.key });
    expect(history.json.items.map((t: { partnerId: string }) => t.partnerId)).toEqual(['brand-a']);
    const reward = await api.request('GET', `/v1/rewards/${a.rewardId}`, { key: a.key });
    expect(reward.json).toMatchObject({ inventory: 5, active: true });
    expect((await api.request('GET', '/v1/partners/brand-a', { key: a.key })).json.status).toBe('active');
    expect((await api.request('GET', '/v1/program', { key: a.key })).status).toBe(200);
    const campaign = await api.request('GET', `/v1/campaigns/${a.campaignId}`, { key: a.key });
    expect(campaign.json).toMatchObject({ partnerId: 'brand-a', active: true });
    const membership = await api.request('GET', `/v1/subscriptions/${a.subscriptionId}`, { key: a.key });
    expect(membership.json).toMatchObject({
      status: 'active',
      cancelAtPeriodEnd: false,
      lastPayment: { paymentRef: 'a-secret-pay-ref', status: 'succeeded' },
    });
  });

  it('reports B’s own settlement without A’s lines', async () => {
    const response = await asB('GET', '/v1/reports/settlement?from=2026-01-01&to=2026-12-31');
    expect(response.status).toBe(200);
    expect(response.json.partners.map((p: { partnerId: string }) => p.partnerId)).toEqual(['brand-b']);
  });

  it('reports B’s own liability and KPI lines only: no coalition totals, no expiry buckets, no A', async () => {
    const liability = await asB('GET', '/v1/reports/liability');
    expect(liability.status).toBe(200);
    expect(liability.json).toMatchObject({ partnerId: 'brand-b', expiryBuckets: null });
    expect(liability.json.byPartner.map((line: { partnerId: string }) => line.partnerId)).toEqual([
      'brand-b',
    ]);
    // The admin's view has A's line; B's top line is its own line, not the coalition's.
    const all = await api.request('GET', '/v1/reports/liability');
    const lineOf = (id: string) =>
      all.json.byPartner.find((line: { partnerId: string }) => line.partnerId === id);
    expect(liability.json.outstandingPoints).toBe(lineOf('brand-b').outstandingPoints);
    expect(lineOf('brand-a').outstandingPoints).toBeGreaterThan(0);
    const month = new Date().toISOString().slice(0, 7);
    const kpis = await asB('GET', `/v1/reports/kpis?from=${month}&to=${month}`);
    expect(kpis.status).toBe(200);
    expect(kpis.json.groups.map((group: { group: string }) => group.group)).toEqual(['p:brand-b']);
    expect(kpis.json).toMatchObject({ averageClvMinor: null, subscriptions: { active: 0, mrrMinor: 0 } });
    const csv = await asB('GET', `/v1/reports/liability?format=csv`);
    expect(csv.text).not.toContain('brand-a');
  });
});

describe('partner lifecycle', () => {
  it('a suspended partner’s keys get 403 on point-moving calls, with a clear problem, until reactivated', async () => {
    await api.request('POST', '/v1/partners', { body: partner('brand-s') });
    const key = (
      await api.request('POST', '/v1/api-keys', {
        body: { name: 'S', role: 'partner', partnerId: 'brand-s' },
      })
    ).json.key;
    const memberId = (await api.request('POST', '/v1/members', { key, body: {} })).json.id;
    const earn = () =>
      api.request('POST', `/v1/members/${memberId}/earn`, {
        key,
        body: { amountMinor: 1_000, currency: 'USD', orderRef: `s-${Math.random()}` },
      });
    expect((await earn()).status).toBe(201);
    await api.request('PATCH', '/v1/partners/brand-s', { body: { status: 'suspended' } });
    const refused = await earn();
    expect(refused.status).toBe(403);
    expect(refused.json.detail).toMatch(/suspended/);
    const redeem = await api.request('POST', `/v1/members/${memberId}/redemptions`, {
      key,
      body: { points: 1 },
    });
    expect(redeem.status).toBe(403);
    expect((await api.request('GET', `/v1/members/${memberId}`, { key })).status).toBe(200);
    await api.request('PATCH', '/v1/partners/brand-s', { body: { status: 'active' } });
    expect((await earn()).status).toBe(201);
  });

  it('enforces each scope on its routes', async () => {
    await api.request('POST', '/v1/partners', { body: partner('brand-t') });
    const tillKey = (
      await api.request('POST', '/v1/api-keys', {
        body: {
          name: 'till',
          role: 'partner',
          partnerId: 'brand-t',
          scopes: ['points:earn', 'points:redeem'],
        },
      })
    ).json.key;
    const forbidden = [
      ['POST', '/v1/members', { body: {} }],
      ['GET', '/v1/rewards', {}],
      ['POST', '/v1/rewards', { body: { name: 'x', costPoints: 1, valueMinor: 1 } }],
      ['GET', '/v1/reports/settlement?from=2026-01-01&to=2026-01-31', {}],
    ] as const;
    for (const [method, path, options] of forbidden) {
      const response = await api.request(method, path, { key: tillKey, ...options });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(response.json.detail).toMatch(/scope/);
    }
    expect(
      (
        await api.request('POST', `/v1/members/${a.memberId}/earn`, {
          key: tillKey,
          body: { amountMinor: 100, currency: 'USD', orderRef: 't-1' },
        })
      ).status,
    ).toBe(201);
  });
});

describe('cursors', () => {
  it('never point a partner at another partner’s entries (no idempotency keys or ids in them)', async () => {
    for (let i = 0; i < 12; i++) {
      await api.request('POST', `/v1/members/${a.memberId}/earn`, {
        key: a.key,
        idempotencyKey: `A-secret-idem-order-${i}`,
        body: { amountMinor: 100, currency: 'USD', orderRef: `a-cursor-${i}` },
      });
    }
    const page = await asB('GET', `/v1/members/${a.memberId}/transactions?limit=1`);
    expect(page.json.items.map((t: { partnerId: string }) => t.partnerId)).toEqual(['brand-b']);
    // B's cursor names B's own entry; what follows it, for B, is nothing.
    expect(Buffer.from(page.json.nextCursor, 'base64url').toString()).toBe(
      JSON.stringify({ t: page.json.items[0].id }),
    );
    const after = await asB(
      'GET',
      `/v1/members/${a.memberId}/transactions?limit=1&cursor=${page.json.nextCursor}`,
    );
    expect(after.json).toEqual({ items: [], nextCursor: null });
    const own = await api.request('GET', `/v1/members/${a.memberId}/transactions?limit=1`, { key: a.key });
    // Cursors name a transaction id and nothing else: no table keys, no Idempotency-Keys.
    const decoded = Buffer.from(own.json.nextCursor, 'base64url').toString();
    expect(decoded).toMatch(/^\{"t":"txn_[0-9A-Z]{26}"\}$/);
    const next = await api.request(
      'GET',
      `/v1/members/${a.memberId}/transactions?limit=1&cursor=${own.json.nextCursor}`,
      {
        key: a.key,
      },
    );
    expect(next.status).toBe(200);
    expect(next.json.items).toHaveLength(1);
    // B cannot use A's cursor to page through A's entries.
    const stolen = await asB(
      'GET',
      `/v1/members/${a.memberId}/transactions?limit=1&cursor=${own.json.nextCursor}`,
    );
    expect(stolen.status).toBe(400);
  });
});
