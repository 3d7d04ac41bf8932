/**
 * The local API: a Node HTTP server that routes with the manifest and invokes the same route-group
 * handlers Lambda runs, over DynamoDB Local. Used by `npm start` and the e2e tests.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { HttpEvent } from '../lambdas/http/types.ts';
import { matchPath, type RouteGroupName, routeGroups, routeKeyOf } from '../lambdas/routes/manifest.ts';
import { buildHttpEvent, type IncomingHttpRequest, lambdaContext } from './api-gateway.ts';

/** Lambda's synchronous payload limit; the handlers themselves refuse bodies over 1 MB. */
const MAX_REQUEST_BYTES = 6 * 1024 * 1024;

type HttpHandler = (event: HttpEvent, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;

export interface LocalServer {
  url: string;
  port: number;
  close: () => Promise<void>;
}

export interface LocalServerOptions {
  port: number;
  host?: string;
  /** Called with a one-line summary of each request (method, path, status, ms). */
  onRequest?: (line: string) => void;
}

const handlers = new Map<string, Promise<HttpHandler>>();
const loadHandler = (entry: string) => {
  let loaded = handlers.get(entry);
  if (!loaded) {
    loaded = import(`../lambdas/handlers/${entry}.ts`).then((module) => module.handler as HttpHandler);
    handlers.set(entry, loaded);
  }
  return loaded;
};

class RequestTooLargeError extends Error {}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) throw new RequestTooLargeError();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function flatHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

/** Route like API Gateway: a manifest route, or `$default` (the fallback handler: 404/405). */
async function invoke(request: IncomingHttpRequest): Promise<APIGatewayProxyStructuredResultV2> {
  const path = new URL(request.url, 'http://localhost').pathname;
  const match = matchPath(path).find(({ route }) => route.method === request.method);
  if (!match) {
    const event = buildHttpEvent(request, '$default', undefined);
    const fallback = await loadHandler('fallback');
    return (await fallback(event, lambdaContext('fallback', event.requestContext.requestId))) as never;
  }
  const { route, params } = match;
  const routeKey = routeKeyOf(route);
  const event = buildHttpEvent(request, routeKey, Object.keys(params).length ? params : undefined);
  const entry = routeGroups[route.group as RouteGroupName].entry;
  const handler = await loadHandler(entry);
  return (await handler(event, lambdaContext(entry, event.requestContext.requestId))) as never;
}

function problem(status: number, slug: string, title: string, detail: string) {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/problem+json', 'x-request-id': randomUUID() },
    body: JSON.stringify({ type: `/problems/${slug}`, title, status, detail }),
  };
}

/**
 * A request Node's parser refuses before any handler sees it (a malformed header, a request line
 * or headers over 16 KB) still gets a problem+json answer with a request id, like every other error.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) return;
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const result = tooLarge
    ? problem(
        431,
        'request-header-fields-too-large',
        'Request header fields too large',
        'The request line and headers exceed 16 KB; send long values in the body instead.',
      )
    : problem(
        400,
        'bad-request',
        'Bad request',
        'The request is not valid HTTP (malformed request line or header).',
      );
  const body = result.body;
  const head = [
    `HTTP/1.1 ${result.statusCode} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}`,
    ...Object.entries(result.headers).map(([name, value]) => `${name}: ${value}`),
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const server: Server = createServer(async (req, res) => {
    const started = Date.now();
    let result: APIGatewayProxyStructuredResultV2;
    try {
      const body = await readBody(req);
      result = await invoke({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: flatHeaders(req),
        body,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      });
    } catch (error) {
      result =
        error instanceof RequestTooLargeError
          ? problem(
              413,
              'payload-too-large',
              'Payload too large',
              `The request exceeds ${MAX_REQUEST_BYTES} bytes.`,
            )
          : problem(
              500,
              'internal-error',
              'Internal error',
              'The local server failed to invoke the handler.',
            );
      if (!(error instanceof RequestTooLargeError)) console.error(error);
    }
    const status = result.statusCode ?? 200;
    res.writeHead(status, result.headers as Record<string, string>);
    // Like API Gateway: a base64 body (the gzipped assets of /docs) goes out as its bytes.
    res.end(result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? ''));
    // The path only: query strings carry customer references (externalRef) that have no place in logs.
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    options.onRequest?.(`${req.method} ${path} → ${status} (${Date.now() - started} ms)`);
  });
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
