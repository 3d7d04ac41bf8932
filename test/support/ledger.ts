import { randomUUID } from 'node:crypto';
import type { JobName } from '../../lambdas/schemas/jobs.ts';
import type {
  ActivityBody,
  AdjustmentBody,
  EarnBody,
  OrderReverseBody,
  RedemptionBody,
  RefundBody,
  ReverseBody,
  TransferBody,
} from '../../lambdas/schemas/points.ts';
import { recordActivity } from '../../lambdas/services/activities.ts';
import { adjustPoints } from '../../lambdas/services/adjustments.ts';
import { earnPoints } from '../../lambdas/services/earn.ts';
import { eraseMember } from '../../lambdas/services/erasure.ts';
import { listTransactions } from '../../lambdas/services/history.ts';
import { runJob } from '../../lambdas/services/jobs.ts';
import { enrolMember, readMember } from '../../lambdas/services/members.ts';
import { createPartner } from '../../lambdas/services/partners.ts';
import { redeemPoints } from '../../lambdas/services/redeem.ts';
import {
  captureRedemption,
  readRedemption,
  refundRedemption,
  releaseRedemption,
} from '../../lambdas/services/redemptions.ts';
import { reverseOrder, reverseTransaction } from '../../lambdas/services/reverse.ts';
import { transferPoints } from '../../lambdas/services/transfers.ts';
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
    hold: (
      memberId: string,
      points: number,
      options: CallOptions & { body?: Partial<RedemptionBody> } = {},
    ) => {
      const body: RedemptionBody = { points, hold: true, ...options.body };
      return redeemPoints(call(`/v1/members/${memberId}/redemptions`, body, options), memberId, body);
    },
    capture: (redemptionId: string, points?: number, options: CallOptions = {}) => {
      const body = points === undefined ? {} : { points };
      return captureRedemption(
        call(`/v1/redemptions/${redemptionId}/capture`, body, options),
        redemptionId,
        body,
      );
    },
    release: (redemptionId: string, options: CallOptions = {}) =>
      releaseRedemption(call(`/v1/redemptions/${redemptionId}/release`, {}, options), redemptionId),
    refund: (redemptionId: string, body: RefundBody = {}, options: CallOptions = {}) =>
      refundRedemption(call(`/v1/redemptions/${redemptionId}/refund`, body, options), redemptionId, body),
    redemption: async (redemptionId: string, now?: string) =>
      parse(await readRedemption(contextFor(store, admin, now ? { now } : {}), redemptionId)),
    reverse: (transactionId: string, body: Partial<ReverseBody> = {}, options: CallOptions = {}) => {
      const full: ReverseBody = { reason: 'returned', ...body };
      return reverseTransaction(
        call(`/v1/transactions/${transactionId}/reverse`, full, options),
        transactionId,
        full,
      );
    },
    reverseOrder: (orderRef: string, body: Partial<OrderReverseBody> = {}, options: CallOptions = {}) => {
      const full: OrderReverseBody = { reason: 'returned', ...body };
      return reverseOrder(call(`/v1/orders/${orderRef}/reverse`, full, options), orderRef, full);
    },
    adjust: (memberId: string, body: AdjustmentBody, options: CallOptions = {}) =>
      adjustPoints(
        call(`/v1/members/${memberId}/adjustments`, body, { principal: admin, ...options }),
        memberId,
        body,
      ),
    transfer: (memberId: string, body: TransferBody, options: CallOptions = {}) =>
      transferPoints(call(`/v1/members/${memberId}/transfers`, body, options), memberId, body),
    activity: (memberId: string, body: ActivityBody, options: CallOptions = {}) =>
      recordActivity(call(`/v1/members/${memberId}/activities`, body, options), memberId, body),
    erase: async (memberId: string, now?: string) =>
      parse(await eraseMember(contextFor(store, admin, now ? { now } : {}), memberId)),
    job: async (name: JobName, asOf: string, now = asOf) =>
      parse(await runJob(contextFor(store, admin, { now }), name, { asOf })),
    history: async (memberId: string) =>
      parse(await listTransactions(contextFor(store, admin), memberId, { limit: 100 })).items as {
        id: string;
        type: string;
        points: number;
        partnerId: string | null;
        breakdown: { rule: string; points: number }[];
        reason: string | null;
      }[],
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
