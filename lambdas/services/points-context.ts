import { ForbiddenError, ValidationError } from '../domain/errors.ts';
import type { Partner } from '../schemas/partners.ts';
import type { Principal } from '../store/api-key-store.ts';
import type { Store } from '../store/client.ts';
import { keys } from '../store/keys.ts';
import { batchGet, type MemberRecord, memberFromItem } from '../store/member-store.ts';
import { partnerFromItem } from '../store/partner-store.ts';
import { type ProgramRecord, programFromItem } from '../store/program-store.ts';
import { type RewardRecord, rewardFromItem } from '../store/reward-store.ts';

/** What a point-moving use case reads before it plans: one BatchGetItem, strongly consistent. */
export interface PointsContext {
  member: MemberRecord | undefined;
  program: ProgramRecord;
  partner: Partner | undefined;
  reward: RewardRecord | undefined;
}

export async function loadPointsContext(
  store: Store,
  memberId: string,
  partnerId: string | null,
  rewardId?: string,
): Promise<PointsContext> {
  const memberKey = keys.member(memberId);
  const programKey = keys.program();
  const partnerKey = partnerId ? keys.partner(partnerId) : undefined;
  const rewardKey = rewardId ? keys.reward(rewardId) : undefined;
  const optional = [partnerKey, rewardKey].filter((key) => key !== undefined);
  const found = await batchGet(store, [memberKey, programKey, ...optional]);
  const get = (key: { pk: string; sk: string } | undefined) =>
    key ? found.get(`${key.pk}|${key.sk}`) : undefined;
  const member = get(memberKey);
  const partner = get(partnerKey);
  const reward = get(rewardKey);
  return {
    member: member ? memberFromItem(member) : undefined,
    program: programFromItem(get(programKey)),
    partner: partner ? partnerFromItem(partner) : undefined,
    reward: reward ? rewardFromItem(reward) : undefined,
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
