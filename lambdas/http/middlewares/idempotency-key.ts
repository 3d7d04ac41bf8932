import { createHash } from 'node:crypto';
import { ValidationError } from '../../domain/errors.ts';
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

/**
 * Reads `Idempotency-Key` (1–255 printable characters), required or optional per route, and
 * fingerprints the request (method, path, canonical body) so a reused key with another body is a 422.
 */
export function idempotencyKey(): HttpMiddleware {
  return {
    before: (request) => {
      const route = request.internal.route;
      const principal = request.internal.principal;
      if (!route?.idempotency || !principal) return;
      const key = request.event.headers['idempotency-key'];
      if (key === undefined) {
        if (route.idempotency === 'required') {
          throw new ValidationError([{ path: 'header.Idempotency-Key', message: 'required on this route' }]);
        }
        return;
      }
      if (!PRINTABLE.test(key)) {
        throw new ValidationError([
          { path: 'header.Idempotency-Key', message: 'must be 1–255 printable characters' },
        ]);
      }
      const fingerprint = `${route.method} ${request.event.rawPath}\n${canonicalJson(request.internal.rawBody ?? {})}`;
      request.internal.idempotency = {
        scope: idempotencyScope(principal),
        key,
        requestHash: createHash('sha256').update(fingerprint).digest('base64url'),
      };
    },
  };
}
