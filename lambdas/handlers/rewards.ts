import { createRouteGroup } from '../http/route-group.ts';
import { rewardsRoutes } from '../routes/rewards.ts';
import { changeReward, createReward, listCatalogue, readReward } from '../services/rewards.ts';

export const handler = createRouteGroup(rewardsRoutes, {
  createReward: (input, ctx) => createReward(ctx, input.body),
  listRewards: (input, ctx) => listCatalogue(ctx, input.query),
  getReward: (input, ctx) => readReward(ctx, input.params.rewardId),
  updateReward: (input, ctx) => changeReward(ctx, input.params.rewardId, input.body),
});
