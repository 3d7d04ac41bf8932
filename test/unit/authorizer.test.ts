import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../lambdas/handlers/authorizer.ts';
import type { Store } from '../../lambdas/store/client.ts';

const eventWith = (authorization?: string) =>
  ({ headers: authorization ? { authorization } : {} }) as unknown as APIGatewayRequestAuthorizerEventV2;

describe('authorizer', () => {
  const failing: Store = {
    tableName: 't',
    db: { send: () => Promise.reject(new Error('network down')) } as unknown as Store['db'],
  };

  it('lets the handler answer 503 when the key cannot be looked up, instead of failing at the gateway', async () => {
    const result = await createAuthorizer(() => failing)(eventWith('Bearer lk_something'));
    expect(result).toEqual({
      isAuthorized: true,
      context: { authenticated: 'unavailable', reason: 'Authentication is unavailable; retry shortly.' },
    });
  });

  it('says why a request is anonymous without touching the store', async () => {
    const authorize = createAuthorizer(() => failing);
    expect((await authorize(eventWith())).context).toMatchObject({ authenticated: 'false' });
    expect((await authorize(eventWith('Basic x'))).context).toMatchObject({ authenticated: 'false' });
  });
});
