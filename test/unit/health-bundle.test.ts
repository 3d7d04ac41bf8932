import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { cdkBundling } from '../../bench/bundles.ts';

const dir = mkdtempSync(join(tmpdir(), 'health-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const event = (routeKey: string) =>
  ({
    routeKey,
    rawPath: routeKey.split(' ')[1],
    headers: {},
    requestContext: { requestId: 'req-1', http: { method: 'GET', path: routeKey.split(' ')[1] } },
  }) as never;
const context = { getRemainingTimeInMillis: () => 10_000, functionName: 'health' } as never;

describe('the health function as Lambda runs it', () => {
  it('serves the OpenAPI document shipped beside its bundle, which holds no SDK and no zod', async () => {
    const result = await build({
      ...cdkBundling,
      entryPoints: [join(import.meta.dirname, '../../lambdas/handlers/health.ts')],
      outfile: join(dir, 'index.mjs'),
      metafile: true,
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((file) => /node_modules\/(zod|@aws-sdk|@smithy)\//.test(file))).toEqual([]);
    // As CDK's copyFiles puts it (lib/http-api.ts).
    copyFileSync(join(import.meta.dirname, '../../docs/openapi.json'), join(dir, 'openapi.json'));

    const { handler } = await import(pathToFileURL(join(dir, 'index.mjs')).href);
    const file = JSON.parse(readFileSync(join(dir, 'openapi.json'), 'utf8'));
    const openApi = await handler(event('GET /openapi.json'), context);
    expect(openApi.statusCode).toBe(200);
    expect(JSON.parse(openApi.body)).toEqual(file);
    const health = await handler(event('GET /v1/health'), context);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok', version: file.info.version });
    expect(health.headers['x-request-id']).toBe('req-1');
  });
});
