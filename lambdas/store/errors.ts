import { ServiceUnavailableError, TooManyConcurrentUpdatesError } from '../domain/errors.ts';
import { TransactionCancelledError } from './transaction-cancelled.ts';

/** SDK error names that mean "DynamoDB is asking us to slow down" (after the SDK's own retries). */
const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

/**
 * DynamoDB could not be reached, or failed on its side (after the SDK's own retries): a connection
 * refused, reset or timed out, or DynamoDB's 500/503. Transient, not a bug of ours.
 */
const UNAVAILABLE = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

function isUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    const { name, code, cause } = current as { name?: unknown; code?: unknown; cause?: unknown };
    if (
      (typeof name === 'string' && UNAVAILABLE.has(name)) ||
      (typeof code === 'string' && NETWORK_CODES.has(code))
    )
      return true;
    current = cause;
  }
  return false;
}

/**
 * Throttling, and transaction conflicts a use case's own retries did not outlast, are load, not
 * bugs: they become 429 `rate-limited` with Retry-After, so clients back off and retry with the same
 * Idempotency-Key. An unreachable or failing DynamoDB is 503 with Retry-After. Anything else passes
 * through unchanged.
 */
export function translateStoreError(error: unknown): unknown {
  const name = (error as { name?: unknown } | null)?.name;
  const throttled =
    (typeof name === 'string' && THROTTLING.has(name)) ||
    (error instanceof TransactionCancelledError &&
      (error.isConflict || error.reasons.some((reason) => reason.code === 'ThrottlingError')));
  if (throttled)
    return new TooManyConcurrentUpdatesError(
      'DynamoDB is throttling requests. Retry shortly with the same Idempotency-Key.',
    );
  // A write may have committed before its answer was lost: the same Idempotency-Key replays it.
  if (isUnavailable(error))
    return new ServiceUnavailableError(
      'The database could not be reached. Retry shortly with the same Idempotency-Key: a change that was made is answered, never made twice.',
    );
  return error;
}
