import { ForbiddenError, ServiceUnavailableError, UnauthorizedError } from '../../domain/errors.ts';
import type { Principal } from '../../store/api-key-store.ts';
import type { HttpMiddleware } from '../types.ts';

/**
 * Enforces the route's roles and scope on the principal the authorizer resolved. Unknown or
 * revoked keys are 401; a known key outside the route's roles or scopes is 403.
 */
export function authenticate(): HttpMiddleware {
  return {
    before: (request) => {
      const route = request.internal.route;
      if (!route || route.access === 'public') return;
      const context = request.event.requestContext.authorizer?.lambda;
      if (context?.authenticated === 'unavailable') throw new ServiceUnavailableError(context.reason);
      if (context?.authenticated !== 'true') {
        throw new UnauthorizedError(context?.authenticated === 'false' ? context.reason : undefined);
      }
      const principal = JSON.parse(context.principal) as Principal;
      if (!route.access.roles.includes(principal.role)) {
        throw new ForbiddenError(
          `A ${principal.role} key may not call ${route.method} ${route.path} (${route.access.roles.join(', ')} only).`,
        );
      }
      const scope = route.access.scope;
      if (scope && principal.role === 'partner' && !principal.scopes.includes(scope)) {
        throw new ForbiddenError(`This key lacks the scope ${scope}.`);
      }
      request.internal.principal = principal;
    },
  };
}
