import { DomainError } from '../../domain/errors.ts';
import { translateStoreError } from '../../store/errors.ts';
import { internalErrorResult, problemResult } from '../responses.ts';
import type { HttpMiddleware } from '../types.ts';

/**
 * Maps every error to problem+json. Domain errors carry their own status and slug; anything else
 * is a bug: logged in full with the request id, answered with a 500 that reveals nothing.
 */
export function problemResponses(): HttpMiddleware {
  return {
    onError: (request) => {
      const error = translateStoreError(request.error);
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
