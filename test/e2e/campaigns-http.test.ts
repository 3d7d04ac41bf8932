import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setMemberChurn } from '../../lambdas/store/churn-store.ts';
import { type ApiResponse, partnerBody, startTestApi, type TestApi } from '../support/api.ts';
import { snapshotTable } from '../support/fixtures.ts';
import { outboxEventsOfType } from '../support/subscriptions.ts';

/** Campaigns and audiences over HTTP, through the real local server. */
let api: TestApi;
let till = '';
let readOnly = '';
const HOUR = 3_600_000;
const at = (offset: number) => new Date(Date.now() + offset).toISOString();

beforeAll(async () => {
  api = await startTestApi();
  await api.request('POST', '/v1/partners', { body: partnerBody('shop') });
  till = (
    await api.request('POST', '/v1/api-keys', { body: { name: 'till', role: 'partner', partnerId: 'shop' } })
  ).json.key;
  readOnly = (
    await api.request('POST', '/v1/api-keys', {
      body: { name: 'till', role: 'partner', partnerId: 'shop', scopes: ['points:earn'] },
    })
  ).json.key;
});
afterAll(() => api.close());

const problem = (response: ApiResponse, status: number, type: string) => {
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  expect(response.json).toMatchObject({ status, type });
};

const valid = {
  name: 'Double points weekend',
  startsAt: at(-HOUR),
  endsAt: at(48 * HOUR),
  reward: { multiplier: 2 },
};

describe('campaigns over HTTP', () => {
  it('refuses bad campaigns with a problem naming each field, writing nothing', async () => {
    const before = await snapshotTable(api.store);
    const cases: [unknown, string][] = [
      [{ ...valid, reward: { multiplier: 1 } }, 'body.reward'],
      [{ ...valid, reward: { multiplier: 2, bonusPoints: 5 } }, 'body.reward'],
      [{ ...valid, reward: { bonusPoints: 0 } }, 'body.reward'],
      [{ ...valid, endsAt: valid.startsAt }, 'body.endsAt'],
      [{ ...valid, startsAt: 'tomorrow' }, 'body.startsAt'],
      [{ ...valid, target: { channels: ['fax'] } }, 'body.target.channels.0'],
      [{ ...valid, target: { churnRisk: ['extreme'] } }, 'body.target.churnRisk.0'],
      [{ ...valid, target: { tiers: [] } }, 'body.target.tiers'],
      [{ ...valid, target: { gender: 'f' } }, 'body.target'],
      [{ ...valid, budgetPoints: 0 }, 'body.budgetPoints'],
      [{ ...valid, budgetPoints: 1.5 }, 'body.budgetPoints'],
      [{ ...valid, partnerId: 'nowhere' }, 'body.partnerId'],
      [{ ...valid, name: '' }, 'body.name'],
    ];
    for (const [body, path] of cases) {
      const response = await api.request('POST', '/v1/campaigns', { body });
      problem(response, 400, '/problems/validation-error');
      const paths: string[] = response.json.errors.map((error: { path: string }) => error.path);
      expect(
        paths.some((named) => named === path || named.startsWith(`${path}.`)),
        `${JSON.stringify(body)} → ${paths}`,
      ).toBe(true);
    }
    // A partner's campaign cannot aim at other partners; a key without the scope cannot create one.
    problem(
      await api.request('POST', '/v1/campaigns', {
        key: till,
        body: { ...valid, target: { partners: ['x'] } },
      }),
      400,
      '/problems/validation-error',
    );
    problem(
      await api.request('POST', '/v1/campaigns', { key: readOnly, body: valid }),
      403,
      '/problems/forbidden',
    );
    expect(await snapshotTable(api.store)).toBe(before);
  });

  it('creates, reads, lists, replays and changes a campaign', async () => {
    const created = await api.request('POST', '/v1/campaigns', {
      key: till,
      body: { ...valid, startsAt: '2026-11-28T01:00:00+01:00' },
      idempotencyKey: 'weekend-1',
    });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      id: expect.stringMatching(/^cmp_[0-9A-HJKMNP-TV-Z]{26}$/),
      name: 'Double points weekend',
      partnerId: 'shop',
      startsAt: '2026-11-28T00:00:00.000Z',
      endsAt: new Date(valid.endsAt).toISOString(),
      target: {},
      reward: { multiplier: 2 },
      budgetPoints: null,
      budget: null,
      active: true,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const again = await api.request('POST', '/v1/campaigns', {
      key: till,
      body: { ...valid, startsAt: '2026-11-28T01:00:00+01:00' },
      idempotencyKey: 'weekend-1',
    });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(created.json);
    const id = created.json.id;
    expect((await api.request('GET', `/v1/campaigns/${id}`, { key: till })).json).toEqual(created.json);
    const listed = await api.request('GET', '/v1/campaigns?limit=1', { key: till });
    expect(listed.json.items).toEqual([created.json]);
    const patched = await api.request('PATCH', `/v1/campaigns/${id}`, {
      key: till,
      body: { active: false, target: { channels: ['app'] } },
    });
    expect(patched.json).toMatchObject({ active: false, target: { channels: ['app'] } });
    problem(
      await api.request('PATCH', `/v1/campaigns/${id}`, { key: till, body: {} }),
      400,
      '/problems/validation-error',
    );
    problem(
      await api.request('PATCH', `/v1/campaigns/${id}`, { key: till, body: { budgetPoints: 5 } }),
      400,
      '/problems/validation-error',
    );
    problem(await api.request('GET', '/v1/campaigns/cmp_nope'), 400, '/problems/validation-error');
    problem(
      await api.request('GET', '/v1/campaigns/cmp_01JAAAAAAAAAAAAAAAAAAAAAAA'),
      404,
      '/problems/not-found',
    );
  });

  it('never overspends a budget under 100 parallel earns over HTTP', async () => {
    const campaign = (
      await api.request('POST', '/v1/campaigns', {
        key: till,
        body: { ...valid, reward: { bonusPoints: 10 }, budgetPoints: 333, target: { categories: ['race'] } },
      })
    ).json;
    const members = await Promise.all(
      Array.from(
        { length: 100 },
        async () => (await api.request('POST', '/v1/members', { key: till, body: {} })).json.id,
      ),
    );
    const earns = await Promise.all(
      members.map((memberId, i) =>
        api.request('POST', `/v1/members/${memberId}/earn`, {
          key: till,
          body: { amountMinor: 100, currency: 'USD', orderRef: `race-${i}`, category: 'race' },
        }),
      ),
    );
    expect(earns.map((response) => response.status)).toEqual(members.map(() => 201));
    const bonuses = earns.map(
      (response) =>
        response.json.transaction.breakdown.find(
          (line: { rule: string }) => line.rule === `campaign:${campaign.id}`,
        )?.points ?? 0,
    );
    expect(bonuses.reduce((sum: number, points: number) => sum + points, 0)).toBe(333);
    expect(bonuses.filter((points: number) => points === 3)).toHaveLength(1);
    const read = await api.request('GET', `/v1/campaigns/${campaign.id}`, { key: till });
    expect(read.json.budget).toEqual({
      awardedPoints: 333,
      remainingPoints: 0,
      exhaustedAt: expect.any(String),
    });
    const events = (await outboxEventsOfType(api.store, 'campaign.budget_exhausted')).filter(
      (event) => event.data.campaignId === campaign.id,
    );
    expect(events).toHaveLength(1);
  }, 120_000);
});

describe('audiences over HTTP', () => {
  it('pages one band’s members by CLV from the index, filters by CLV, and drops an erased member', async () => {
    const scored: { id: string; clvMinor: number }[] = [];
    for (let i = 0; i < 23; i++) {
      const id = (await api.request('POST', '/v1/members', { body: {} })).json.id as string;
      const clvMinor = (i * 7919) % 5_000;
      const risk = i % 5 === 0 ? 'medium' : 'high';
      await setMemberChurn(
        api.store,
        id,
        { pAlive: 0.1, risk, expectedPurchases90d: 0.3, clvMinor, scoredAt: at(-HOUR) },
        null,
      );
      if (risk === 'high') scored.push({ id, clvMinor });
    }
    const expected = [...scored].sort((a, b) => b.clvMinor - a.clvMinor || b.id.localeCompare(a.id));
    const pages: { memberId: string; clvMinor: number }[] = [];
    let cursor: string | null = null;
    let calls = 0;
    do {
      const page: ApiResponse = await api.request(
        'GET',
        `/v1/analytics/members?churnRisk=high&limit=4${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status, page.text).toBe(200);
      expect(page.json.items.length).toBeLessThanOrEqual(4);
      pages.push(...page.json.items);
      cursor = page.json.nextCursor;
      calls++;
    } while (cursor && calls < 20);
    expect(pages.map((item) => [item.memberId, item.clvMinor])).toEqual(
      expected.map((m) => [m.id, m.clvMinor]),
    );
    expect(pages[0]).toEqual({
      memberId: expected[0]?.id,
      churnRisk: 'high',
      pAlive: 0.1,
      clvMinor: expected[0]?.clvMinor,
      expectedPurchases90d: 0.3,
      scoredAt: expect.any(String),
    });

    const rich = await api.request('GET', '/v1/analytics/members?churnRisk=high&minClvMinor=2500&limit=100');
    expect(rich.json.items.map((item: { memberId: string }) => item.memberId)).toEqual(
      expected.filter((m) => m.clvMinor >= 2500).map((m) => m.id),
    );
    // A cursor is for the list it came from only.
    const first = await api.request('GET', '/v1/analytics/members?churnRisk=high&limit=2');
    problem(
      await api.request('GET', `/v1/analytics/members?churnRisk=low&limit=2&cursor=${first.json.nextCursor}`),
      400,
      '/problems/validation-error',
    );
    problem(
      await api.request('GET', '/v1/analytics/members?churnRisk=high&cursor=abc'),
      400,
      '/problems/validation-error',
    );
    problem(
      await api.request('GET', '/v1/analytics/members?churnRisk=extreme'),
      400,
      '/problems/validation-error',
    );
    problem(await api.request('GET', '/v1/analytics/members'), 400, '/problems/validation-error');
    problem(
      await api.request('GET', '/v1/analytics/members?churnRisk=high', { key: till }),
      403,
      '/problems/forbidden',
    );

    // Erasure takes the member out of the index with its scores.
    const erased = expected[0]?.id as string;
    expect((await api.request('DELETE', `/v1/members/${erased}`)).status).toBe(200);
    const after = await api.request('GET', '/v1/analytics/members?churnRisk=high&limit=100');
    expect(after.json.items.map((item: { memberId: string }) => item.memberId)).not.toContain(erased);
  });

  it('answers segments from the latest scan (none yet: no cells), and refuses unknown dimensions', async () => {
    const none = await api.request('GET', '/v1/analytics/segments');
    expect(none.json).toEqual({ asOf: null, by: ['churnRisk', 'tier'], cells: [] });
    for (const by of ['foo', 'tier,tier', 'churnRisk,tier,churnRisk', '']) {
      problem(await api.request('GET', `/v1/analytics/segments?by=${by}`), 400, '/problems/validation-error');
    }
    problem(await api.request('GET', '/v1/analytics/segments', { key: till }), 403, '/problems/forbidden');
  });
});
