import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { NotFoundError } from '../domain/errors.ts';
import { problemResponses } from '../http/middlewares/problem-responses.ts';
import { requestContext } from '../http/middlewares/request-context.ts';
import type { HttpEvent, HttpResult, PipelineState } from '../http/types.ts';
import { assetNames, type SiteFileName, siteFiles } from '../site/files.ts';

/**
 * Scripts, styles and data only from this origin, so neither page can load from a CDN or send a
 * pasted key anywhere else; Scalar's components set inline styles.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

interface LoadedFile {
  raw: Buffer;
  gzipped?: Buffer;
}
const loaded = new Map<SiteFileName, LoadedFile>();

/** Next to the bundle on Lambda (CDK copies the files to `site/`), where they are when run locally. */
function load(name: SiteFileName): LoadedFile {
  let file = loaded.get(name);
  if (!file) {
    const bundled = new URL(`./site/${name}`, import.meta.url);
    const path = existsSync(bundled) ? bundled : new URL(`../../${siteFiles[name].source}`, import.meta.url);
    file = { raw: readFileSync(path) };
    loaded.set(name, file);
  }
  return file;
}

function serve(event: HttpEvent, name: SiteFileName, cacheControl: string): HttpResult {
  const file = load(name);
  const headers: Record<string, string> = {
    'content-type': siteFiles[name].contentType,
    'cache-control': cacheControl,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  // Scalar's bundle is 4.8 MB, 1.4 MB gzipped: well inside Lambda's 6 MB response even as base64.
  if (/\bgzip\b/.test(event.headers?.['accept-encoding'] ?? '') && file.raw.length > 1024) {
    file.gzipped ??= gzipSync(file.raw);
    return {
      statusCode: 200,
      headers: { ...headers, 'content-encoding': 'gzip', vary: 'accept-encoding' },
      body: file.gzipped.toString('base64'),
      isBase64Encoded: true,
    };
  }
  return {
    statusCode: 200,
    headers: { ...headers, vary: 'accept-encoding' },
    body: file.raw.toString('utf8'),
  };
}

const PAGES: Record<string, SiteFileName> = { 'GET /docs': 'docs.html', 'GET /console': 'console.html' };

/**
 * `GET /docs` (the interactive reference over /openapi.json), `GET /console` (the finance console)
 * and their `/assets/{file}`. Nothing here reads data: the console calls the report routes from the
 * browser with the key the reader pastes.
 */
export const handler = middy<HttpEvent, HttpResult, Error, Context, PipelineState>()
  .use(requestContext())
  .use(problemResponses())
  .handler(async (event) => {
    const page = PAGES[event.routeKey];
    if (page) return serve(event, page, 'no-cache');
    const file = event.pathParameters?.file ?? '';
    if (!(assetNames as readonly string[]).includes(file))
      throw new NotFoundError(`No asset ${file}. The pages are /docs and /console.`);
    return serve(event, file as SiteFileName, 'public, max-age=300');
  });
