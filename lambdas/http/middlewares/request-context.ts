import { logger } from '../logger.ts';
import { publishRequestMetrics } from '../metrics.ts';
import type { HttpEvent, HttpMiddleware, HttpResult, PipelineState } from '../types.ts';

/** `/problems/insufficient-points` → `insufficient-points`, the outcome of a refused request. */
function problemType(body: string | undefined): string {
  try {
    const type = JSON.parse(body ?? '{}').type;
    return typeof type === 'string' ? type.replace('/problems/', '') : 'error';
  } catch {
    return 'error';
  }
}

/**
 * Outermost middleware: gives the request its id (API Gateway's, so gateway and function logs
 * join), a child logger carrying it, one access-log line (route, operation, partner, status,
 * outcome), the request's EMF metrics, and the `x-request-id` header on every response, errors
 * included.
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
    const status = response.statusCode ?? 200;
    const replayed = response.headers['idempotent-replayed'] === 'true';
    const operationId = request.internal.route?.operationId ?? 'unrouted';
    request.internal.logger.info('request', {
      method: request.event.requestContext.http.method,
      path: request.event.rawPath,
      route: request.event.routeKey,
      operationId,
      partnerId: request.internal.principal?.partnerId ?? null,
      role: request.internal.principal?.role ?? null,
      status,
      outcome: status >= 400 ? problemType(response.body) : replayed ? 'replayed' : 'ok',
      durationMs: Date.now() - (started.get(request) ?? Date.now()),
    });
    publishRequestMetrics({ operationId, status, replayed, body: response.body });
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
