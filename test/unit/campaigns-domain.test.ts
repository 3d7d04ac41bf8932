import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applies,
  budgetShards,
  campaignFactors,
  capCampaignLines,
  mayApply,
  type Purchase,
  takeFromBudget,
} from '../../lambdas/domain/campaigns.ts';
import type { Campaign } from '../../lambdas/schemas/campaigns.ts';
import { partnerShareOfReversal } from '../../lambdas/services/reverse.ts';

const base: Campaign = {
  id: 'cmp_01JAAAAAAAAAAAAAAAAAAAAAAA',
  name: 'Weekend',
  partnerId: null,
  startsAt: '2026-11-28T00:00:00.000Z',
  endsAt: '2026-11-30T00:00:00.000Z',
  target: {},
  reward: { multiplier: 2 },
  budgetPoints: null,
  active: true,
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-01T00:00:00.000Z',
};

const purchase: Purchase = {
  occurredAt: '2026-11-28T12:00:00.000Z',
  partnerId: 'grocer',
  channel: 'app',
  category: 'fresh',
  tier: 'silver',
  churnRisk: 'high',
  subscribed: true,
};

describe('which campaigns apply', () => {
  it('takes the window as [startsAt, endsAt)', () => {
    expect(applies(base, { ...purchase, occurredAt: base.startsAt })).toBe(true);
    expect(applies(base, { ...purchase, occurredAt: '2026-11-29T23:59:59.999Z' })).toBe(true);
    expect(applies(base, { ...purchase, occurredAt: base.endsAt })).toBe(false);
    expect(applies(base, { ...purchase, occurredAt: '2026-11-27T23:59:59.999Z' })).toBe(false);
    expect(applies({ ...base, active: false }, purchase)).toBe(false);
  });

  // Each dimension on (matching, not matching) and off; the purchase matches every "on" value.
  const matrix: [keyof Campaign['target'], unknown, unknown, Partial<Purchase>][] = [
    ['tiers', ['silver', 'gold'], ['gold'], { tier: 'member' }],
    ['channels', ['app'], ['store'], { channel: null }],
    ['categories', ['fresh'], ['fuel'], { category: null }],
    ['churnRisk', ['high'], ['low', 'medium'], { churnRisk: null }],
    ['subscribed', true, false, { subscribed: false }],
    ['partners', ['grocer'], ['fuel'], { partnerId: 'fuel' }],
  ];
  it.each(matrix)('matches %s when given, and any value when absent', (dimension, hit, miss, other) => {
    expect(applies({ ...base, target: { [dimension]: hit } }, purchase)).toBe(true);
    expect(applies({ ...base, target: { [dimension]: miss } }, purchase)).toBe(false);
    expect(applies({ ...base, target: { [dimension]: hit } }, { ...purchase, ...other })).toBe(false);
    expect(applies({ ...base, target: {} }, { ...purchase, ...other })).toBe(true);
  });

  it('keeps a partner’s campaign to its partner', () => {
    expect(applies({ ...base, partnerId: 'grocer' }, purchase)).toBe(true);
    expect(applies({ ...base, partnerId: 'fuel' }, purchase)).toBe(false);
  });

  it('narrows by the request alone before the member is read, never leaving out one that applies', () => {
    fc.assert(
      fc.property(
        fc.record({
          tier: fc.constantFrom('member', 'silver'),
          churnRisk: fc.constantFrom('low', 'high', null),
          subscribed: fc.boolean(),
        }),
        (member) => {
          const p = { ...purchase, ...member } as Purchase;
          const campaign = { ...base, target: { tiers: ['silver'], churnRisk: ['high' as const] } };
          return !applies(campaign, p) || mayApply(campaign, p);
        },
      ),
    );
  });
});

describe('stacking', () => {
  it('orders multipliers and bonuses by campaign id', () => {
    const a = { ...base, id: 'cmp_01JAAAAAAAAAAAAAAAAAAAAAAB', reward: { bonusPoints: 5 } };
    const b = { ...base, id: 'cmp_01JAAAAAAAAAAAAAAAAAAAAAAA', reward: { multiplier: 1.5 } };
    expect(campaignFactors([a, b])).toEqual({
      multipliers: [{ rule: `campaign:${b.id}`, multiplier: 1.5 }],
      bonuses: [{ rule: `campaign:${a.id}`, points: 5 }],
    });
  });

  it('cuts budgeted lines to their award and drops a line cut to nothing', () => {
    const lines = [
      { rule: 'base', points: 100 },
      { rule: 'campaign:a', points: 100 },
      { rule: 'campaign:b', points: 7 },
    ];
    expect(
      capCampaignLines(
        lines,
        new Map([
          ['campaign:a', 40],
          ['campaign:b', 0],
        ]),
      ),
    ).toEqual({
      points: 140,
      breakdown: [
        { rule: 'base', points: 100 },
        { rule: 'campaign:a', points: 40 },
      ],
    });
  });
});

describe('budgets', () => {
  it('splits a budget into near-equal shards, never more shards than points', () => {
    expect(budgetShards(1_000_000, 64)).toHaveLength(64);
    expect(budgetShards(1_000, 64)).toEqual(Array.from({ length: 20 }, () => 50));
    expect(budgetShards(1_001, 64).reduce((a, b) => a + b)).toBe(1_001);
    expect(budgetShards(5, 64)).toEqual([5]);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.integer({ min: 1, max: 256 }),
        (points, max) => {
          const shards = budgetShards(points, max);
          return (
            shards.reduce((a, b) => a + b) === points &&
            Math.max(...shards) - Math.min(...shards) <= 1 &&
            shards.length <= max
          );
        },
      ),
    );
  });

  it('takes from the own shard, then the next ones in turn, never more than is left', () => {
    const remaining = new Map([
      [0, 3],
      [1, 0],
      [2, 5],
      [3, 4],
    ]);
    expect(takeFromBudget(6, 3, remaining)).toEqual({
      award: 6,
      takes: [
        { shard: 3, read: 4, left: 0 },
        { shard: 0, read: 3, left: 1 },
      ],
      emptied: false,
    });
    expect(takeFromBudget(20, 2, remaining)).toMatchObject({ award: 12, emptied: true });
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 64 }),
        fc.integer({ min: 0, max: 500 }),
        fc.nat(),
        (lefts, wanted, own) => {
          const map = new Map(lefts.map((left, shard) => [shard, left]));
          const total = lefts.reduce((a, b) => a + b, 0);
          const { award, takes, emptied } = takeFromBudget(wanted, own % lefts.length, map);
          const taken = takes.reduce((sum, take) => sum + take.read - take.left, 0);
          // From at most four shards: the whole award when four shards from the own one hold it.
          const inTurn = lefts.map((_, step) => lefts[((own % lefts.length) + step) % lefts.length] ?? 0);
          const nonEmpty = inTurn.filter((left) => left > 0).slice(0, 4);
          const reachable = nonEmpty.reduce((a, b) => a + b, 0);
          return (
            takes.length <= 4 &&
            award === Math.min(wanted, total, reachable >= wanted ? wanted : reachable) &&
            taken === award &&
            takes.every((take) => take.left >= 0 && take.read === map.get(take.shard)) &&
            emptied === (total === award)
          );
        },
      ),
    );
  });
});

describe('returns of an earn a coalition campaign added to', () => {
  it('returns the partner exactly what it funded, in any number of parts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 20 }),
        (points, fundedSeed, parts) => {
          const fundedPoints = fundedSeed % (points + 1);
          let before = 0;
          let partner = 0;
          for (const part of parts) {
            const requested = Math.min(part, points - before);
            if (requested === 0) break;
            const share = partnerShareOfReversal({ points, fundedPoints }, before, requested, requested);
            if (share < 0 || share > requested) return false;
            partner += share;
            before += requested;
          }
          if (before < points) {
            partner += partnerShareOfReversal(
              { points, fundedPoints },
              before,
              points - before,
              points - before,
            );
          }
          return partner === fundedPoints;
        },
      ),
    );
  });
});
