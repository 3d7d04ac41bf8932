/**
 * Typed error hierarchy. Every failure the API can report is a DomainError whose `type` slug
 * becomes the RFC 9457 `type` (`/problems/<slug>`); one middleware maps them to problem+json.
 */
export interface FieldProblem {
  path: string;
  message: string;
}

export interface DomainErrorOptions {
  detail?: string;
  errors?: FieldProblem[];
  headers?: Record<string, string>;
  /** RFC 9457 extension members (e.g. the state a request conflicted with). */
  extensions?: Record<string, unknown>;
  cause?: unknown;
}

export class DomainError extends Error {
  readonly type: string;
  readonly status: number;
  readonly title: string;
  readonly errors: FieldProblem[] | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly extensions: Record<string, unknown> | undefined;

  constructor(type: string, status: number, title: string, options: DomainErrorOptions = {}) {
    super(options.detail ?? title, { cause: options.cause });
    this.name = new.target.name;
    this.type = type;
    this.status = status;
    this.title = title;
    this.errors = options.errors;
    this.headers = options.headers;
    this.extensions = options.extensions;
  }
}

export class ValidationError extends DomainError {
  constructor(errors: FieldProblem[], detail = 'The request is not valid; see errors[] for each problem.') {
    super('validation-error', 400, 'Validation failed', { detail, errors });
  }
}

export class MalformedJsonError extends DomainError {
  constructor(detail = 'The request body is not valid JSON.') {
    super('malformed-json', 400, 'Malformed JSON', { detail });
  }
}

export class UnauthorizedError extends DomainError {
  constructor(detail = 'Send a valid API key as `Authorization: Bearer <key>`.') {
    super('unauthorized', 401, 'Unauthorized', { detail, headers: { 'www-authenticate': 'Bearer' } });
  }
}

export class ForbiddenError extends DomainError {
  constructor(detail = 'This API key is not allowed to perform this operation.') {
    super('forbidden', 403, 'Forbidden', { detail });
  }
}

export class NotFoundError extends DomainError {
  constructor(detail = 'No such resource.') {
    super('not-found', 404, 'Not found', { detail });
  }
}

export class MethodNotAllowedError extends DomainError {
  constructor(allowed: string[]) {
    super('method-not-allowed', 405, 'Method not allowed', {
      detail: `This path accepts ${allowed.join(', ')}.`,
      headers: { allow: allowed.join(', ') },
    });
  }
}

export class ConflictError extends DomainError {
  constructor(detail: string, extensions?: Record<string, unknown>) {
    super('conflict', 409, 'Conflict', { detail, ...(extensions ? { extensions } : {}) });
  }
}

/** A churn scan before any churn model was fitted (the scheduled job waits for one quietly). */
export class ChurnModelMissingError extends ConflictError {
  constructor() {
    super('No churn model has been fitted yet: POST /v1/analytics/churn-model/fit first.');
  }
}

/** The resource existed and is gone for good (an erased member): retrying will not help. */
export class GoneError extends DomainError {
  constructor(detail: string) {
    super('member-erased', 410, 'Gone', { detail });
  }
}

export class InsufficientPointsError extends DomainError {
  constructor(requested: number, available: number) {
    super('insufficient-points', 409, 'Insufficient points', {
      detail: `The member has ${available} points available; ${requested} were requested.`,
    });
  }
}

export class OutOfStockError extends DomainError {
  constructor(rewardId: string) {
    super('out-of-stock', 409, 'Out of stock', { detail: `Reward ${rewardId} has no units left.` });
  }
}

export class ReportTooLargeError extends DomainError {
  constructor() {
    super('report-too-large', 422, 'Report figures too large', {
      detail:
        'A figure of this report exceeds 2^53, which JSON numbers cannot carry exactly. Ask for a shorter period or one partner.',
    });
  }
}

export class IdempotencyKeyReusedError extends DomainError {
  constructor() {
    super('idempotency-key-reused', 422, 'Idempotency key reused', {
      detail:
        'This Idempotency-Key was already used with a different request. Use a new key for a new request.',
    });
  }
}

export class IdempotencyInProgressError extends DomainError {
  constructor() {
    super('idempotency-in-progress', 409, 'Request in progress', {
      detail:
        'A request with this Idempotency-Key is still being processed. Retry shortly with the same key.',
      headers: { 'retry-after': '1' },
    });
  }
}

export class ServiceUnavailableError extends DomainError {
  constructor(detail: string) {
    super('service-unavailable', 503, 'Service unavailable', { detail, headers: { 'retry-after': '1' } });
  }
}

export class PayloadTooLargeError extends DomainError {
  constructor(limitBytes: number) {
    super('payload-too-large', 413, 'Payload too large', {
      detail: `The request body exceeds ${limitBytes} bytes.`,
    });
  }
}

export class UnsupportedMediaTypeError extends DomainError {
  constructor(received: string | undefined, accepted: readonly string[] = ['application/json']) {
    super('unsupported-media-type', 415, 'Unsupported media type', {
      detail: `Send the body as ${accepted.join(' or ')}${received ? `, not ${received}` : ''}.`,
    });
  }
}

export class TooManyConcurrentUpdatesError extends DomainError {
  constructor(
    detail = 'Too many requests are changing this member at the same time. Retry with the same Idempotency-Key.',
  ) {
    super('rate-limited', 429, 'Too many concurrent updates', {
      detail,
      headers: { 'retry-after': '1' },
    });
  }
}
