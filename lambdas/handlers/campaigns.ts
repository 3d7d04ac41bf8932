import { createRouteGroup } from '../http/route-group.ts';
import { campaignsRoutes } from '../routes/campaigns.ts';
import { changeCampaign, createCampaign, listCampaignsFor, readCampaign } from '../services/campaigns.ts';

export const handler = createRouteGroup(campaignsRoutes, {
  createCampaign: (input, ctx) => createCampaign(ctx, input.body),
  listCampaigns: (input, ctx) => listCampaignsFor(ctx, input.query),
  getCampaign: (input, ctx) => readCampaign(ctx, input.params.campaignId),
  updateCampaign: (input, ctx) => changeCampaign(ctx, input.params.campaignId, input.body),
});
