import { settleDue } from '../domain/due.ts';
import { ConflictError, GoneError, NotFoundError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { enrolledCounter, purchaseGroups } from '../domain/kpis.ts';
import { balancesOf, emptyMemberPoints, type MemberPoints } from '../domain/member-ledger.ts';
import { COALITION } from '../domain/namespaces.ts';
import { ownValue } from '../domain/records.ts';
import { currentTier, tierProgress } from '../domain/tiers.ts';
import { instantNotAhead } from '../domain/time.ts';
import type { CreateMemberBody, MemberView, UpdateMemberBody } from '../schemas/members.ts';
import type { SubscriptionView } from '../schemas/subscriptions.ts';
import type { Principal } from '../store/api-key-store.ts';
import { kpiItemsOf } from '../store/kpi-store.ts';
import {
  findMemberIdByExternalRef,
  getMember,
  type MemberRecord,
  putExternalRef,
  putNewMember,
  updateProfile,
} from '../store/member-store.ts';
import { getProgram, type ProgramRecord } from '../store/program-store.ts';
import { type RequestContext, respond, type UseCaseResponse } from './context.ts';
import { createResource } from './create-resource.ts';
import { currentSubscriptionView } from './subscriptions.ts';

/** externalRefs live in the caller's namespace: its partner id, or `_coalition` for admin keys. */
export function externalRefNamespace(principal: Principal): string {
  return principal.partnerId ?? COALITION;
}

/**
 * A position as a read shows it now: matured pending points and expired holds count as available.
 * Expired lots still show until a change or the expiry job records their `expire` entry, so the
 * balances always equal the sum of the ledger.
 */
export function readView(points: MemberPoints, now: string): MemberPoints {
  return settleDue(points, now, { expire: false }).points;
}

/** The member as this caller may see it: only its own namespace's externalRef; nothing once erased. */
export function memberViewFor(
  member: MemberRecord,
  principal: Principal,
  now: string,
  program: Pick<ProgramRecord, 'tiers' | 'tierWindowMonths'>,
  subscription: SubscriptionView | null = null,
): MemberView {
  const points = readView(member.points, now);
  const tier = currentTier(points, program.tiers);
  const progress = tierProgress(points, now, program);
  const erased = member.status === 'erased';
  return {
    id: member.id,
    status: member.status,
    externalRef: erased ? null : (ownValue(member.externalRefs, externalRefNamespace(principal)) ?? null),
    email: erased ? null : member.email,
    name: erased ? null : member.name,
    channel: erased ? null : member.channel,
    enrolledAt: member.enrolledAt,
    tier: {
      code: points.tier.code,
      name: tier.name,
      since: points.tier.since,
      qualifyingPoints: progress.qualifyingPoints,
      review: erased ? null : progress.review,
      next: erased ? null : progress.next,
    },
    balances: balancesOf(points),
    subscription,
    // The last churn scan's scores (coalition data, like the tier); none once erased.
    churn: erased ? null : (member.churn ?? null),
    createdAt: member.createdAt,
    erasedAt: member.erasedAt,
  };
}

export async function enrolMember(ctx: RequestContext, body: CreateMemberBody): Promise<UseCaseResponse> {
  const enrolledAt = instantNotAhead(body.enrolledAt, ctx.now, 'body.enrolledAt');
  const id = newId('mem', Date.parse(ctx.now));
  const program = await getProgram(ctx.store, id);
  const namespace = externalRefNamespace(ctx.principal);
  const entryTier = program.tiers[0]?.code ?? 'member';
  const member: MemberRecord = {
    id,
    status: 'active',
    version: 0,
    points: emptyMemberPoints(entryTier, enrolledAt),
    email: body.email ?? null,
    name: body.name ?? null,
    channel: body.channel ?? null,
    externalRefs: body.externalRef ? { [namespace]: body.externalRef } : {},
    enrolledAt,
    createdAt: ctx.now,
    updatedAt: ctx.now,
    erasedAt: null,
    indexed: {},
    // Its insert is the member.enrolled event (see event-publisher.ts): no outbox item needed.
    enrolledBy: ctx.principal.role === 'partner' ? ctx.principal.partnerId : null,
  };
  const items = [putNewMember(ctx.store, member)];
  if (body.externalRef) items.push(putExternalRef(ctx.store, namespace, body.externalRef, member.id));
  // The KPIs' new members, by the month of enrolment, the enrolling partner and the channel.
  const enrolled = purchaseGroups(member.enrolledBy ?? null, member.channel).map((group) => [
    enrolledCounter(group),
    1,
  ]);
  items.push(...kpiItemsOf(ctx.store, member.id, enrolledAt, Object.fromEntries(enrolled)));
  return createResource(
    ctx,
    items,
    { status: 201, body: memberViewFor(member, ctx.principal, ctx.now, program) },
    (index) =>
      index === 1
        ? new ConflictError(`A member with externalRef ${body.externalRef} already exists.`)
        : undefined,
  );
}

export async function readMember(ctx: RequestContext, memberId: string): Promise<UseCaseResponse> {
  const [member, program, subscription] = await Promise.all([
    getMember(ctx.store, memberId),
    getProgram(ctx.store, memberId),
    currentSubscriptionView(ctx, memberId),
  ]);
  if (!member) throw new NotFoundError(`No member ${memberId}.`);
  return respond(200, memberViewFor(member, ctx.principal, ctx.now, program, subscription ?? null));
}

/** GET /v1/members?externalRef=: a list of zero or one member, in the caller's namespace. */
export async function findMembers(ctx: RequestContext, externalRef: string): Promise<UseCaseResponse> {
  const memberId = await findMemberIdByExternalRef(
    ctx.store,
    externalRefNamespace(ctx.principal),
    externalRef,
  );
  const [member, program, subscription] = await Promise.all([
    memberId ? getMember(ctx.store, memberId) : undefined,
    getProgram(ctx.store, memberId ?? externalRef),
    memberId ? currentSubscriptionView(ctx, memberId) : undefined,
  ]);
  const items = member ? [memberViewFor(member, ctx.principal, ctx.now, program, subscription ?? null)] : [];
  return respond(200, { items, nextCursor: null });
}

/**
 * PATCH /v1/members/{id}: profile fields (null clears one). Points never move here, so the member's
 * version is left alone; an erased member cannot be changed (410).
 */
export async function updateMemberProfile(
  ctx: RequestContext,
  memberId: string,
  changes: UpdateMemberBody,
): Promise<UseCaseResponse> {
  if (!(await updateProfile(ctx.store, memberId, changes, ctx.now))) {
    const member = await getMember(ctx.store, memberId);
    if (!member) throw new NotFoundError(`No member ${memberId}.`);
    throw new GoneError(`Member ${memberId} was erased; its profile can no longer be changed.`);
  }
  return readMember(ctx, memberId);
}
