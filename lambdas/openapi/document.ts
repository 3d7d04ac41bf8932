/**
 * OpenAPI 3.1 generated from the route manifest and the same zod schemas that validate requests
 * (zod 4's own JSON Schema output, which is OpenAPI 3.1's schema dialect): the document cannot
 * drift from what the API accepts.
 */
import * as z from 'zod';
import { type RouteSpec, routeGroups, routes } from '../routes/manifest.ts';
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
  '422':
    'idempotency-key-reused (same Idempotency-Key, different body), or report-too-large (a figure beyond 2^53: ask for a shorter period)',
  '429': 'rate-limited: retry later with the same Idempotency-Key',
  '503':
    'service-unavailable: the call ran out of time or DynamoDB is unavailable; the same request again continues',
};

const HEADERS = {
  'X-Request-Id': {
    description: 'The request id (also in the logs): quote it when reporting a problem.',
    schema: { type: 'string' },
  },
  'Idempotent-Replayed': {
    description: 'true when this is the stored answer to an earlier request with the same Idempotency-Key.',
    schema: { type: 'string', enum: ['true'] },
  },
  'WWW-Authenticate': {
    description: 'Bearer: how to authenticate (RFC 6750), on every 401.',
    schema: { type: 'string' },
  },
  'Retry-After': {
    description: 'Seconds to wait before trying again.',
    schema: { type: 'integer', minimum: 0 },
  },
};

/**
 * The error statuses an operation can answer: validation only where it takes input, auth only
 * where a key is needed, body problems only where it takes a body, idempotency conflicts only
 * where it takes an Idempotency-Key, state conflicts only where it changes something.
 */
function errorStatuses(route: RouteSpec): string[] {
  const writes = route.method !== 'GET';
  // Pages and assets are served as they are: no input is validated.
  const input =
    route.produces === undefined &&
    (route.params !== undefined || route.query !== undefined || route.body !== undefined);
  const statuses = [
    ...(input ? ['400'] : []),
    ...(route.access === 'public' ? [] : ['401', '403']),
    ...((route.params !== undefined && route.produces === undefined) || writes ? ['404'] : []),
    ...(writes ? ['409'] : []),
    // Only what acts on a member (or its redemptions, earns, subscriptions) meets an erased one.
    ...(writes && /members|redemptions|transactions|orders|subscriptions/.test(route.path) ? ['410'] : []),
    ...(route.body !== undefined ? ['413', '415'] : []),
    // 422: a reused Idempotency-Key, or a report whose figures pass 2^53.
    ...(route.idempotency || route.group === 'reports' ? ['422'] : []),
    ...(route.access === 'public' ? [] : ['429', '503']),
  ];
  for (const status of route.alsoAnswers ?? []) if (!statuses.includes(status)) statuses.push(status);
  return statuses.sort();
}

/** A route whose query takes `format=csv` answers text/csv too. */
function answersCsv(route: RouteSpec): boolean {
  if (!route.query) return false;
  const json = schemaOf(route.query, 'input') as { properties?: Record<string, { enum?: unknown[] }> };
  return json.properties?.format?.enum?.includes('csv') ?? false;
}

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return json;
}

/** `createdAt`, `expiresAt`, `scoredAt`…: every `…At` field the API answers is an RFC 3339 instant. */
const INSTANT = /At$/;
/** `from`, `to`, `asOf` of the reports and `…On` fields are calendar days, as `YYYY-MM-DD`. */
const DAY = /^(from|to)$|On$/;

/**
 * Response schemas gain the formats their fields always have (instants, days), by name; the e2e
 * tests validate every response against the document, formats included, so a name that lied would
 * fail there.
 */
function withFormats(schema: JsonSchema, name?: string): JsonSchema {
  const copy: JsonSchema = { ...schema };
  const types = [copy.type].flat();
  if (
    name &&
    types.includes('string') &&
    copy.format === undefined &&
    copy.enum === undefined &&
    copy.pattern === undefined
  ) {
    if (INSTANT.test(name)) copy.format = 'date-time';
    else if (DAY.test(name)) copy.format = 'date';
  }
  if (copy.properties) {
    copy.properties = Object.fromEntries(
      Object.entries(copy.properties as Record<string, JsonSchema>).map(([key, value]) => [
        key,
        withFormats(value, key),
      ]),
    );
  }
  if (copy.items) copy.items = withFormats(copy.items as JsonSchema, name);
  for (const keyword of ['anyOf', 'oneOf', 'allOf'] as const) {
    if (Array.isArray(copy[keyword]))
      copy[keyword] = (copy[keyword] as JsonSchema[]).map((member) => withFormats(member, name));
  }
  return copy;
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
  const requestId = { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } };
  const errors = Object.fromEntries(
    errorStatuses(route).map((status) => [
      status,
      {
        description: ERROR_RESPONSES[status] as string,
        headers: {
          ...requestId,
          ...(status === '401'
            ? { 'WWW-Authenticate': { $ref: '#/components/headers/WWW-Authenticate' } }
            : {}),
          ...(status === '429' || status === '503'
            ? { 'Retry-After': { $ref: '#/components/headers/Retry-After' } }
            : {}),
        },
        content: { 'application/problem+json': { schema: problem } },
      },
    ]),
  );
  const success: Record<string, unknown> = {};
  if (route.response)
    success['application/json'] = { schema: withFormats(schemaOf(route.response, 'output')) };
  if (route.produces) success[route.produces] = { schema: { type: 'string' } };
  if (answersCsv(route))
    success['text/csv'] = {
      schema: { type: 'string', description: 'RFC 4180, a header row, with format=csv' },
    };
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.group],
    ...(route.access === 'public'
      ? { security: [], description: 'Public: no API key needed.' }
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
                {
                  schema: schemaOf(route.body as z.ZodType, 'input'),
                  ...(route.example !== undefined ? { example: route.example } : {}),
                },
              ]),
            ),
          },
        }
      : {}),
    responses: {
      [String(route.successStatus)]: {
        description: 'Success',
        headers: {
          ...requestId,
          ...(route.idempotency || route.replaysDuplicates
            ? { 'Idempotent-Replayed': { $ref: '#/components/headers/Idempotent-Replayed' } }
            : {}),
        },
        ...(Object.keys(success).length > 0 ? { content: success } : {}),
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
      contact: { name: 'The maintainers: open an issue in the repository' },
      license: { name: 'MIT', identifier: 'MIT' },
      description:
        'Coalition loyalty: partners earn and redeem points for shared members. Errors are RFC 9457 problems.',
    },
    servers: [{ url: 'http://localhost:3000', description: '`npm start` (on AWS: the stack output ApiUrl)' }],
    tags: Object.entries(routeGroups).map(([name, group]) => ({ name, description: group.description })),
    security: [{ apiKey: [] }],
    components: {
      headers: HEADERS,
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <api key>' },
      },
      schemas: { Problem: schemaOf(problemSchema, 'output') },
    },
    paths,
  };
}
