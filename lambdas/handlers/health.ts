import { existsSync, readFileSync } from 'node:fs';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { NotFoundError } from '../domain/errors.ts';
import { problemResponses } from '../http/middlewares/problem-responses.ts';
import { requestContext } from '../http/middlewares/request-context.ts';
import { JSON_TYPE } from '../http/responses.ts';
import type { HttpEvent, HttpResult, PipelineState } from '../http/types.ts';

interface Loaded {
  text: string;
  version: string;
}
let loaded: Promise<Loaded> | undefined;

/**
 * On Lambda, docs/openapi.json ships next to the bundle (CDK copies it; a test keeps it current),
 * so this function carries neither zod nor the schemas, nor the AWS SDK. Run from source (`npm
 * start`, the tests) it is built from the manifest: always the code's own.
 */
async function load(): Promise<Loaded> {
  const bundled = new URL('./openapi.json', import.meta.url);
  let text: string;
  if (existsSync(bundled)) text = readFileSync(bundled, 'utf8');
  else {
    // A variable specifier: esbuild leaves the module (and zod with it) out of the bundle.
    const source = '../openapi/file.ts';
    const { openApiFileText } = (await import(source)) as { openApiFileText: () => string };
    text = openApiFileText();
  }
  const document = JSON.parse(text) as { info: { version: string } };
  return { text: JSON.stringify(document), version: document.info.version };
}

const json = (body: string): HttpResult => ({
  statusCode: 200,
  headers: { 'content-type': JSON_TYPE },
  body,
});

/** `GET /v1/health` (liveness and the version) and `GET /openapi.json`: public, no data. */
export const handler = middy<HttpEvent, HttpResult, Error, Context, PipelineState>()
  .use(requestContext())
  .use(problemResponses())
  .handler(async (event) => {
    loaded ??= load();
    const { text, version } = await loaded;
    if (event.routeKey === 'GET /v1/health') return json(JSON.stringify({ status: 'ok', version }));
    if (event.routeKey === 'GET /openapi.json') return json(text);
    throw new NotFoundError(`No route ${event.routeKey}.`);
  });
