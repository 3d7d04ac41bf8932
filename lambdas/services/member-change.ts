/**
 * The write path of every point-moving use case: read the member, bring its position up to now
 * (matured points, released holds, expired lots), plan the change with pure domain code, and
 * commit in one transaction conditioned on the member's version: the ledger entry (= idempotency
 * record), the member's position and due index entries, what settling it released or expired, and
 * the change's own items. A lost race re-reads and re-plans; an existing idempotency record turns
 * the request into a replay.
 */
import { dueDates, expireDue, type Settled, settleDue } from '../domain/due.ts';
import { transactionOf } from '../domain/entries.ts';
import { DomainError, GoneError, NotFoundError, TooManyConcurrentUpdatesError } from '../domain/errors.ts';
import { newId, newIdBefore } from '../domain/ids.ts';
import { balancesOf, type LotPoints, type MemberPoints, mergeLots } from '../domain/member-ledger.ts';
import { SYSTEM_SCOPE } from '../domain/namespaces.ts';
import { balanceFigures, nextCuts, POSITION, positionDelta } from '../domain/position.ts';
import { dayOf } from '../domain/time.ts';
import { logger } from '../http/logger.ts';
import type { TransactionView } from '../schemas/points.ts';
import { findReplay, type IdempotencyRequest, putIdempotencyRecord, replayOf } from '../store/idempotency.ts';
import { counterShardOf } from '../store/keys.ts';
import {
  type AggregateDelta,
  addToAggregate,
  ledgerEntryAttributes,
  ledgerResponseBody,
  type ResponsePart,
} from '../store/ledger-store.ts';
import { dueIndexAttributes, indexMoved, type MemberRecord, updateMember } from '../store/member-store.ts';
import { putOutboxEvent } from '../store/outbox.ts';
import type { ProgramRecord } from '../store/program-store.ts';
import { releaseHeldRedemption } from '../store/redemption-store.ts';
import { ensureReportEpoch } from '../store/report-store.ts';
import { restockUnit } from '../store/reward-store.ts';
import { type TransactItem, TransactionCancelledError, transactWrite } from '../store/transactions.ts';
import { type RequestContext, type UseCaseResponse, withinDeadline } from './context.ts';
import { jitter } from './retry.ts';

/** An event that is not a ledger entry, to be written as an outbox item with the change. */
export interface PlannedEvent {
  /** Its natural identity (`<type>#<subject>#…`): the outbox put makes it happen once. */
  dedupeKey: string;
  type: string;
  data: Record<string, unknown>;
  partnerId?: string | null;
  /** The member it is about (default: the member of the change; null: none, a campaign's budget). */
  memberId?: string | null;
}

export interface MemberChangePlan {
  /** The change's ledger entry, which is also its idempotency record. */
  entry?: TransactionView;
  /** Extra attributes stored on the ledger entry (the lots a redemption consumed, its rates…). */
  entryExtra?: Record<string, unknown>;
  /** For a change made by the system (no Idempotency-Key): the entry's deterministic key. */
  systemKey?: string;
  /**
   * Further entries of this member written under deterministic keys, at most once each whatever
   * the request (a subscription's monthly bonus), besides the change's own entry or response.
   */
  systemEntries?: { entry: TransactionView; systemKey: string; entryExtra?: Record<string, unknown> }[];
  /** What the response shows besides the balances, in order (default: the transaction). */
  responseParts?: ResponsePart[];
  /**
   * The response of a change that writes no ledger entry (a hold, a release), kept for replays;
   * the member's balances after the change are added to it.
   */
  response?: Record<string, unknown>;
  /** The member's new position. */
  points: MemberPoints;
  /** Further member attributes to set (erasure: status and profile). */
  memberSet?: Record<string, unknown>;
  /** The other member of a transfer: its new position and its own entry (a system key). */
  counterpart?: {
    points: MemberPoints;
    entry: TransactionView;
    systemKey: string;
    entryExtra?: Record<string, unknown>;
  };
  status: number;
  /** Further items of the same transaction (order guard, inventory, redemption). */
  items?: TransactItem[];
  /** Rewards whose finite stock gets a unit back. */
  restock?: string[];
  /** Events that are not ledger entries (notices, warnings, erasure). */
  events?: PlannedEvent[];
  /** Report counters to add to, per partner (null: the coalition) and member shard. */
  aggregates?: { partnerId: string | null; memberId?: string; delta: AggregateDelta }[];
  /** Further items written only with this change, not retried on their own (KPI counters). */
  kpiItems?: TransactItem[];
  /** What a failed condition on `items[index]` means: a domain error, or a race to re-plan. */
  onItemConditionFailed?: (index: number) => DomainError | 'retry' | undefined;
}

export interface LoadedForChange {
  member: MemberRecord | undefined;
  program: ProgramRecord;
  counterpart?: MemberRecord | undefined;
}

export interface MemberChange<Loaded extends LoadedForChange> {
  memberId: string;
  /** Reads what the plan needs (the member, strongly consistent, plus config) in one round trip. */
  load: () => Promise<Loaded>;
  plan: (loaded: Loaded & { member: MemberRecord; settled: Settled }) => MemberChangePlan;
  /** The instant the position is brought up to (default: the request's now; jobs: their asOf). */
  settleAt?: string;
  /** Items that go with the change only if it writes anything (a job's counter). */
  withWrite?: TransactItem[];
}

/** What a committed change answered, and whether it wrote anything (a job skips no-op members). */
export type MemberChangeResult = UseCaseResponse & { written: boolean };

/** Attempts before a request gives up on a member that keeps changing under it (429). */
export const MAX_ATTEMPTS = 40;

/** What a failed condition on an item of the transaction means. */
type OnFailed =
  | 'replay'
  | 'retry'
  /** Plan again without this item: its write is moot (the reward became unlimited, the event exists). */
  | { skip: string }
  | (() => DomainError | 'retry' | undefined);

export async function commitMemberChange<Loaded extends LoadedForChange>(
  ctx: RequestContext,
  change: MemberChange<Loaded>,
): Promise<UseCaseResponse> {
  const { written: _written, ...response } = await writeMemberChange(ctx, change);
  return response;
}

/** {@link commitMemberChange}, also saying whether anything was written (jobs skip no-op members). */
export async function writeMemberChange<Loaded extends LoadedForChange>(
  ctx: RequestContext,
  change: MemberChange<Loaded>,
): Promise<MemberChangeResult> {
  const idempotency = ctx.idempotency;
  // Writes found moot on an earlier attempt: a restock of a reward that became unlimited (nothing
  // to give back to), an event an earlier change already recorded (it happens once).
  const skip = new Set<string>();
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt > 0) await jitter(attempt);
    if (!withinDeadline(ctx)) break;
    const loaded = await change.load();
    const planned = await planOrReplay(ctx, idempotency, change, loaded);
    if ('replayed' in planned) return { ...planned, written: false };
    const { parts, body } = assemble(ctx, change, loaded, planned, skip);
    const status = planned.plan.status;
    if (parts.length === 0) return { status, body, replayed: false, written: false };
    try {
      await transactWrite(
        ctx.store,
        parts.map((part) => part.item),
      );
      // Reports start at the first posting day counters hold (a write per process and earlier day;
      // after the commit, so a refused request writes nothing; the reconciliation backs it up).
      // Best effort: the change is committed, so a throttled epoch write must not answer 429.
      await ensureReportEpoch(ctx.store, dayOf(ctx.now)).catch((error: unknown) => {
        logger.warn('could not record the report epoch; the daily reconciliation does', { error });
      });
      return { status, body, replayed: false, written: true };
    } catch (error) {
      if (!(error instanceof TransactionCancelledError)) throw error;
      const outcome = await onCancelled(ctx, error, parts, skip);
      if (outcome === 'retry') continue;
      return { ...outcome, written: false };
    }
  }
  throw new TooManyConcurrentUpdatesError();
}

interface Planned {
  plan: MemberChangePlan;
  member: MemberRecord;
  settled: Settled;
  counterpart?: { member: MemberRecord; settled: Settled } | undefined;
}

/**
 * Plan the change on the settled position; when the member is missing or the domain refuses, first
 * check whether this is a replay of a request that succeeded earlier (its answer wins over today's
 * state).
 */
async function planOrReplay<Loaded extends LoadedForChange>(
  ctx: RequestContext,
  idempotency: IdempotencyRequest | undefined,
  change: MemberChange<Loaded>,
  loaded: Loaded,
): Promise<Planned | UseCaseResponse> {
  try {
    const member = activeMember(loaded.member, change.memberId);
    const at = change.settleAt ?? ctx.now;
    const settled = settleDue(member.points, at);
    const counterpart = loaded.counterpart
      ? {
          member: activeMember(loaded.counterpart, loaded.counterpart.id),
          settled: settleDue(loaded.counterpart.points, at),
        }
      : undefined;
    const plan = change.plan({
      ...loaded,
      member: { ...member, points: settled.points },
      ...(counterpart ? { counterpart: { ...counterpart.member, points: counterpart.settled.points } } : {}),
      settled,
    });
    return { plan, member, settled, counterpart };
  } catch (error) {
    if (!(error instanceof DomainError) || !idempotency) throw error;
    const replay = await findReplay(ctx.store, idempotency);
    if (replay) return { ...replay, replayed: true };
    throw error;
  }
}

function activeMember(member: MemberRecord | undefined, memberId: string): MemberRecord {
  if (!member) throw new NotFoundError(`No member ${memberId}.`);
  if (member.status === 'erased')
    throw new GoneError(`Member ${memberId} was erased; nothing more can be recorded for it.`);
  return member;
}

interface Part {
  item: TransactItem;
  onFailed?: OnFailed;
}

/** A member whose position the change writes: as read, as settled, and its final position. */
interface Side {
  before: MemberRecord;
  settled: Settled;
  points: MemberPoints;
  expired: LotPoints[];
  set?: Record<string, unknown>;
}

/**
 * Every item of the transaction, each with what its failed condition would mean, and the response
 * body. Empty when the change would write nothing at all (a job's member with nothing due).
 */
function assemble<Loaded extends LoadedForChange>(
  ctx: RequestContext,
  change: MemberChange<Loaded>,
  loaded: Loaded,
  { plan, member, settled, counterpart }: Planned,
  skip: Set<string>,
): { parts: Part[]; body: string } {
  const at = change.settleAt ?? ctx.now;
  const finalSide = (
    before: MemberRecord,
    from: Settled,
    points: MemberPoints,
    set?: Record<string, unknown>,
  ): Side => {
    // Lots the plan gave back whose expiry has passed (a released hold) expire with the rest.
    const late = expireDue(points, at);
    return {
      before,
      settled: from,
      points: late.points,
      expired: mergeLots([...from.expired, ...late.expired]),
      ...(set ? { set } : {}),
    };
  };
  const sides = [finalSide(member, settled, plan.points, plan.memberSet)];
  if (counterpart && plan.counterpart)
    sides.push(finalSide(counterpart.member, counterpart.settled, plan.counterpart.points));
  const [primary] = sides as [Side, ...Side[]];

  const parts: Part[] = [];
  const entryAttributes = plan.entry
    ? {
        ...ledgerEntryAttributes(plan.entry, plan.entryExtra),
        ...(plan.responseParts ? { responseParts: plan.responseParts } : {}),
        balances: balancesOf(primary.points),
      }
    : undefined;
  const body = entryAttributes
    ? ledgerResponseBody(entryAttributes)
    : JSON.stringify({ ...plan.response, balances: balancesOf(primary.points) });

  // The change's own record: its ledger entry, or the response of a change without one.
  if (ctx.idempotency && entryAttributes) {
    parts.push({
      item: putIdempotencyRecord(ctx.store, ctx.idempotency, { status: plan.status }, entryAttributes, false),
      onFailed: 'replay',
    });
  } else if (ctx.idempotency && plan.response !== undefined) {
    parts.push({
      item: putIdempotencyRecord(
        ctx.store,
        ctx.idempotency,
        { status: plan.status, body },
        { entity: 'idempotency', createdAt: ctx.now },
        true,
      ),
      onFailed: 'replay',
    });
  } else if (entryAttributes) {
    if (!plan.systemKey)
      throw new Error('a change without an Idempotency-Key needs a system key for its entry');
    parts.push({ item: systemRecord(ctx, plan.systemKey, plan.status, entryAttributes), onFailed: 'retry' });
  }
  for (const { entry, systemKey, entryExtra } of plan.systemEntries ?? []) {
    parts.push({
      item: systemRecord(ctx, systemKey, 201, {
        ...ledgerEntryAttributes(entry, entryExtra),
        balances: balancesOf(primary.points),
      }),
      onFailed: 'retry',
    });
  }
  if (plan.counterpart && sides[1]) {
    parts.push({
      item: systemRecord(ctx, plan.counterpart.systemKey, 201, {
        ...ledgerEntryAttributes(plan.counterpart.entry, plan.counterpart.entryExtra),
        balances: balancesOf(sides[1].points),
      }),
      onFailed: 'retry',
    });
  }

  const aggregates = [...(plan.aggregates ?? [])];
  const restock = [...(plan.restock ?? [])];
  const events = [...(plan.events ?? [])];
  let written = parts.length > 0 || events.length > 0 || (plan.items ?? []).length > 0;
  for (const side of sides) {
    const erased = side.set?.status === 'erased';
    const indexed = erased
      ? {}
      : dueIndexAttributes(side.before.id, dueDates(side.points, at, loaded.program));
    const changed =
      side.set !== undefined ||
      indexMoved(side.before, indexed) ||
      JSON.stringify(side.points) !== JSON.stringify(side.before.points);
    if (!changed && !written) continue;
    written = true;
    const postingDay = dayOf(ctx.now);
    const balanceCuts = nextCuts(
      side.before.balanceCuts ?? [],
      postingDay,
      balanceFigures(side.before.points),
      balanceFigures(side.points),
    );
    parts.push({
      item: updateMember(
        ctx.store,
        side.before,
        { points: side.points, indexed, set: { ...side.set, balanceCuts } },
        ctx.now,
      ),
      onFailed: 'retry',
    });
    aggregates.push(...positionAggregates(side, aggregates, member.id));
    const expiredPoints = side.expired.reduce((total, lot) => total + lot.points, 0);
    if (expiredPoints > 0) {
      parts.push({ item: expireEntry(ctx, side.before, side.expired, at), onFailed: 'retry' });
      aggregates.push({ partnerId: null, memberId: side.before.id, delta: { expiredPoints } });
    }
    for (const { redemptionId, hold } of side.settled.releasedHolds) {
      parts.push({ item: releaseHeldRedemption(ctx.store, redemptionId, ctx.now), onFailed: 'retry' });
      aggregates.push({
        partnerId: hold.partnerId,
        memberId: side.before.id,
        delta: { heldPoints: -hold.points },
      });
      if (hold.rewardUnit) restock.push(hold.rewardUnit);
    }
    const tierBefore = side.before.points.tier.code;
    if (side.points.tier.code !== tierBefore && !erased) {
      events.push({
        dedupeKey: `tier.changed#${side.before.id}#v${side.before.version}`,
        type: 'tier.changed',
        data: {
          previous: tierBefore,
          current: side.points.tier.code,
          direction: tierDirection(loaded.program, tierBefore, side.points.tier.code),
        },
        memberId: side.before.id,
      });
    }
  }
  if (!written) return { parts: [], body };

  for (const [index, item] of (plan.items ?? []).entries()) {
    parts.push({ item, onFailed: () => plan.onItemConditionFailed?.(index) });
  }
  for (const rewardId of new Set(restock)) {
    const key = `restock#${rewardId}`;
    if (!skip.has(key)) parts.push({ item: restockUnit(ctx.store, rewardId), onFailed: { skip: key } });
  }
  for (const event of events) {
    if (!skip.has(`event#${event.dedupeKey}`))
      parts.push(eventPart(ctx, event.memberId === undefined ? member.id : event.memberId, event));
  }
  for (const item of change.withWrite ?? []) parts.push({ item });
  for (const item of plan.kpiItems ?? []) parts.push({ item });
  for (const { partnerId, memberId, delta } of mergeAggregates(aggregates, member.id)) {
    // A change may net to nothing on a counter (a hold released and taken again): nothing to add.
    if (Object.values(delta).every((value) => !value)) continue;
    parts.push({ item: addToAggregate(ctx.store, dayOf(ctx.now), partnerId, memberId, delta) });
  }
  return { parts, body };
}

/**
 * What the change does to the member's position, for the liability's counters: on the counters
 * item the change already writes for this member where there is one (no extra item), pending points
 * on their earning partner's.
 */
function positionAggregates(
  side: Side,
  aggregates: readonly { partnerId: string | null; memberId?: string }[],
  primaryId: string,
): { partnerId: string | null; memberId: string; delta: AggregateDelta }[] {
  const memberId = side.before.id;
  const delta = positionDelta(side.before.points, side.points);
  const scope = aggregates.find((aggregate) => (aggregate.memberId ?? primaryId) === memberId)?.partnerId;
  const written: { partnerId: string | null; memberId: string; delta: AggregateDelta }[] = [];
  if (Object.keys(delta.coalition).length > 0)
    written.push({ partnerId: scope ?? null, memberId, delta: delta.coalition as AggregateDelta });
  for (const [partnerId, pending] of delta.pendingByPartner) {
    written.push({ partnerId, memberId, delta: { [POSITION.pending]: pending } });
  }
  return written;
}

/** Whether the program's tier order puts `to` above or below `from`. */
function tierDirection(program: ProgramRecord, from: string, to: string): 'up' | 'down' {
  const rank = (code: string) => program.tiers.findIndex((tier) => tier.code === code);
  return rank(to) > rank(from) ? 'up' : 'down';
}

function eventPart(ctx: RequestContext, memberId: string | null, event: PlannedEvent): Part {
  return {
    item: putOutboxEvent(ctx.store, event.dedupeKey, {
      id: newId('evt', Date.parse(ctx.now)),
      type: event.type,
      occurredAt: ctx.now,
      ...(memberId === null ? {} : { memberId }),
      partnerId: event.partnerId ?? null,
      data: event.data,
    }),
    // Recorded before (the event happens once): plan again without it.
    onFailed: { skip: `event#${event.dedupeKey}` },
  };
}

/** What to do when DynamoDB cancelled the transaction: replay, refuse, or plan again. */
async function onCancelled(
  ctx: RequestContext,
  error: TransactionCancelledError,
  parts: Part[],
  skip: Set<string>,
): Promise<UseCaseResponse | 'retry'> {
  const idempotency = ctx.idempotency;
  let retry = error.isConflict;
  for (let index = 0; index < parts.length; index++) {
    const failed = error.failedAt(index);
    const onFailed = parts[index]?.onFailed;
    if (!failed || onFailed === undefined) continue;
    if (onFailed === 'replay' && idempotency) {
      // A concurrent duplicate won: answer exactly as it did (its record came back as ALL_OLD).
      const replay = failed.item
        ? replayOf(failed.item, idempotency)
        : await findReplay(ctx.store, idempotency);
      if (!replay) throw new Error('idempotency record vanished after a failed condition');
      return { ...replay, replayed: true };
    }
    if (onFailed === 'retry' || onFailed === 'replay') retry = true;
    else if (typeof onFailed === 'object') {
      skip.add(onFailed.skip);
      retry = true;
    } else {
      const outcome = onFailed();
      if (outcome instanceof DomainError) throw outcome;
      if (outcome === 'retry') retry = true;
    }
  }
  if (retry) return 'retry';
  throw error;
}

/** A ledger entry the system writes under a deterministic key: at most once for that key. */
function systemRecord(
  ctx: RequestContext,
  key: string,
  status: number,
  attributes: Record<string, unknown> & { createdAt: string },
): TransactItem {
  return putIdempotencyRecord(
    ctx.store,
    { scope: SYSTEM_SCOPE, key, requestHash: 'system' },
    { status },
    attributes,
    false,
  );
}

/**
 * The `expire` entry for lots found expired. Its key is derived from the member version it was
 * computed from, so it is written at most once for that state (the version condition rules out
 * any other).
 */
function expireEntry(
  ctx: RequestContext,
  member: MemberRecord,
  expired: LotPoints[],
  at: string,
): TransactItem {
  const expiredPoints = expired.reduce((total, lot) => total + lot.points, 0);
  const entry = transactionOf({
    // Expiry happened before the change that found it: its entry sorts first in the history.
    id: newIdBefore('txn', Date.parse(ctx.now)),
    type: 'expire',
    memberId: member.id,
    points: -expiredPoints,
    breakdown: expired.map((lot) => ({ rule: `lot:${lot.expiryKey}`, points: -lot.points })),
    occurredAt: at,
    createdAt: ctx.now,
  });
  return systemRecord(
    ctx,
    `expire:${member.id}:v${member.version}`,
    201,
    ledgerEntryAttributes(entry, { lots: expired }),
  );
}

/** One aggregate update per (partner, member shard): a transaction may touch an item only once. */
function mergeAggregates(
  aggregates: { partnerId: string | null; memberId?: string; delta: AggregateDelta }[],
  defaultMember: string,
): { partnerId: string | null; memberId: string; delta: AggregateDelta }[] {
  const merged = new Map<
    string,
    { partnerId: string | null; memberId: string; delta: Record<string, number> }
  >();
  for (const { partnerId, memberId = defaultMember, delta } of aggregates) {
    const key = JSON.stringify([partnerId, counterShardOf(memberId)]);
    const into = merged.get(key) ?? { partnerId, memberId, delta: {} };
    for (const [name, value] of Object.entries(delta))
      into.delta[name] = (into.delta[name] ?? 0) + (value ?? 0);
    merged.set(key, into);
  }
  return [...merged.values()];
}
