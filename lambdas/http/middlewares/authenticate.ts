import { ForbiddenError } from '../../domain/errors.ts';
import type { RouteSpec } from '../../routes/manifest.ts';
import { authenticateRequest, completeKeyCheck } from '../../services/authentication.ts';
import type { Principal } from '../../store/api-key-store.ts';
import type { Store } from '../../store/client.ts';
import type { HttpMiddleware, PipelineState } from '../types.ts';

/** A known key outside the route's roles or scopes is 403 (unknown and revoked keys are 401). */
function assertAllowed(route: RouteSpec, principal: Principal): void {
  if (route.access === 'public') return;
  if (!route.access.roles.includes(principal.role)) {
    throw new ForbiddenError(
      `A ${principal.role} key may not call ${route.method} ${route.path} (${route.access.roles.join(', ')} only).`,
    );
  }
  const scope = route.access.scope;
  if (scope && principal.role === 'partner' && !principal.scopes.includes(scope)) {
    throw new ForbiddenError(`This key lacks the scope ${scope}.`);
  }
}

/**
 * Authenticates the bearer key of every non-public route (no Lambda authorizer: decisions §51) and
 * enforces the route's roles and scope. On a route whose use case reads the key in its own
 * BatchGet (`keyReadWithData`), a key this container knows costs no round trip here; if the use
 * case ends before that read (bad input, an early refusal), the key is read before it answers, so a
 * revoked key always gets its 401 and never another answer.
 */
export function authenticate(store: () => Store, clock: () => Date): HttpMiddleware {
  const settle = async (internal: PipelineState) => {
    await internal.keyTouch;
    const check = internal.keyCheck;
    internal.keyCheck = undefined;
    if (check) await completeKeyCheck(store(), check);
  };
  return {
    before: async (request) => {
      const route = request.internal.route;
      if (!route || route.access === 'public') return;
      const auth = await authenticateRequest(store(), request.event.headers?.authorization, clock(), {
        deferRead: route.keyReadWithData === true,
      });
      request.internal.principal = auth.principal;
      if (auth.keyCheck) request.internal.keyCheck = auth.keyCheck;
      if (auth.touch) request.internal.keyTouch = auth.touch;
      assertAllowed(route, auth.principal);
    },
    after: async (request) => {
      const check = request.internal.keyCheck;
      if (check && !check.read) {
        // A use case on a keyReadWithData route answered without its BatchGet: read the key now.
        request.internal.logger.warn('the use case did not read the API key', {
          operationId: request.internal.route?.operationId,
        });
      }
      await settle(request.internal);
    },
    onError: async (request) => {
      try {
        await settle(request.internal);
      } catch (error) {
        request.error = error as Error; // 401 (revoked) or 503 (unreadable) wins over the use case's error
      }
    },
  };
}
