import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { NotFoundError } from '../domain/errors.ts';
import { problemResponses } from '../http/middlewares/problem-responses.ts';
import { requestContext } from '../http/middlewares/request-context.ts';
import { JSON_TYPE } from '../http/responses.ts';
import type { HttpEvent, HttpResult, PipelineState } from '../http/types.ts';
import { shippedDocument } from '../openapi/shipped.ts';

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
    const { text, version } = await shippedDocument();
    if (event.routeKey === 'GET /v1/health') return json(JSON.stringify({ status: 'ok', version }));
    if (event.routeKey === 'GET /openapi.json') return json(text);
    throw new NotFoundError(`No route ${event.routeKey}.`);
  });
