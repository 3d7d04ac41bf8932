import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { MethodNotAllowedError, NotFoundError } from '../domain/errors.ts';
import { problemResponses } from '../http/middlewares/problem-responses.ts';
import { requestContext } from '../http/middlewares/request-context.ts';
import type { HttpEvent, HttpResult, PipelineState } from '../http/types.ts';
import { shippedDocument } from '../openapi/shipped.ts';
import { matchRoutes } from '../routes/match.ts';

/**
 * The `$default` route: any request no manifest route matched. A known path with another method
 * is 405 with `Allow`; anything else is 404, both as problem+json. The paths come from the shipped
 * OpenAPI document, so this function bundles no schemas (decisions §50).
 */
export const handler = middy<HttpEvent, HttpResult, Error, Context, PipelineState>()
  .use(requestContext())
  .use(problemResponses())
  .handler(async (event) => {
    const { routes } = await shippedDocument();
    const allowed = matchRoutes(routes, event.rawPath).map(({ route }) => route.method);
    if (allowed.length > 0) throw new MethodNotAllowedError([...new Set(allowed)]);
    throw new NotFoundError(`No resource at ${event.rawPath}. See /openapi.json for the API's paths.`);
  });
