import { createRouteGroup } from '../http/route-group.ts';
import { partnersRoutes } from '../routes/partners.ts';
import { changePartner, createPartner, listPartnersFor, readPartner } from '../services/partners.ts';

export const handler = createRouteGroup(partnersRoutes, {
  createPartner: (input, ctx) => createPartner(ctx, input.body),
  listPartners: (input, ctx) => listPartnersFor(ctx, input.query),
  getPartner: (input, ctx) => readPartner(ctx, input.params.partnerId),
  updatePartner: (input, ctx) => changePartner(ctx, input.params.partnerId, input.body),
});
