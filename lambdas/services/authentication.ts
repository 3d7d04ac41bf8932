/**
 * Authentication inside the handler (decisions §51): the bearer key's SHA-256 names its item, read
 * strongly consistently on every request, so a revoked key fails on its very next call. A point
 * movement reads it in its own first BatchGet, with the member, program and partner; every other
 * route reads it with a GetItem of its own before anything else.
 */
import { ServiceUnavailableError, UnauthorizedError } from '../domain/errors.ts';
import { logger } from '../http/logger.ts';
import {
  findPrincipal,
  type Principal,
  principalFromKeyItem,
  readApiKeyItem,
  touchApiKey,
} from '../store/api-key-store.ts';
import type { Store } from '../store/client.ts';
import { keys } from '../store/keys.ts';
import { hashApiKey } from './api-keys.ts';

export const UNKNOWN_KEY = 'This API key is not valid: it is unknown or has been revoked.';

/** A key read that rides on the use case's first BatchGet instead of a round trip of its own. */
export interface KeyCheck {
  key: { pk: string; sk: string };
  /** Takes the key's item as read (`undefined`: none); a missing or revoked key is a 401. */
  verify: (item: Record<string, unknown> | undefined) => void;
  /** Whether the item was read for this request (and verified: refused or not). */
  read: boolean;
}

export interface Authentication {
  principal: Principal;
  /** Present when the key is still to be read (it rides on the use case's BatchGet). */
  keyCheck?: KeyCheck;
  /** Recording the key's use (at most once a minute per container), running beside the request. */
  touch?: Promise<void>;
}

/**
 * What each key granted when this container last read it. A key's role, partner and scopes never
 * change (only `revokedAt` does, and every request reads that), so knowing them ahead lets a point
 * movement ask for the partner in the same BatchGet as the key.
 */
const known = new Map<string, Principal>();
const MAX_KNOWN = 1_000;
/** When this container last recorded each key's use: most requests then skip the write entirely. */
const touched = new Map<string, number>();
const TOUCH_INTERVAL_MS = 60_000;

function remember(cacheKey: string, principal: Principal): void {
  known.delete(cacheKey);
  known.set(cacheKey, principal);
  // Oldest first: a Map iterates in insertion order.
  if (known.size > MAX_KNOWN) known.delete(known.keys().next().value as string);
}

/** The key in `Authorization: Bearer <key>`; anything else is a 401 that says what was wrong. */
export function bearerKey(header: string | undefined): string {
  if (!header) throw new UnauthorizedError('Send an API key as `Authorization: Bearer <key>`.');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw new UnauthorizedError('The Authorization header must be `Bearer <key>`.');
  return match[1];
}

/**
 * Resolve the request's key to a principal. With `deferRead` (the route's use case reads the key
 * in its own BatchGet) and a key this container has read before, no request is made here: the
 * returned check must be verified before the use case writes or answers.
 */
export async function authenticateRequest(
  store: Store,
  header: string | undefined,
  now: Date,
  options: { deferRead: boolean },
): Promise<Authentication> {
  const hash = hashApiKey(bearerKey(header));
  const cacheKey = `${store.tableName}|${hash}`;
  const cached = known.get(cacheKey);
  if (options.deferRead && cached) {
    const keyCheck: KeyCheck = {
      key: keys.apiKeyByHash(hash),
      read: false,
      verify(item) {
        keyCheck.read = true;
        if (!principalFromKeyItem(item)) {
          known.delete(cacheKey);
          throw new UnauthorizedError(UNKNOWN_KEY);
        }
      },
    };
    return withTouch(store, { principal: cached, keyCheck }, now);
  }
  const principal = await lookup(() => findPrincipal(store, hash));
  if (!principal) {
    known.delete(cacheKey);
    throw new UnauthorizedError(UNKNOWN_KEY);
  }
  remember(cacheKey, principal);
  return withTouch(store, { principal }, now);
}

/** Read the key now if the use case did not (it failed before its BatchGet): a 401 wins over its answer. */
export async function completeKeyCheck(store: Store, check: KeyCheck): Promise<void> {
  if (!check.read) check.verify(await lookup(() => readApiKeyItem(store, check.key)));
}

/** A key that cannot be read is a 503 to retry, not a 500 or a 401. */
async function lookup<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    logger.error('API key lookup failed', { error });
    throw new ServiceUnavailableError('Authentication is unavailable; retry shortly.');
  }
}

function withTouch(store: Store, auth: Authentication, now: Date): Authentication {
  const { keyId } = auth.principal;
  if (now.getTime() - (touched.get(keyId) ?? 0) < TOUCH_INTERVAL_MS) return auth;
  if (touched.size >= MAX_KNOWN * 10) touched.clear(); // bounded: forgetting only costs a write
  touched.set(keyId, now.getTime());
  const touch = touchApiKey(store, keyId, now.toISOString()).catch((error: unknown) => {
    logger.warn('could not record API key use', { keyId, error }); // never fails a request
  });
  return { ...auth, touch };
}
