import { listOf } from '../schemas/common.ts';
import * as rewards from '../schemas/rewards.ts';
import { ADMIN_PARTNER } from './access.ts';
import type { RouteSpec } from './spec.ts';

/** The routes of the `rewards` group: its function bundles these schemas and no others. */
export const rewardsRoutes = [
  {
    operationId: 'createReward',
    method: 'POST',
    path: '/v1/rewards',
    group: 'rewards',
    summary: "Add a reward to a partner's catalogue",
    access: { roles: ADMIN_PARTNER, scope: 'rewards:write' },
    idempotency: 'optional',
    successStatus: 201,
    body: rewards.createRewardBody,
    example: { name: 'Free coffee', costPoints: 150, valueMinor: 350, inventory: 500 },
    response: rewards.rewardResponse,
  },
  {
    operationId: 'listRewards',
    method: 'GET',
    path: '/v1/rewards',
    group: 'rewards',
    summary: 'List rewards (a partner key sees its own catalogue)',
    access: { roles: ADMIN_PARTNER, scope: 'rewards:read' },
    successStatus: 200,
    query: rewards.listRewardsQuery,
    response: listOf(rewards.rewardResponse),
  },
  {
    operationId: 'getReward',
    method: 'GET',
    path: '/v1/rewards/{rewardId}',
    group: 'rewards',
    summary: 'Read a reward',
    access: { roles: ADMIN_PARTNER, scope: 'rewards:read' },
    successStatus: 200,
    params: rewards.rewardParams,
    response: rewards.rewardResponse,
  },
  {
    operationId: 'updateReward',
    method: 'PATCH',
    path: '/v1/rewards/{rewardId}',
    group: 'rewards',
    summary: 'Change a reward (price, stock, active)',
    access: { roles: ADMIN_PARTNER, scope: 'rewards:write' },
    successStatus: 200,
    params: rewards.rewardParams,
    body: rewards.updateRewardBody,
    response: rewards.rewardResponse,
  },
] as const satisfies readonly RouteSpec[];
