import type { Principal } from '../store/api-key-store.ts';
import type { Store } from '../store/client.ts';
import type { IdempotencyRequest, StoredResponse } from '../store/idempotency.ts';
import type { KeyCheck } from './authentication.ts';

/** Everything a use case needs about the request, resolved by the HTTP middlewares. */
export interface RequestContext {
  store: Store;
  principal: Principal;
  /**
   * The caller's key, when it is read with the use case's first BatchGet (loadPointsContext): it
   * must be verified before anything is written or answered.
   */
  keyCheck?: KeyCheck;
  /** Present when the caller sent an Idempotency-Key. */
  idempotency?: IdempotencyRequest;
  /** The request's clock reading (ISO 8601 UTC): one value for the whole use case. */
  now: string;
  /**
   * Epoch ms after which no new write attempt may start: a retry loop gives up (429) while the
   * function can still answer, so nothing commits after the caller was told it failed.
   */
  deadline?: number;
}

/** A response a use case produced; `replayed` when it came from an idempotency record. */
export interface UseCaseResponse extends StoredResponse {
  replayed: boolean;
  /** application/json unless said otherwise (reports also answer text/csv). */
  contentType?: string;
}

/** Whether another write attempt may still start. */
export function withinDeadline(ctx: RequestContext): boolean {
  return ctx.deadline === undefined || Date.now() < ctx.deadline;
}

export function respond(status: number, body: unknown): UseCaseResponse {
  return { status, body: JSON.stringify(body), replayed: false };
}

/** The idempotency scope of a caller: its partner, or `_admin` (contract: (partner or admin, key)). */
export function idempotencyScope(principal: Principal): string {
  return principal.partnerId ?? `_${principal.role}`;
}
