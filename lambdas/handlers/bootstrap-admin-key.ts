import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { logger } from '../http/logger.ts';
import { ensureAdminKey } from '../services/api-keys.ts';
import { type Store, storeFromEnv } from '../store/client.ts';

/** One resource per stack: a constant id, so an Update never makes CloudFormation delete the "old" one. */
export const PHYSICAL_RESOURCE_ID = 'bootstrap-admin-key';

/** The answer the CDK provider framework relays to CloudFormation. Never carries the secret. */
export interface BootstrapResult {
  PhysicalResourceId: string;
  Data?: { Outcome: 'created' | 'existing' | 'revoked' };
}

export interface BootstrapDeps {
  readSecret: () => Promise<string>;
  store: Store;
  now: () => string;
}

/** Generated secrets are 48 characters; a replaced value must still be a usable bearer token. */
const MIN_LENGTH = 32;

/**
 * The custom resource's onEvent logic. Create and Update make the secret a valid admin key
 * (idempotent; a bootstrap key an admin revoked stays revoked). Delete does nothing: keys are
 * revoked through `DELETE /v1/api-keys/{keyId}`, and the table usually outlives the stack anyway.
 */
export async function handleBootstrapEvent(
  event: Pick<CloudFormationCustomResourceEvent, 'RequestType'>,
  deps: BootstrapDeps,
): Promise<BootstrapResult> {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: PHYSICAL_RESOURCE_ID };
  const secret = await deps.readSecret();
  if (secret.length < MIN_LENGTH || /\s/.test(secret)) {
    // The message reaches the CloudFormation console: describe the value, never show it.
    throw new Error(
      `The bootstrap admin key secret must be at least ${MIN_LENGTH} characters without whitespace ` +
        `(it has ${secret.length}).`,
    );
  }
  const outcome = await ensureAdminKey(deps.store, secret, deps.now());
  logger.info('bootstrap admin key', { requestType: event.RequestType, outcome });
  if (outcome === 'revoked') {
    logger.warn('the bootstrap admin key was revoked and stays revoked; use an admin key you created');
  }
  return { PhysicalResourceId: PHYSICAL_RESOURCE_ID, Data: { Outcome: outcome } };
}

/** The SecretString of a secret (this function's role may read exactly the bootstrap secret). */
export function secretReader(client: SecretsManagerClient, secretId: () => string | undefined) {
  return async (): Promise<string> => {
    const id = secretId();
    if (!id) throw new Error('ADMIN_KEY_SECRET_ARN is not set');
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: id }));
    if (SecretString === undefined) throw new Error('The bootstrap admin key secret has no string value');
    return SecretString;
  };
}

const readSecret = secretReader(new SecretsManagerClient({}), () => process.env.ADMIN_KEY_SECRET_ARN);

export const handler = (event: CloudFormationCustomResourceEvent): Promise<BootstrapResult> =>
  handleBootstrapEvent(event, { readSecret, store: storeFromEnv(), now: () => new Date().toISOString() });
