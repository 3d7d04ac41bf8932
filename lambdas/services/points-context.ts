import { ForbiddenError, ValidationError } from '../domain/errors.ts';
import type { Partner } from '../schemas/partners.ts';
import type { Principal } from '../store/api-key-store.ts';
import { keys, programCopyOf } from '../store/keys.ts';
import { batchGet, type MemberRecord, memberFromItem } from '../store/member-store.ts';
import { partnerFromItem } from '../store/partner-store.ts';
import { type ProgramRecord, programFromItem } from '../store/program-store.ts';
import { type RedemptionRecord, redemptionFromItem } from '../store/redemption-store.ts';
import { type RewardRecord, rewardFromItem } from '../store/reward-store.ts';
import { type SubscriptionRecord, subscriptionFromItem } from '../store/subscription-store.ts';
import type { RequestContext } from './context.ts';

/**
 * What a point-moving use case reads before it plans: one BatchGetItem, strongly consistent (with
 * the caller's API key when the request left it to this read).
 */
export interface PointsContext {
  member: MemberRecord | undefined;
  program: ProgramRecord;
  partner: Partner | undefined;
  reward: RewardRecord | undefined;
  redemption: RedemptionRecord | undefined;
  /** The other member of a transfer. */
  counterpart: MemberRecord | undefined;
  /** An earn's order guard, which carries its reversals so far. */
  order: Record<string, unknown> | undefined;
  /** The member's latest subscription (its benefits apply at earn time). */
  subscription: SubscriptionRecord | undefined;
  /** Further items asked for by key (`pk|sk`): a campaign budget's shard. */
  extra: Map<string, Record<string, unknown>>;
}

export interface PointsContextKeys {
  memberId: string;
  partnerId: string | null;
  rewardId?: string | undefined;
  redemptionId?: string | undefined;
  counterpartId?: string | undefined;
  order?: { partnerId: string; orderRef: string } | undefined;
  subscription?: boolean;
  /** Further items to read in the same BatchGet. */
  extra?: { pk: string; sk: string }[];
}

/**
 * Read what a change needs in one BatchGet. `program`, when the caller already holds it (a job
 * working through many members), is not read again.
 */
export async function loadPointsContext(
  ctx: Pick<RequestContext, 'store' | 'keyCheck'>,
  wanted: PointsContextKeys,
  program?: ProgramRecord,
): Promise<PointsContext> {
  const requested = {
    member: keys.member(wanted.memberId),
    program: program ? undefined : keys.programCopy(programCopyOf(wanted.memberId)),
    partner: wanted.partnerId ? keys.partner(wanted.partnerId) : undefined,
    reward: wanted.rewardId ? keys.reward(wanted.rewardId) : undefined,
    redemption: wanted.redemptionId ? keys.redemption(wanted.redemptionId) : undefined,
    counterpart: wanted.counterpartId ? keys.member(wanted.counterpartId) : undefined,
    order: wanted.order ? keys.order(wanted.order.partnerId, wanted.order.orderRef) : undefined,
    subscription: wanted.subscription ? keys.memberSubscription(wanted.memberId) : undefined,
  };
  const extra = wanted.extra ?? [];
  // The caller's API key, when the request left it to this read (authentication.ts).
  const keyCheck = ctx.keyCheck?.read === false ? ctx.keyCheck : undefined;
  const found = await batchGet(ctx.store, [
    ...Object.values(requested).filter((key) => key !== undefined),
    ...extra,
    ...(keyCheck ? [keyCheck.key] : []),
  ]);
  keyCheck?.verify(found.get(`${keyCheck.key.pk}|${keyCheck.key.sk}`));
  const get = (key: { pk: string; sk: string } | undefined) =>
    key ? found.get(`${key.pk}|${key.sk}`) : undefined;
  const map = <T>(key: { pk: string; sk: string } | undefined, of: (item: Record<string, unknown>) => T) => {
    const item = get(key);
    return item ? of(item) : undefined;
  };
  return {
    member: map(requested.member, memberFromItem),
    program: program ?? programFromItem(get(requested.program)),
    partner: map(requested.partner, partnerFromItem),
    reward: map(requested.reward, rewardFromItem),
    redemption: map(requested.redemption, redemptionFromItem),
    counterpart: map(requested.counterpart, memberFromItem),
    order: get(requested.order),
    subscription: map(requested.subscription, subscriptionFromItem),
    extra: new Map(
      extra.flatMap((key) => {
        const item = get(key);
        return item ? [[`${key.pk}|${key.sk}`, item] as const] : [];
      }),
    ),
  };
}

/**
 * The partner a point movement is made at: implied by a partner key (which may not name another),
 * chosen by an admin. `required` makes it mandatory for admins (earn is always funded by a partner).
 */
export function partnerOfRequest(principal: Principal, bodyPartnerId: string | undefined, required: boolean) {
  if (principal.role === 'partner') {
    if (bodyPartnerId !== undefined && bodyPartnerId !== principal.partnerId) {
      throw new ForbiddenError(
        'A partner key acts only for its own partner; omit partnerId or send your own.',
      );
    }
    return principal.partnerId;
  }
  if (required && bodyPartnerId === undefined) {
    throw new ValidationError([
      { path: 'body.partnerId', message: 'required when an admin key makes this call' },
    ]);
  }
  return bodyPartnerId ?? null;
}

/** Checks shared by point-moving calls once the partner is loaded. */
export function assertPartnerActive(partner: Partner | undefined, partnerId: string | null): void {
  if (partnerId === null) return;
  if (!partner) throw new ValidationError([{ path: 'body.partnerId', message: `no partner ${partnerId}` }]);
  if (partner.status !== 'active') {
    throw new ForbiddenError(
      `Partner ${partnerId} is suspended: it cannot move points until an admin reactivates it.`,
    );
  }
}
