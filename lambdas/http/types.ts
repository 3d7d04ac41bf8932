import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { FieldProblem } from '../domain/errors.ts';
import type { RouteSpec } from '../routes/manifest.ts';
import type { KeyCheck } from '../services/authentication.ts';
import type { Principal } from '../store/api-key-store.ts';
import type { IdempotencyRequest } from '../store/idempotency.ts';

export type HttpEvent = APIGatewayProxyEventV2;
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
  /** The key, still to be read in the use case's BatchGet (a point movement). */
  keyCheck?: KeyCheck | undefined;
  /** Recording the key's last use, running beside the request. */
  keyTouch?: Promise<void>;
  rawBody?: unknown;
  /** Ambiguities found while parsing the body (duplicate keys…), reported with the other problems. */
  bodyProblems?: FieldProblem[];
  input?: OperationInput;
  idempotency?: IdempotencyRequest;
}

export type HttpMiddleware = MiddlewareObj<HttpEvent, HttpResult, Error, Context, PipelineState>;
