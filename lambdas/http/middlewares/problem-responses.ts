import { DomainError, ServiceUnavailableError } from '../../domain/errors.ts';
import { translateStoreError } from '../../store/errors.ts';
import { internalErrorResult, problemResult } from '../responses.ts';
import type { HttpMiddleware } from '../types.ts';

/**
 * middy's early timeout (`timeoutEarlyInMillis` before the function's time is up): a step still in
 * flight at the use case's deadline (a slow page or transaction under load) outlasted its margin.
 */
function isMiddyTimeout(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'TimeoutError' &&
    (error.cause as { package?: unknown } | undefined)?.package === '@middy/core'
  );
}

/**
 * Maps every error to problem+json. Domain errors carry their own status and slug; running out of
 * time is load, not a bug: 503 with Retry-After (what was committed stays; the same request again,
 * with its Idempotency-Key, continues, as do a day's job and an import); anything else is a bug:
 * logged in full with the request id, answered with a 500 that reveals nothing.
 */
export function problemResponses(): HttpMiddleware {
  return {
    onError: (request) => {
      const error = isMiddyTimeout(request.error)
        ? new ServiceUnavailableError(
            'The call ran out of time before it finished; what it did is kept. Send it again (with the same Idempotency-Key) to continue.',
          )
        : translateStoreError(request.error);
      if (error instanceof DomainError) {
        request.response = problemResult(error, request.event.rawPath);
        return;
      }
      (request.internal.logger ?? console).error('unhandled error', { error });
      request.response = internalErrorResult(
        request.internal.requestId ?? request.event.requestContext.requestId,
      );
    },
  };
}
