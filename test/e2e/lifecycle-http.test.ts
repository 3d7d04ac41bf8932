import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partnerBody, startTestApi, type TestApi } from '../support/api.ts';
import { snapshotTable } from '../support/fixtures.ts';

/**
 * The points lifecycle over HTTP as a new user meets it: status codes, problem types and headers
 * of the new routes, and that a refused request writes nothing.
 */
let api: TestApi;
let till = '';

beforeAll(async () => {
  api = await startTestApi();
  await api.request('POST', '/v1/partners', { body: partnerBody('lc-shop') });
  till = (
    await api.request('POST', '/v1/api-keys', {
      body: { name: 'till', role: 'partner', partnerId: 'lc-shop', scopes: ['points:earn', 'points:redeem'] },
    })
  ).json.key;
});
afterAll(() => api.close());

async function memberWith(points: number): Promise<string> {
  const id = (await api.request('POST', '/v1/members', { body: {} })).json.id;
  await api.request('POST', `/v1/members/${id}/earn`, {
    key: till,
    body: { amountMinor: points * 100, currency: 'USD', orderRef: `lc-${id}` },
  });
  return id;
}

describe('points lifecycle over HTTP', () => {
  it('holds: 201 held, 200 capture, 409 naming the status on a second capture, replay with the header', async () => {
    const memberId = await memberWith(100);
    const held = await api.request('POST', `/v1/members/${memberId}/redemptions`, {
      key: till,
      body: { points: 40, hold: true },
    });
    expect(held.status).toBe(201);
    expect(held.json.redemption).toMatchObject({ status: 'held', points: 40 });
    const id = held.json.redemption.id;
    const capture = await api.request('POST', `/v1/redemptions/${id}/capture`, {
      key: till,
      idempotencyKey: 'lc-capture-1',
      body: { points: 30 },
    });
    expect(capture.status).toBe(200);
    expect(capture.json.balances).toMatchObject({ available: 70, reserved: 0 });
    const replay = await api.request('POST', `/v1/redemptions/${id}/capture`, {
      key: till,
      idempotencyKey: 'lc-capture-1',
      body: { points: 30 },
    });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.text).toBe(capture.text);
    const again = await api.request('POST', `/v1/redemptions/${id}/release`, { key: till, body: {} });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({
      type: '/problems/conflict',
      detail: expect.stringMatching(/is captured/),
    });
    expect((await api.request('GET', `/v1/redemptions/${id}`, { key: till })).json).toMatchObject({
      status: 'captured',
      capturedPoints: 30,
    });
  });

  it('scopes: refunds and reversals need points:reverse, adjustments and jobs an admin', async () => {
    const memberId = await memberWith(10);
    const redeemed = await api.request('POST', `/v1/members/${memberId}/redemptions`, {
      key: till,
      body: { points: 5 },
    });
    const refund = await api.request('POST', `/v1/redemptions/${redeemed.json.redemption.id}/refund`, {
      key: till,
      body: {},
    });
    expect(refund.status).toBe(403);
    expect(refund.json.detail).toMatch(/points:reverse/);
    const adjust = await api.request('POST', `/v1/members/${memberId}/adjustments`, {
      key: till,
      body: { points: 5, reason: 'x' },
    });
    expect(adjust.status).toBe(403);
    expect((await api.request('POST', '/v1/jobs/expire-points', { key: till, body: {} })).status).toBe(403);
  });

  it('refuses bad lifecycle input with one 400 listing every problem, writing nothing', async () => {
    const memberId = await memberWith(10);
    const before = await snapshotTable(api.store);
    const reverse = await api.request('POST', '/v1/transactions/txn_01ARZ3NDEKTSV4RRFFQ69G5FAV/reverse', {
      body: { points: 1, amountMinor: 100 },
    });
    expect(reverse.status).toBe(400);
    expect(reverse.json.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'body.amountMinor',
      'body.reason',
    ]);
    const adjust = await api.request('POST', `/v1/members/${memberId}/adjustments`, {
      body: { points: 0, reason: '' },
    });
    expect(adjust.json.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'body.points',
      'body.reason',
    ]);
    const job = await api.request('POST', '/v1/jobs/expire-points', {
      body: { asOf: '2999-01-01T00:00:00Z' },
    });
    expect(job.status).toBe(400);
    expect(job.json.errors).toEqual([{ path: 'body.asOf', message: 'must not be in the future' }]);
    const unknownJob = await api.request('POST', '/v1/jobs/compact-everything', { body: {} });
    expect(unknownJob.status).toBe(400);
    expect(unknownJob.json.errors[0].path).toBe('path.name');
    const transferSelf = await api.request('POST', `/v1/members/${memberId}/transfers`, {
      body: { toMemberId: memberId, points: 1 },
    });
    expect(transferSelf.status).toBe(400);
    expect(await snapshotTable(api.store)).toBe(before);
  });

  it('erasure: 200 with nothing personal, 410 member-erased for later writes, reads still answer', async () => {
    const created = await api.request('POST', '/v1/members', {
      body: { email: 'erase@example.com', name: 'To Erase', externalRef: 'lc-erase' },
    });
    const memberId = created.json.id;
    await api.request('POST', `/v1/members/${memberId}/earn`, {
      key: till,
      body: { amountMinor: 1_000, currency: 'USD', orderRef: 'lc-erase-1' },
    });
    const patched = await api.request('PATCH', `/v1/members/${memberId}`, {
      body: { name: 'Renamed', email: null },
    });
    expect(patched.json).toMatchObject({ name: 'Renamed', email: null });
    const erased = await api.request('DELETE', `/v1/members/${memberId}`);
    expect(erased.status).toBe(200);
    expect(erased.json).toMatchObject({ status: 'erased', name: null, email: null, externalRef: null });
    expect(erased.json.erasedAt).toEqual(expect.any(String));
    const earn = await api.request('POST', `/v1/members/${memberId}/earn`, {
      key: till,
      body: { amountMinor: 1_000, currency: 'USD', orderRef: 'lc-erase-2' },
    });
    expect(earn.status).toBe(410);
    expect(earn.json.type).toBe('/problems/member-erased');
    expect((await api.request('PATCH', `/v1/members/${memberId}`, { body: { name: 'Back' } })).status).toBe(
      410,
    );
    const history = await api.request('GET', `/v1/members/${memberId}/transactions`);
    expect(history.json.items.map((t: { type: string }) => t.type)).toEqual(['forfeit', 'earn']);
    expect((await api.request('GET', '/v1/members?externalRef=lc-erase')).json.items).toEqual([]);
    // The reference is free again: a new member can be enrolled under it.
    expect((await api.request('POST', '/v1/members', { body: { externalRef: 'lc-erase' } })).status).toBe(
      201,
    );
  });

  it('jobs: the same answer for the same day, and complete', async () => {
    const first = await api.request('POST', '/v1/jobs/tier-review', { body: {} });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ job: 'tier-review', complete: true });
    const second = await api.request('POST', '/v1/jobs/tier-review', { body: {} });
    expect(second.json).toMatchObject({ processed: first.json.processed, changed: first.json.changed });
  });
});
