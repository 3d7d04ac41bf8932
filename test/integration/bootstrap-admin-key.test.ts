import { randomBytes } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type BootstrapDeps,
  handleBootstrapEvent,
  PHYSICAL_RESOURCE_ID,
  secretReader,
} from '../../lambdas/handlers/bootstrap-admin-key.ts';
import { hashApiKey } from '../../lambdas/services/api-keys.ts';
import { findPrincipal, getApiKeyRecord, revokeApiKey } from '../../lambdas/store/api-key-store.ts';
import type { Store } from '../../lambdas/store/client.ts';
import { snapshotTable } from '../support/fixtures.ts';
import { createTestStore } from '../support/table.ts';

/** Like the generated secret: 48 letters and digits. */
const newSecret = () =>
  randomBytes(36)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, 'x');

let store: Store;

beforeAll(async () => {
  store = await createTestStore('bootstrap');
});

function depsFor(secret: string, now = '2025-01-01T00:00:00.000Z'): BootstrapDeps & { reads: () => number } {
  const readSecret = vi.fn(async () => secret);
  return { readSecret, store, now: () => now, reads: () => readSecret.mock.calls.length };
}

describe('bootstrap admin key custom resource', () => {
  it('makes the secret a working admin principal on Create', async () => {
    const secret = newSecret();
    expect(await findPrincipal(store, hashApiKey(secret))).toBeUndefined();

    const result = await handleBootstrapEvent({ RequestType: 'Create' }, depsFor(secret));

    expect(result).toEqual({ PhysicalResourceId: PHYSICAL_RESOURCE_ID, Data: { Outcome: 'created' } });
    const principal = await findPrincipal(store, hashApiKey(secret));
    expect(principal).toEqual({
      keyId: expect.stringMatching(/^key_/),
      role: 'admin',
      partnerId: null,
      scopes: [],
    });
    const record = await getApiKeyRecord(store, principal!.keyId);
    expect(record).toMatchObject({ name: 'Bootstrap admin key', last4: secret.slice(-4), revokedAt: null });
    // The response CloudFormation sees never carries the secret.
    expect(JSON.stringify(result)).not.toContain(secret);
  });

  it('is idempotent on Update: same key, nothing written', async () => {
    const secret = newSecret();
    await handleBootstrapEvent({ RequestType: 'Create' }, depsFor(secret));
    const principal = await findPrincipal(store, hashApiKey(secret));
    const before = await snapshotTable(store);

    const result = await handleBootstrapEvent(
      { RequestType: 'Update' },
      depsFor(secret, '2025-06-01T00:00:00.000Z'),
    );

    expect(result).toEqual({ PhysicalResourceId: PHYSICAL_RESOURCE_ID, Data: { Outcome: 'existing' } });
    expect(await findPrincipal(store, hashApiKey(secret))).toEqual(principal);
    expect(await snapshotTable(store)).toBe(before);
  });

  it('writes nothing and reads no secret on Delete', async () => {
    const secret = newSecret();
    const before = await snapshotTable(store);
    const deps = depsFor(secret);

    const result = await handleBootstrapEvent({ RequestType: 'Delete' }, deps);

    expect(result).toEqual({ PhysicalResourceId: PHYSICAL_RESOURCE_ID });
    expect(deps.reads()).toBe(0);
    expect(await snapshotTable(store)).toBe(before);
    expect(await findPrincipal(store, hashApiKey(secret))).toBeUndefined();
  });

  it('leaves a revoked bootstrap key revoked on Update', async () => {
    const secret = newSecret();
    await handleBootstrapEvent({ RequestType: 'Create' }, depsFor(secret));
    const { keyId } = (await findPrincipal(store, hashApiKey(secret)))!;
    await revokeApiKey(store, (await getApiKeyRecord(store, keyId))!, '2025-02-01T00:00:00.000Z');
    const before = await snapshotTable(store);

    const result = await handleBootstrapEvent({ RequestType: 'Update' }, depsFor(secret));

    expect(result).toEqual({ PhysicalResourceId: PHYSICAL_RESOURCE_ID, Data: { Outcome: 'revoked' } });
    expect(await findPrincipal(store, hashApiKey(secret))).toBeUndefined();
    expect(await snapshotTable(store)).toBe(before);
  });

  it('rejects a secret that cannot be a bearer token, without writing or echoing it', async () => {
    const before = await snapshotTable(store);
    for (const secret of ['', 'short', `${newSecret()} with spaces`]) {
      const error = await handleBootstrapEvent({ RequestType: 'Create' }, depsFor(secret)).catch((e) => e);
      expect(error).toBeInstanceOf(Error);
      if (secret) expect((error as Error).message).not.toContain(secret);
    }
    expect(await snapshotTable(store)).toBe(before);
  });

  it('fails the deployment when the secret cannot be read', async () => {
    const deps: BootstrapDeps = {
      readSecret: async () => {
        throw new Error('AccessDeniedException');
      },
      store,
      now: () => '2025-01-01T00:00:00.000Z',
    };
    await expect(handleBootstrapEvent({ RequestType: 'Create' }, deps)).rejects.toThrow(
      'AccessDeniedException',
    );
  });
});

describe('secretReader', () => {
  it('reads the SecretString of the configured secret', async () => {
    const client = new SecretsManagerClient({});
    const mock = mockClient(client);
    mock.on(GetSecretValueCommand, { SecretId: 'arn:secret' }).resolves({ SecretString: 'value' });
    expect(await secretReader(client, () => 'arn:secret')()).toBe('value');
  });

  it('fails without a secret ARN or a string value', async () => {
    const client = new SecretsManagerClient({});
    mockClient(client).on(GetSecretValueCommand).resolves({});
    await expect(secretReader(client, () => undefined)()).rejects.toThrow('ADMIN_KEY_SECRET_ARN');
    await expect(secretReader(client, () => 'arn:secret')()).rejects.toThrow('no string value');
  });
});
