import { env } from '../config/env.ts';
import { createRouteGroup } from '../http/route-group.ts';
import { respond } from '../services/context.ts';

export const handler = createRouteGroup('health', {
  getHealth: async () => respond(200, { status: 'ok', version: env().SERVICE_VERSION }),
});
