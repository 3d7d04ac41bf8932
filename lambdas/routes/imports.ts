import * as imports from '../schemas/imports.ts';
import { ADMIN } from './access.ts';
import type { RouteSpec } from './spec.ts';

/** The routes of the `imports` group: its function bundles these schemas and no others. */
export const importsRoutes = [
  {
    operationId: 'importTransactions',
    method: 'POST',
    path: '/v1/imports/transactions',
    group: 'imports',
    summary:
      'Import historical purchases (NDJSON or CSV, ≤ 6 MB a request): members created on first sight, each line validated, a re-import changes nothing',
    access: { roles: ADMIN },
    successStatus: 200,
    query: imports.importQuery,
    body: imports.importBody,
    textBody: { mediaTypes: imports.IMPORT_MEDIA_TYPES, maxBytes: imports.MAX_IMPORT_BYTES },
    response: imports.importResponse,
  },
] as const satisfies readonly RouteSpec[];
