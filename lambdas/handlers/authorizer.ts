import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import { currentTime } from '../config/clock.ts';
import { logger } from '../http/logger.ts';
import type { AuthorizerContext } from '../http/types.ts';
import { hashApiKey } from '../services/api-keys.ts';
import { findPrincipal, touchApiKey } from '../store/api-key-store.ts';
import { type Store, storeFromEnv } from '../store/client.ts';

type AuthorizerResult = APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>;

const TOUCH_INTERVAL_MS = 60_000;

const anonymous = (reason: string): AuthorizerResult => ({
  isAuthorized: true,
  context: { authenticated: 'false', reason },
});

/**
 * HTTP API Lambda authorizer (simple responses, no result cache so revocation is immediate).
 * It resolves the bearer key to a principal and always lets the request through: the handler
 * answers 401/403 itself as problem+json, which the gateway's fixed error bodies cannot be.
 * If the key cannot be looked up, the handler answers 503 (a thrown authorizer error would be the
 * gateway's bare 500).
 */
export function createAuthorizer(store: () => Store = storeFromEnv, clock: () => Date = currentTime) {
  // When this container last recorded each key's use: most requests then skip the write entirely.
  const touched = new Map<string, number>();
  return async (event: APIGatewayRequestAuthorizerEventV2): Promise<AuthorizerResult> => {
    const header = event.headers?.authorization;
    if (!header) return anonymous('Send an API key as `Authorization: Bearer <key>`.');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) return anonymous('The Authorization header must be `Bearer <key>`.');
    let principal: Awaited<ReturnType<typeof findPrincipal>>;
    try {
      principal = await findPrincipal(store(), hashApiKey(match[1]));
    } catch (error) {
      logger.error('API key lookup failed', { error });
      return {
        isAuthorized: true,
        context: { authenticated: 'unavailable', reason: 'Authentication is unavailable; retry shortly.' },
      };
    }
    if (!principal) return anonymous('This API key is not valid: it is unknown or has been revoked.');
    const now = clock();
    if (now.getTime() - (touched.get(principal.keyId) ?? 0) >= TOUCH_INTERVAL_MS) {
      touched.set(principal.keyId, now.getTime());
      try {
        await touchApiKey(store(), principal.keyId, now.toISOString());
      } catch (error) {
        logger.warn('could not record API key use', { keyId: principal.keyId, error }); // never blocks a request
      }
    }
    return { isAuthorized: true, context: { authenticated: 'true', principal: JSON.stringify(principal) } };
  };
}

export const handler = createAuthorizer();
