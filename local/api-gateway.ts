/**
 * Turns a Node HTTP request into the API Gateway HTTP API events (payload format 2.0) that the
 * Lambda handlers receive on AWS, so the local server runs exactly the deployed code path:
 * route match → route group handler (which authenticates the key itself).
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { decodeUtf8 } from '../lambdas/http/strict-json.ts';
import type { HttpEvent } from '../lambdas/http/types.ts';

export interface IncomingHttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  sourceIp: string;
}

const TEXT_TYPES = /^(application\/([a-z.+-]*json|x-ndjson|xml)|text\/)/i;

/** `?a=1&a=2&b=3` → `{ a: '1,2', b: '3' }`, as API Gateway joins repeated parameters. */
export function queryParameters(search: URLSearchParams): Record<string, string> | undefined {
  const result: Record<string, string> = {};
  for (const [name, value] of search) result[name] = name in result ? `${result[name]},${value}` : value;
  return Object.keys(result).length > 0 ? result : undefined;
}

export function buildHttpEvent(
  request: IncomingHttpRequest,
  routeKey: string,
  pathParameters: Record<string, string> | undefined,
): HttpEvent {
  const url = new URL(request.url, 'http://localhost');
  // Bytes that are not valid UTF-8 travel base64-encoded, as API Gateway sends binary bodies: decoding
  // them here would replace them with U+FFFD before the handler could refuse them.
  const isText =
    request.body.length === 0 ||
    (TEXT_TYPES.test(request.headers['content-type'] ?? 'application/json') &&
      decodeUtf8(request.body) !== undefined);
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers: request.headers,
    queryStringParameters: queryParameters(url.searchParams),
    pathParameters,
    body: request.body.length === 0 ? undefined : request.body.toString(isText ? 'utf8' : 'base64'),
    isBase64Encoded: !isText,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: request.headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: request.method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp,
        userAgent: request.headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
  } as HttpEvent;
}

/** A Lambda context good enough for middy (it reads the remaining time). */
export function lambdaContext(functionName: string, requestId: string): Context {
  const deadline = Date.now() + 29_000; // API Gateway's integration timeout
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:local:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
