import * as campaigns from '../schemas/campaigns.ts';
import { listOf } from '../schemas/common.ts';
import { ADMIN_PARTNER } from './access.ts';
import type { RouteSpec } from './spec.ts';

/** The routes of the `campaigns` group: its function bundles these schemas and no others. */
export const campaignsRoutes = [
  {
    operationId: 'createCampaign',
    method: 'POST',
    path: '/v1/campaigns',
    group: 'campaigns',
    summary: "Create a campaign: a partner's own (partner key) or coalition-wide (admin, no partnerId)",
    access: { roles: ADMIN_PARTNER, scope: 'campaigns:write' },
    idempotency: 'optional',
    successStatus: 201,
    body: campaigns.createCampaignBody,
    response: campaigns.campaignResponse,
  },
  {
    operationId: 'listCampaigns',
    method: 'GET',
    path: '/v1/campaigns',
    group: 'campaigns',
    summary: 'List campaigns, newest first (a partner key sees its own)',
    access: { roles: ADMIN_PARTNER, scope: 'campaigns:write' },
    successStatus: 200,
    query: campaigns.listCampaignsQuery,
    response: listOf(campaigns.campaignResponse),
  },
  {
    operationId: 'getCampaign',
    method: 'GET',
    path: '/v1/campaigns/{campaignId}',
    group: 'campaigns',
    summary: 'Read a campaign and what its budget has given',
    access: { roles: ADMIN_PARTNER, scope: 'campaigns:write' },
    successStatus: 200,
    params: campaigns.campaignParams,
    response: campaigns.campaignResponse,
  },
  {
    operationId: 'updateCampaign',
    method: 'PATCH',
    path: '/v1/campaigns/{campaignId}',
    group: 'campaigns',
    summary: 'Change a campaign (name, window, target, reward, active); its budget is fixed',
    access: { roles: ADMIN_PARTNER, scope: 'campaigns:write' },
    successStatus: 200,
    params: campaigns.campaignParams,
    body: campaigns.updateCampaignBody,
    response: campaigns.campaignResponse,
  },
] as const satisfies readonly RouteSpec[];
