import { createRouteGroup } from '../http/route-group.ts';
import { eventsRoutes } from '../routes/events.ts';
import { listEvents } from '../services/events-feed.ts';

export const handler = createRouteGroup(eventsRoutes, {
  listEvents: (input, ctx) => listEvents(ctx, input.query),
});
