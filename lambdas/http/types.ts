import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type {
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { FieldProblem } from '../domain/errors.ts';
import type { RouteSpec } from '../routes/manifest.ts';
import type { Principal } from '../store/api-key-store.ts';
import type { IdempotencyRequest } from '../store/idempotency.ts';

/**
 * What the Lambda authorizer hands to the handlers. It always authorizes at the gateway and says
 * here who the caller is, so the handler can answer 401/403 as problem+json (HTTP APIs cannot
 * customise the gateway's own 401/403 bodies).
 */
export type AuthorizerContext =
  | { authenticated: 'true'; principal: string }
  | { authenticated: 'false'; reason: string }
  | { authenticated: 'unavailable'; reason: string };

export type HttpEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<AuthorizerContext>;
export type HttpResult = APIGatewayProxyStructuredResultV2 & { headers: Record<string, string> };

/** Validated input of an operation. */
export interface OperationInput {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
}

/** State the middlewares build up for one request (middy's `request.internal`). */
export interface PipelineState extends Record<string, unknown> {
  requestId: string;
  logger: Logger;
  route?: RouteSpec;
  principal?: Principal;
  rawBody?: unknown;
  /** Ambiguities found while parsing the body (duplicate keys…), reported with the other problems. */
  bodyProblems?: FieldProblem[];
  input?: OperationInput;
  idempotency?: IdempotencyRequest;
}

export type HttpMiddleware = MiddlewareObj<HttpEvent, HttpResult, Error, Context, PipelineState>;
