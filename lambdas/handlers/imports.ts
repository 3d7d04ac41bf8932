import { createRouteGroup } from '../http/route-group.ts';
import { importsRoutes } from '../routes/imports.ts';
import { importTransactions } from '../services/imports.ts';

export const handler = createRouteGroup(importsRoutes, {
  importTransactions: (input, ctx) =>
    importTransactions(ctx, input.body, { points: input.query.points === 'true' }),
});
