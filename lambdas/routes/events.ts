import * as events from '../schemas/events.ts';
import { ADMIN_PARTNER } from './access.ts';
import type { RouteSpec } from './spec.ts';

/** The routes of the `events` group: its function bundles these schemas and no others. */
export const eventsRoutes = [
  {
    operationId: 'listEvents',
    method: 'GET',
    path: '/v1/events',
    group: 'events',
    summary: 'Replay the events feed in order, after a cursor (a partner key reads its own events)',
    access: { roles: ADMIN_PARTNER, scope: 'events:read' },
    successStatus: 200,
    query: events.eventsQuery,
    response: events.eventsResponse,
  },
] as const satisfies readonly RouteSpec[];
