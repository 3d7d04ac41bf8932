import * as z from 'zod';
import { assetNames } from '../site/files.ts';
import type { RouteSpec } from './spec.ts';

/** The routes of the `site` group: its function bundles these schemas and no others. */
export const siteRoutes = [
  {
    operationId: 'getDocs',
    method: 'GET',
    path: '/docs',
    group: 'site',
    summary: 'The interactive API reference (Scalar) over /openapi.json',
    access: 'public',
    successStatus: 200,
    produces: 'text/html',
  },
  {
    operationId: 'getConsole',
    method: 'GET',
    path: '/console',
    group: 'site',
    summary: 'The read-only finance console: paste a finance or admin key (kept only in the page)',
    access: 'public',
    successStatus: 200,
    produces: 'text/html',
  },
  {
    operationId: 'getAsset',
    method: 'GET',
    path: '/assets/{file}',
    group: 'site',
    summary: 'A script or style of /docs and /console',
    access: 'public',
    successStatus: 200,
    params: z.strictObject({ file: z.enum(assetNames) }),
    produces: 'text/javascript',
    alsoAnswers: ['404'],
  },
] as const satisfies readonly RouteSpec[];
