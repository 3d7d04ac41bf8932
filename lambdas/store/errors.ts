import { TooManyConcurrentUpdatesError } from '../domain/errors.ts';
import { TransactionCancelledError } from './transaction-cancelled.ts';

/** SDK error names that mean "DynamoDB is asking us to slow down" (after the SDK's own retries). */
const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

/**
 * Throttling, and transaction conflicts a use case's own retries did not outlast, are load, not
 * bugs: they become 429 `rate-limited` with Retry-After, so clients back off and retry with the same
 * Idempotency-Key. Anything else passes through unchanged.
 */
export function translateStoreError(error: unknown): unknown {
  const name = (error as { name?: unknown } | null)?.name;
  const throttled =
    (typeof name === 'string' && THROTTLING.has(name)) ||
    (error instanceof TransactionCancelledError &&
      (error.isConflict || error.reasons.some((reason) => reason.code === 'ThrottlingError')));
  return throttled
    ? new TooManyConcurrentUpdatesError(
        'DynamoDB is throttling requests. Retry shortly with the same Idempotency-Key.',
      )
    : error;
}
