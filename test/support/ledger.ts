import { randomUUID } from 'node:crypto';
import type { EarnBody, RedemptionBody } from '../../lambdas/schemas/points.ts';
import { earnPoints } from '../../lambdas/services/earn.ts';
import { enrolMember, readMember } from '../../lambdas/services/members.ts';
import { createPartner } from '../../lambdas/services/partners.ts';
import { redeemPoints } from '../../lambdas/services/redeem.ts';
import type { Principal } from '../../lambdas/store/api-key-store.ts';
import type { Store } from '../../lambdas/store/client.ts';
import { admin, contextFor, parse } from './fixtures.ts';

export interface CallOptions {
  key?: string;
  principal?: Principal;
  /** The request's clock: lets a test earn in one month and redeem in another. */
  now?: string;
}

/** Use-case calls as the HTTP layer makes them (fingerprinted body, Idempotency-Key), for one store. */
export function ledgerCalls(store: Store, defaultPrincipal: Principal) {
  const call = <B>(path: string, body: B, options: CallOptions) =>
    contextFor(store, options.principal ?? defaultPrincipal, {
      idempotencyKey: options.key ?? randomUUID(),
      path,
      body,
      ...(options.now ? { now: options.now } : {}),
    });
  return {
    newMember: async (now?: string): Promise<string> =>
      parse(await enrolMember(contextFor(store, admin, now ? { now } : {}), {})).id,
    earn: (memberId: string, body: Partial<EarnBody>, options: CallOptions = {}) => {
      const full: EarnBody = { amountMinor: 10_000, currency: 'USD', orderRef: `o-${randomUUID()}`, ...body };
      return earnPoints(call(`/v1/members/${memberId}/earn`, full, options), memberId, full);
    },
    redeem: (
      memberId: string,
      points: number,
      options: CallOptions & { body?: Partial<RedemptionBody> } = {},
    ) => {
      const body: RedemptionBody = { points, ...options.body };
      return redeemPoints(call(`/v1/members/${memberId}/redemptions`, body, options), memberId, body);
    },
    member: async (memberId: string, now?: string) =>
      parse(await readMember(contextFor(store, admin, now ? { now } : {}), memberId)),
  };
}

/** A partner earning 1 point per 100 minor units. */
export function createTestPartner(
  store: Store,
  id: string,
  extra: { categoryMultipliers?: Record<string, number> } = {},
) {
  return createPartner(contextFor(store, admin), {
    id,
    name: `Partner ${id}`,
    earnRule: { pointsPerUnit: 1, unitMinor: 100 },
    fundingRateMinor: 1,
    reimbursementRateMinor: 1,
    status: 'active',
    ...extra,
  });
}
