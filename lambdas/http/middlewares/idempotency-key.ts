import { createHash } from 'node:crypto';
import type { FieldProblem } from '../../domain/errors.ts';
import type { RouteSpec } from '../../routes/manifest.ts';
import { idempotencyScope } from '../../services/context.ts';
import type { HttpMiddleware } from '../types.ts';

const PRINTABLE = /^[\x20-\x7e]{1,255}$/;

/** JSON with object keys sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What is wrong with a request's `Idempotency-Key` (1–255 printable characters) on this route. */
export function idempotencyKeyProblems(route: RouteSpec, key: string | undefined): FieldProblem[] {
  if (!route.idempotency) return [];
  if (key === undefined) {
    return route.idempotency === 'required'
      ? [{ path: 'header.Idempotency-Key', message: 'required on this route' }]
      : [];
  }
  return PRINTABLE.test(key)
    ? []
    : [{ path: 'header.Idempotency-Key', message: 'must be 1–255 printable characters' }];
}

/**
 * Fingerprints a request that carries an `Idempotency-Key` (checked by `validateInput`): method,
 * path and canonical body, so a reused key with another body is a 422.
 */
export function idempotencyKey(): HttpMiddleware {
  return {
    before: (request) => {
      const route = request.internal.route;
      const principal = request.internal.principal;
      if (!route?.idempotency || !principal) return;
      const key = request.event.headers['idempotency-key'];
      if (key === undefined) return;
      const fingerprint = `${route.method} ${request.event.rawPath}\n${canonicalJson(request.internal.rawBody ?? {})}`;
      request.internal.idempotency = {
        scope: idempotencyScope(principal),
        key,
        requestHash: createHash('sha256').update(fingerprint).digest('base64url'),
      };
    },
  };
}
