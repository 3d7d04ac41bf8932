import { env } from '../config/env.ts';
import { createRouteGroup } from '../http/route-group.ts';
import { buildOpenApiDocument } from '../openapi/document.ts';
import { respond } from '../services/context.ts';

let openApi: string | undefined;

export const handler = createRouteGroup('health', {
  getHealth: async () => respond(200, { status: 'ok', version: env().SERVICE_VERSION }),
  // Built once per cold start: the manifest and schemas do not change while the function runs.
  getOpenApi: async () => {
    openApi ??= JSON.stringify(buildOpenApiDocument(env().SERVICE_VERSION));
    return { status: 200, body: openApi, replayed: false };
  },
});
