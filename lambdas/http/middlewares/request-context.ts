import { logger } from '../logger.ts';
import type { HttpEvent, HttpMiddleware, HttpResult, PipelineState } from '../types.ts';

/**
 * Outermost middleware: gives the request its id (API Gateway's, so gateway and function logs
 * join), a child logger carrying it, one access-log line, and the `x-request-id` header on every
 * response, errors included.
 */
export function requestContext(): HttpMiddleware {
  const started = new WeakMap<object, number>();
  const finish = (request: {
    event: HttpEvent;
    response: HttpResult | null | undefined;
    internal: PipelineState;
  }) => {
    const response = request.response;
    if (!response) return;
    response.headers = { ...response.headers, 'x-request-id': request.internal.requestId };
    request.internal.logger.info('request', {
      method: request.event.requestContext.http.method,
      path: request.event.rawPath,
      status: response.statusCode,
      durationMs: Date.now() - (started.get(request) ?? Date.now()),
    });
  };
  return {
    before: (request) => {
      started.set(request, Date.now());
      const requestId = request.event.requestContext.requestId;
      request.internal.requestId = requestId;
      request.internal.logger = logger.createChild({ persistentKeys: { requestId } });
    },
    after: finish,
    onError: finish,
  };
}
