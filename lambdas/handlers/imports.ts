import { createRouteGroup } from '../http/route-group.ts';
import { importTransactions } from '../services/imports.ts';

export const handler = createRouteGroup('imports', {
  importTransactions: (input, ctx) =>
    importTransactions(ctx, input.body, { points: input.query.points === 'true' }),
});
