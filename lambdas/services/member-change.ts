/**
 * The write path of every point-moving use case: read the member, compute the new position with
 * pure domain code, and commit ledger entry (= idempotency record), member position and any extra
 * items in one transaction conditioned on the member's version. A lost race re-reads and
 * recomputes; an existing idempotency record turns the request into a replay.
 */
import { DomainError, NotFoundError, TooManyConcurrentUpdatesError } from '../domain/errors.ts';
import { newIdBefore } from '../domain/ids.ts';
import { balancesOf, type MemberPoints, type Settled, settleDue } from '../domain/member-ledger.ts';
import { SYSTEM_SCOPE } from '../domain/namespaces.ts';
import { dayOf } from '../domain/time.ts';
import type { TransactionView } from '../schemas/points.ts';
import { findReplay, type IdempotencyRequest, putIdempotencyRecord, replayOf } from '../store/idempotency.ts';
import {
  type AggregateDelta,
  addToAggregate,
  type LedgerResponseShape,
  ledgerEntryAttributes,
  ledgerResponseBody,
} from '../store/ledger-store.ts';
import { type MemberRecord, updateMemberPoints } from '../store/member-store.ts';
import { type TransactItem, TransactionCancelledError, transactWrite } from '../store/transactions.ts';
import { type RequestContext, type UseCaseResponse, withinDeadline } from './context.ts';
import { jitter } from './retry.ts';

export interface MemberChangePlan {
  entry: TransactionView;
  /** Extra attributes stored on the ledger entry (e.g. the lots a redemption consumed). */
  entryExtra?: Record<string, unknown>;
  points: MemberPoints;
  status: number;
  /** What the response shows besides the balances (default: the transaction). */
  responseShape?: LedgerResponseShape;
  /** Further items of the same transaction (order guard, inventory). */
  items?: TransactItem[];
  /** Report counters to add to, per partner (null: the coalition); merged with the expiry's. */
  aggregates?: { partnerId: string | null; delta: AggregateDelta }[];
  /** What a failed condition on `items[index]` means: a domain error, or a race to re-plan. */
  onItemConditionFailed?: (index: number) => DomainError | 'retry' | undefined;
}

export interface MemberChange<Loaded extends { member: MemberRecord | undefined }> {
  memberId: string;
  /** Reads what the plan needs (the member, strongly consistent, plus config) in one round trip. */
  load: () => Promise<Loaded>;
  plan: (loaded: Loaded & { member: MemberRecord }) => MemberChangePlan;
}

/** Attempts before a request gives up on a member that keeps changing under it (429). */
export const MAX_ATTEMPTS = 40;

const IDEMPOTENCY_ITEM = 0;
const MEMBER_ITEM = 1;
const FIRST_EXTRA_ITEM = 2;

export async function commitMemberChange<Loaded extends { member: MemberRecord | undefined }>(
  ctx: RequestContext,
  change: MemberChange<Loaded>,
): Promise<UseCaseResponse> {
  const idempotency = ctx.idempotency;
  if (!idempotency) throw new Error('point-moving routes require an Idempotency-Key');
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt > 0) await jitter(attempt);
    if (!withinDeadline(ctx)) break;
    const loaded = await change.load();
    const plan = await planOrReplay(ctx, idempotency, change, loaded);
    if ('replayed' in plan) return plan;
    const { settled } = plan;
    const aggregates = [...(plan.aggregates ?? [])];
    if (settled.expiredPoints > 0)
      aggregates.push({ partnerId: null, delta: { expiredPoints: settled.expiredPoints } });

    const entry = {
      ...ledgerEntryAttributes(plan.entry, plan.entryExtra),
      // The response is rendered from the entry's attributes (ledgerResponseBody), not stored twice.
      ...(plan.responseShape === 'redemption' ? { responseShape: plan.responseShape } : {}),
      balances: balancesOf(plan.points),
    };
    const body = ledgerResponseBody(entry);
    const items: TransactItem[] = [
      putIdempotencyRecord(ctx.store, idempotency, { status: plan.status }, entry, false), // permanent
      updateMemberPoints(ctx.store, plan.member, plan.points, ctx.now),
      ...(plan.items ?? []),
      ...(settled.expiredPoints > 0 ? [expireEntry(ctx, plan.member, settled)] : []),
      ...mergeAggregates(aggregates).map(({ partnerId, delta }) =>
        addToAggregate(ctx.store, dayOf(ctx.now), partnerId, plan.member.id, delta),
      ),
    ];
    try {
      await transactWrite(ctx.store, items);
      return { status: plan.status, body, replayed: false };
    } catch (error) {
      if (!(error instanceof TransactionCancelledError)) throw error;
      const existing = error.failedAt(IDEMPOTENCY_ITEM);
      if (existing) {
        // A concurrent duplicate won: answer exactly as it did (its record came back as ALL_OLD).
        const replay = existing.item
          ? replayOf(existing.item, idempotency)
          : await findReplay(ctx.store, idempotency);
        if (!replay) throw new Error('idempotency record vanished after a failed condition');
        return { ...replay, replayed: true };
      }
      if (error.failedAt(MEMBER_ITEM) || error.isConflict) continue; // lost a race: re-read, recompute
      const problems = items
        .map((_, index) =>
          index >= FIRST_EXTRA_ITEM && error.failedAt(index)
            ? plan.onItemConditionFailed?.(index - FIRST_EXTRA_ITEM)
            : undefined,
        )
        .filter((problem) => problem !== undefined);
      const domainError = problems.find((problem) => problem !== 'retry');
      if (domainError) throw domainError;
      if (problems.length > 0) continue; // e.g. the reward changed under us: re-read, re-plan
      throw error;
    }
  }
  throw new TooManyConcurrentUpdatesError();
}

type PlannedChange = MemberChangePlan & { member: MemberRecord; settled: Settled };

/**
 * Plan the change; when the member is missing or the domain refuses, first check whether this is
 * a replay of a request that succeeded earlier (its answer wins over today's state).
 */
async function planOrReplay<Loaded extends { member: MemberRecord | undefined }>(
  ctx: RequestContext,
  idempotency: IdempotencyRequest,
  change: MemberChange<Loaded>,
  loaded: Loaded,
): Promise<PlannedChange | UseCaseResponse> {
  try {
    const { member } = loaded;
    if (member?.status !== 'active') throw new NotFoundError(`No active member ${change.memberId}.`);
    // Plans see the member as of now: matured pending points in, expired lots out.
    const settled = settleDue(member.points, ctx.now);
    return { ...change.plan({ ...loaded, member: { ...member, points: settled.points } }), member, settled };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const replay = await findReplay(ctx.store, idempotency);
    if (replay) return { ...replay, replayed: true };
    throw error;
  }
}

/**
 * The `expire` ledger entry for lots found expired while planning. Its key is derived from the
 * member version it was computed from, so it is written at most once for that state (the member's
 * version condition rules out any other).
 */
function expireEntry(ctx: RequestContext, member: MemberRecord, settled: Settled): TransactItem {
  const entry: TransactionView = {
    // Expiry happened before the change that found it: its entry sorts first in the history.
    id: newIdBefore('txn', Date.parse(ctx.now)),
    type: 'expire',
    memberId: member.id,
    partnerId: null,
    points: -settled.expiredPoints,
    status: 'posted',
    availableAt: null,
    expiresAt: null,
    breakdown: settled.expired.map((lot) => ({ rule: `lot:${lot.expiryKey}`, points: -lot.points })),
    orderRef: null,
    amountMinor: null,
    currency: null,
    category: null,
    channel: null,
    redemptionId: null,
    occurredAt: ctx.now,
    createdAt: ctx.now,
  };
  const request = {
    scope: SYSTEM_SCOPE,
    key: `expire:${member.id}:v${member.version}`,
    requestHash: 'system',
  };
  return putIdempotencyRecord(
    ctx.store,
    request,
    { status: 201 },
    ledgerEntryAttributes(entry, { lots: settled.expired }),
    false,
  );
}

/** One aggregate update per partner: a transaction may touch an item only once. */
function mergeAggregates(
  aggregates: { partnerId: string | null; delta: AggregateDelta }[],
): { partnerId: string | null; delta: AggregateDelta }[] {
  const merged = new Map<string | null, AggregateDelta>();
  for (const { partnerId, delta } of aggregates) {
    const into: Record<string, number> = { ...(merged.get(partnerId) ?? {}) };
    for (const [name, value] of Object.entries(delta)) into[name] = (into[name] ?? 0) + (value ?? 0);
    merged.set(partnerId, into);
  }
  return [...merged].map(([partnerId, delta]) => ({ partnerId, delta }));
}
