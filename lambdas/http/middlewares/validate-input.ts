import type * as z from 'zod';
import { type FieldProblem, ValidationError } from '../../domain/errors.ts';
import type { HttpMiddleware } from '../types.ts';
import { idempotencyKeyProblems } from './idempotency-key.ts';

/** zod issues → RFC 9457 `errors[]` with dotted paths prefixed by where the field came from. */
export function fieldProblems(where: 'body' | 'query' | 'path', error: z.ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

/**
 * Validates path parameters, query string, body and the Idempotency-Key header against the route,
 * all at once: one 400 lists every problem of the request.
 */
export function validateInput(): HttpMiddleware {
  return {
    before: (request) => {
      const route = request.internal.route;
      if (!route) return;
      const { event } = request;
      const problems: FieldProblem[] = [];
      const parse = (where: 'body' | 'query' | 'path', schema: z.ZodType | undefined, value: unknown) => {
        if (!schema) return where === 'body' ? undefined : {};
        const result = schema.safeParse(value);
        if (result.success) return result.data;
        problems.push(...fieldProblems(where, result.error));
        return undefined;
      };
      const params = parse('path', route.params, event.pathParameters ?? {});
      const query = parse('query', route.query, event.queryStringParameters ?? {});
      problems.push(...(request.internal.bodyProblems ?? []));
      // No body at all is `{}`; a JSON `null` is a body, and no schema takes it for an object.
      const raw = request.internal.rawBody;
      const body = parse('body', route.body, raw === undefined ? {} : raw);
      problems.push(...idempotencyKeyProblems(route, event.headers['idempotency-key']));
      if (problems.length > 0) throw new ValidationError(problems);
      request.internal.input = {
        params: params as Record<string, unknown>,
        query: query as Record<string, unknown>,
        body,
      };
    },
  };
}
