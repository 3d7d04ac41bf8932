import { NotFoundError } from '../domain/errors.ts';
import type { TransactionType } from '../schemas/points.ts';
import { listHistory } from '../store/ledger-store.ts';
import { getMember } from '../store/member-store.ts';
import { type RequestContext, respond, type UseCaseResponse } from './context.ts';

/** A member's ledger, newest first; a partner key lists only entries made at its partner. */
export async function listTransactions(
  ctx: RequestContext,
  memberId: string,
  query: { limit: number; cursor?: string; type?: TransactionType },
): Promise<UseCaseResponse> {
  if (!(await getMember(ctx.store, memberId))) throw new NotFoundError(`No member ${memberId}.`);
  const page = await listHistory(ctx.store, {
    memberId,
    limit: query.limit,
    ...(query.cursor ? { cursor: query.cursor } : {}),
    ...(query.type ? { type: query.type } : {}),
    ...(ctx.principal.role === 'partner' && ctx.principal.partnerId
      ? { partnerId: ctx.principal.partnerId }
      : {}),
  });
  return respond(200, page);
}
