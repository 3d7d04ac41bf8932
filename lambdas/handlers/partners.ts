import { createRouteGroup } from '../http/route-group.ts';
import { changePartner, createPartner, listPartnersFor, readPartner } from '../services/partners.ts';

export const handler = createRouteGroup('partners', {
  createPartner: (input, ctx) => createPartner(ctx, input.body),
  listPartners: (input, ctx) => listPartnersFor(ctx, input.query),
  getPartner: (input, ctx) => readPartner(ctx, input.params.partnerId),
  updatePartner: (input, ctx) => changePartner(ctx, input.params.partnerId, input.body),
});
