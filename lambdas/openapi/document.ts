/**
 * OpenAPI 3.1 generated from the route manifest and the same zod schemas that validate requests
 * (zod 4's own JSON Schema output, which is OpenAPI 3.1's schema dialect): the document cannot
 * drift from what the API accepts.
 */
import * as z from 'zod';
import { type RouteSpec, routes } from '../routes/manifest.ts';
import { problemSchema } from '../schemas/common.ts';

type JsonSchema = Record<string, unknown>;

const ERROR_RESPONSES: Record<string, string> = {
  '400': 'validation-error (with errors[]) or malformed-json',
  '401': 'unauthorized: missing, unknown or revoked API key',
  '403': 'forbidden: the key lacks the role or scope',
  '404': 'not-found',
  '409': 'insufficient-points, out-of-stock or conflict (the detail names the current state)',
  '410': 'member-erased: the member was erased; nothing more can be recorded for it',
  '413': 'payload-too-large (over 1 MB)',
  '415': 'unsupported-media-type (send application/json)',
  '422': 'idempotency-key-reused: same Idempotency-Key, different body',
  '429': 'rate-limited: retry later with the same Idempotency-Key',
};

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return json;
}

function parametersOf(route: RouteSpec): JsonSchema[] {
  const parameters: JsonSchema[] = [];
  const add = (where: 'path' | 'query', schema: z.ZodType | undefined) => {
    if (!schema) return;
    const json = schemaOf(schema, 'input') as {
      properties?: Record<string, JsonSchema>;
      required?: string[];
    };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      parameters.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        schema: property,
      });
    }
  };
  add('path', route.params);
  add('query', route.query);
  if (route.idempotency) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: route.idempotency === 'required',
      description: 'Retries with the same key and body return the first response (kept ≥ 24 h).',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  }
  return parameters;
}

function operationOf(route: RouteSpec): JsonSchema {
  const problem = { $ref: '#/components/schemas/Problem' };
  const errors = Object.fromEntries(
    Object.entries(ERROR_RESPONSES)
      .filter(([status]) => route.access !== 'public' || status === '404')
      .map(([status, description]) => [
        status,
        { description, content: { 'application/problem+json': { schema: problem } } },
      ]),
  );
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.group],
    ...(route.access === 'public'
      ? { security: [] }
      : {
          description: `Roles: ${route.access.roles.join(', ')}${route.access.scope ? `; partner keys need scope ${route.access.scope}` : ''}.`,
        }),
    parameters: parametersOf(route),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: Object.fromEntries(
              (route.textBody?.mediaTypes ?? ['application/json']).map((type) => [
                type,
                { schema: schemaOf(route.body as z.ZodType, 'input') },
              ]),
            ),
          },
        }
      : {}),
    responses: {
      [String(route.successStatus)]: {
        description: 'Success',
        ...(route.response
          ? { content: { 'application/json': { schema: schemaOf(route.response, 'output') } } }
          : {}),
      },
      ...errors,
    },
  };
}

export function buildOpenApiDocument(version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes as readonly RouteSpec[]) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, JsonSchema>)[route.method.toLowerCase()] = operationOf(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Loyalty rewards API',
      version,
      description:
        'Coalition loyalty: partners earn and redeem points for shared members. Errors are RFC 9457 problems.',
    },
    security: [{ apiKey: [] }],
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <api key>' },
      },
      schemas: { Problem: schemaOf(problemSchema, 'output') },
    },
    paths,
  };
}
