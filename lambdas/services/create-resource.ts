import {
  type DomainError,
  IdempotencyInProgressError,
  TooManyConcurrentUpdatesError,
} from '../domain/errors.ts';
import { putIdempotencyRecord, replayOf } from '../store/idempotency.ts';
import { type TransactItem, TransactionCancelledError, transactWrite } from '../store/transactions.ts';
import { type RequestContext, respond, type UseCaseResponse, withinDeadline } from './context.ts';
import { jitter } from './retry.ts';

const MAX_ATTEMPTS = 5;

/**
 * Create a resource: its items, plus the idempotency record when the caller sent a key, in one
 * transaction. A replay returns the first response; a failed condition on `items[i]` becomes the
 * domain error `onConditionFailed(i)` (e.g. 409 for a duplicate id). A transaction that raced a
 * concurrent one on the same items (AWS cancels it with TransactionConflict) is tried again: the
 * retry then sees the winner's items and replays or refuses like any later request.
 */
export async function createResource(
  ctx: RequestContext,
  items: TransactItem[],
  response: { status: number; body: unknown; storedBody?: unknown },
  onConditionFailed: (index: number) => DomainError | undefined,
): Promise<UseCaseResponse> {
  const sent = respond(response.status, response.body);
  const idempotency = ctx.idempotency;
  const record = idempotency
    ? [
        putIdempotencyRecord(
          ctx.store,
          idempotency,
          { status: response.status, body: JSON.stringify(response.storedBody ?? response.body) },
          { entity: 'idempotency', createdAt: ctx.now },
          true,
        ),
      ]
    : [];
  for (let attempt = 1; ; attempt++) {
    try {
      await transactWrite(ctx.store, [...record, ...items]);
      return sent;
    } catch (error) {
      if (!(error instanceof TransactionCancelledError)) throw error;
      const previous = idempotency && error.failedAt(0);
      if (idempotency && previous?.item) return { ...replayOf(previous.item, idempotency), replayed: true };
      for (let index = 0; index < items.length; index++) {
        if (!error.failedAt(index + record.length)) continue;
        const problem = onConditionFailed(index);
        if (problem) throw problem;
      }
      if (!error.isConflict) throw error;
      if (attempt === MAX_ATTEMPTS || !withinDeadline(ctx))
        throw idempotency ? new IdempotencyInProgressError() : new TooManyConcurrentUpdatesError();
      await jitter(attempt);
    }
  }
}
