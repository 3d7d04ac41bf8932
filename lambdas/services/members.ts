import { ConflictError, NotFoundError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { balancesOf, emptyMemberPoints, matureDue, qualifyingPoints } from '../domain/member-ledger.ts';
import { COALITION } from '../domain/namespaces.ts';
import { ownValue } from '../domain/records.ts';
import { instantNotAhead } from '../domain/time.ts';
import type { CreateMemberBody, MemberView } from '../schemas/members.ts';
import type { Principal } from '../store/api-key-store.ts';
import {
  findMemberIdByExternalRef,
  getMember,
  type MemberRecord,
  putExternalRef,
  putNewMember,
} from '../store/member-store.ts';
import { getProgram } from '../store/program-store.ts';
import { type RequestContext, respond, type UseCaseResponse } from './context.ts';
import { createResource } from './create-resource.ts';

/** externalRefs live in the caller's namespace: its partner id, or `_coalition` for admin keys. */
export function externalRefNamespace(principal: Principal): string {
  return principal.partnerId ?? COALITION;
}

/** The member as this caller may see it: only its own namespace's externalRef. */
export function memberViewFor(
  member: MemberRecord,
  principal: Principal,
  now: string,
  tierWindowMonths: number,
): MemberView {
  return {
    id: member.id,
    status: member.status,
    externalRef: ownValue(member.externalRefs, externalRefNamespace(principal)) ?? null,
    email: member.email,
    name: member.name,
    channel: member.channel,
    enrolledAt: member.enrolledAt,
    tier: {
      code: member.points.tier.code,
      since: member.points.tier.since,
      qualifyingPoints: qualifyingPoints(member.points, now, tierWindowMonths),
    },
    balances: balancesOf(matureDue(member.points, now)),
    subscription: null,
    churn: null,
    createdAt: member.createdAt,
  };
}

export async function enrolMember(ctx: RequestContext, body: CreateMemberBody): Promise<UseCaseResponse> {
  const enrolledAt = instantNotAhead(body.enrolledAt, ctx.now, 'body.enrolledAt');
  const program = await getProgram(ctx.store);
  const namespace = externalRefNamespace(ctx.principal);
  const entryTier = program.tiers[0]?.code ?? 'member';
  const member: MemberRecord = {
    id: newId('mem', Date.parse(ctx.now)),
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
  };
  const items = [putNewMember(ctx.store, member)];
  if (body.externalRef) items.push(putExternalRef(ctx.store, namespace, body.externalRef, member.id));
  return createResource(
    ctx,
    items,
    { status: 201, body: memberViewFor(member, ctx.principal, ctx.now, program.tierWindowMonths) },
    (index) =>
      index === 1
        ? new ConflictError(`A member with externalRef ${body.externalRef} already exists.`)
        : undefined,
  );
}

export async function readMember(ctx: RequestContext, memberId: string): Promise<UseCaseResponse> {
  const [member, program] = await Promise.all([getMember(ctx.store, memberId), getProgram(ctx.store)]);
  if (!member) throw new NotFoundError(`No member ${memberId}.`);
  return respond(200, memberViewFor(member, ctx.principal, ctx.now, program.tierWindowMonths));
}

/** GET /v1/members?externalRef=: a list of zero or one member, in the caller's namespace. */
export async function findMembers(ctx: RequestContext, externalRef: string): Promise<UseCaseResponse> {
  const memberId = await findMemberIdByExternalRef(
    ctx.store,
    externalRefNamespace(ctx.principal),
    externalRef,
  );
  const [member, program] = await Promise.all([
    memberId ? getMember(ctx.store, memberId) : undefined,
    getProgram(ctx.store),
  ]);
  const items = member ? [memberViewFor(member, ctx.principal, ctx.now, program.tierWindowMonths)] : [];
  return respond(200, { items, nextCursor: null });
}
