import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../lambdas/http/middlewares/idempotency-key.ts';
import { matchPath, type RouteSpec, routeGroups, routeKeyOf, routes } from '../../lambdas/routes/manifest.ts';

describe('route manifest', () => {
  it('has unique route keys and operation ids', () => {
    expect(new Set(routes.map(routeKeyOf)).size).toBe(routes.length);
    expect(new Set(routes.map((route) => route.operationId)).size).toBe(routes.length);
  });

  it('gives every group a handler module that implements exactly its operations', async () => {
    for (const [group, { entry }] of Object.entries(routeGroups)) {
      const module = await import(`../../lambdas/handlers/${entry}.ts`);
      expect(typeof module.handler, group).toBe('function');
    }
  });

  it('requires an Idempotency-Key on every point-moving route', () => {
    const moving = routes.filter((route) => route.group === 'points' && route.method === 'POST');
    expect(moving.length).toBeGreaterThan(0);
    for (const route of moving) expect(route.idempotency, route.operationId).toBe('required');
  });

  it('gives the main write routes a request example their own body schema accepts', () => {
    const withExamples = (routes as readonly RouteSpec[]).filter((route) => route.example !== undefined);
    expect(withExamples.map((route) => route.operationId)).toEqual(
      expect.arrayContaining(['createPartner', 'createApiKey', 'createMember', 'earnPoints', 'redeemPoints']),
    );
    for (const route of withExamples) {
      const parsed = route.body?.safeParse(route.example);
      expect(parsed?.success, `${route.operationId}: ${JSON.stringify(parsed?.error?.issues)}`).toBe(true);
    }
  });

  it('matches concrete paths to templates with their parameters', () => {
    const [match] = matchPath('/v1/members/mem_01ARZ3NDEKTSV4RRFFQ69G5FAV/earn');
    expect(match?.route.operationId).toBe('earnPoints');
    expect(match?.params).toEqual({ memberId: 'mem_01ARZ3NDEKTSV4RRFFQ69G5FAV' });
    expect(matchPath('/v1/members/x/unknown')).toEqual([]);
    expect(matchPath('/v1/partners/%E0%A4%A')).toEqual([]); // malformed escape: no match, no throw
    expect(
      matchPath('/v1/members')
        .map(({ route }) => route.method)
        .sort(),
    ).toEqual(['GET', 'POST']);
  });
});

describe('canonicalJson', () => {
  it('ignores key order but not values', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }),
    );
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: 2 }));
  });
});
