/** The shape of a route in the manifest. */
import type * as z from 'zod';
import type { Role, Scope } from '../schemas/common.ts';
import type { RouteGroupName } from './groups.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteAccess {
  roles: readonly Role[];
  /** A partner key must hold this scope (admin keys hold every scope). */
  scope?: Scope;
}

export interface RouteSpec {
  operationId: string;
  method: HttpMethod;
  path: string;
  group: RouteGroupName;
  summary: string;
  /** `public` routes take no API key. */
  access: RouteAccess | 'public';
  idempotency?: 'required' | 'optional';
  successStatus: number;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /**
   * A body taken as UTF-8 text (validated by `body`, a string schema) in one of these media types,
   * up to `maxBytes`, instead of JSON (bulk imports).
   */
  textBody?: { mediaTypes: readonly string[]; maxBytes: number };
  response?: z.ZodType;
  /**
   * The media type of a success that is not JSON (the pages and assets of `/docs` and `/console`):
   * served as is, with no input validation.
   */
  produces?: string;
  /**
   * The use case reads the caller's API key in its own first BatchGet (loadPointsContext, with the
   * member, program and partner), so a container that knows the key makes no request for it alone.
   */
  keyReadWithData?: true;
  /** A request body that works (shown in /docs; a unit test parses it with `body`). */
  example?: unknown;
  /**
   * It recognises a duplicate by its body (a PSP's paymentRef), not by Idempotency-Key, and answers
   * it as a replay (`Idempotent-Replayed: true`).
   */
  replaysDuplicates?: boolean;
  /** Error statuses it answers besides those its shape implies (the OpenAPI document lists both). */
  alsoAnswers?: readonly string[];
}

/** `GET /v1/members/{memberId}` → the API Gateway route key. */
export const routeKeyOf = (route: Pick<RouteSpec, 'method' | 'path'>) => `${route.method} ${route.path}`;
