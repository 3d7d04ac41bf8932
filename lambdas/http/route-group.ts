import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { currentTime } from '../config/clock.ts';
import { NotFoundError } from '../domain/errors.ts';
import { type RouteSpec, routeKeyOf } from '../routes/spec.ts';
import type { RequestContext, UseCaseResponse } from '../services/context.ts';
import type { Principal } from '../store/api-key-store.ts';
import { type Store, storeFromEnv } from '../store/client.ts';
import { authenticate } from './middlewares/authenticate.ts';
import { idempotencyKey } from './middlewares/idempotency-key.ts';
import { jsonBody } from './middlewares/json-body.ts';
import { problemResponses } from './middlewares/problem-responses.ts';
import { requestContext } from './middlewares/request-context.ts';
import { validateInput } from './middlewares/validate-input.ts';
import { jsonResult } from './responses.ts';
import type { HttpEvent, HttpResult, OperationInput, PipelineState } from './types.ts';

/** Time kept in hand to answer (and log) after the last write attempt a request may start. */
const DEADLINE_MARGIN_MS = 2_000;

/**
 * Who calls a public route: the least privilege there is, a partner of no partner without scopes,
 * so a public operation that looks at its caller can never act as admin.
 */
const ANONYMOUS: Principal = { keyId: 'anonymous', role: 'partner', partnerId: '_anonymous', scopes: [] };

/** The implementation of one operation: validated input in, a use case's response out. */
// biome-ignore lint/suspicious/noExplicitAny: each operation narrows its own input shape
export type Operation = (input: any, ctx: RequestContext) => Promise<UseCaseResponse>;

export interface RouteGroupOptions {
  /** Inject a store (tests); defaults to the one built from the environment at first use. */
  store?: () => Store;
  clock?: () => Date;
}

/**
 * The Lambda handler of one route group: a middy stack (request id and logging, problem+json
 * errors, auth, JSON body, zod validation, Idempotency-Key) around a dispatch on the route key.
 * Handler modules pass their group's routes (`routes/<group>.ts`, not the whole manifest, so each
 * function bundles only its own schemas) and list their operations; everything HTTP lives here.
 */
export function createRouteGroup<R extends RouteSpec>(
  groupRoutes: readonly R[],
  operations: Record<R['operationId'], Operation>,
  options: RouteGroupOptions = {},
) {
  const routes = new Map<string, RouteSpec>(groupRoutes.map((route) => [routeKeyOf(route), route]));
  const store = options.store ?? storeFromEnv;
  const clock = options.clock ?? currentTime;
  const table = operations as Record<string, Operation>;

  // middy hands the handler only (event, context): the middlewares' state travels keyed by event.
  const states = new WeakMap<HttpEvent, PipelineState>();

  const dispatch = async (event: HttpEvent, context: Context) => {
    const internal = states.get(event) as PipelineState;
    const route = internal.route as NonNullable<PipelineState['route']>;
    const operation = table[route.operationId];
    if (!operation) throw new Error(`no implementation for ${route.operationId}`);
    const input = internal.input as OperationInput;
    const principal = internal.principal ?? ANONYMOUS;
    const result = await operation(input, {
      store: store(),
      principal,
      now: clock().toISOString(),
      deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS,
      ...(internal.idempotency ? { idempotency: internal.idempotency } : {}),
      ...(internal.keyCheck ? { keyCheck: internal.keyCheck } : {}),
    });
    return jsonResult(result.status, result.body, {
      ...(result.replayed ? { 'idempotent-replayed': 'true' } : {}),
      ...(result.contentType ? { 'content-type': result.contentType } : {}),
    });
  };

  return middy<HttpEvent, HttpResult, Error, Context, PipelineState>()
    .use(requestContext())
    .use(problemResponses())
    .use({
      before: (request) => {
        const route = routes.get(request.event.routeKey);
        if (!route) throw new NotFoundError(`No route ${request.event.routeKey}.`);
        request.internal.route = route;
        states.set(request.event, request.internal);
      },
    })
    .use(authenticate(store, clock))
    .use(jsonBody())
    .use(validateInput())
    .use(idempotencyKey())
    .handler(dispatch);
}
