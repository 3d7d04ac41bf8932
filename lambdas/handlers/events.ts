import { createRouteGroup } from '../http/route-group.ts';
import { listEvents } from '../services/events-feed.ts';

export const handler = createRouteGroup('events', {
  listEvents: (input, ctx) => listEvents(ctx, input.query),
});
