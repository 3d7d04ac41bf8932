import { calculateEarnPoints, type EarnFactor } from '../domain/earn-calculation.ts';
import { transactionOf } from '../domain/entries.ts';
import { ConflictError, ValidationError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { purchaseGroups, recordPurchaseActivity } from '../domain/kpis.ts';
import { MAX_BALANCE, MAX_POINTS_PER_TRANSACTION } from '../domain/member-ledger.ts';
import { applyEarn } from '../domain/movements.ts';
import { recordPurchase } from '../domain/purchase-history.ts';
import { ownValue } from '../domain/records.ts';
import { earnBenefitAt } from '../domain/subscriptions.ts';
import { currentTier } from '../domain/tiers.ts';
import { dayOf, instantNotAhead } from '../domain/time.ts';
import type { EarnBody } from '../schemas/points.ts';
import { kpiItemsOf } from '../store/kpi-store.ts';
import { putOrderGuard } from '../store/ledger-store.ts';
import type { RequestContext, UseCaseResponse } from './context.ts';
import { commitMemberChange } from './member-change.ts';
import { assertPartnerActive, loadPointsContext, partnerOfRequest } from './points-context.ts';

/**
 * POST /v1/members/{id}/earn: points for a purchase at a partner, by the partner's earn rule and
 * the category, tier and paid-membership multipliers, floored once per transaction.
 */
export async function earnPoints(
  ctx: RequestContext,
  memberId: string,
  body: EarnBody,
): Promise<UseCaseResponse> {
  const partnerId = partnerOfRequest(ctx.principal, body.partnerId, true) as string;
  const occurredAt = instantNotAhead(body.occurredAt, ctx.now, 'body.occurredAt');
  const txnId = newId('txn', Date.parse(ctx.now));

  return commitMemberChange(ctx, {
    memberId,
    load: () => loadPointsContext(ctx.store, { memberId, partnerId, subscription: true }),
    plan: ({ member, program, partner, subscription }) => {
      assertPartnerActive(partner, partnerId);
      if (!partner) throw new Error('unreachable: assertPartnerActive checked the partner');
      if (body.currency !== program.currency) {
        throw new ValidationError([
          { path: 'body.currency', message: `the program's currency is ${program.currency}` },
        ]);
      }
      const tier = currentTier(member.points, program.tiers);
      const factors: EarnFactor[] = [];
      const categoryMultiplier = body.category
        ? ownValue(partner.categoryMultipliers, body.category)
        : undefined;
      if (body.category && categoryMultiplier !== undefined) {
        factors.push({ rule: `category:${body.category}`, multiplier: categoryMultiplier });
      }
      factors.push({ rule: `tier:${tier.code}`, multiplier: tier.earnMultiplier });
      const membership = earnBenefitAt(subscription?.subscription, ctx.now, {
        graceDays: program.subscriptionGraceDays,
      });
      if (membership) {
        factors.push({ rule: `subscription:${membership.planId}`, multiplier: membership.earnMultiplier });
      }
      const { points, breakdown } = calculateEarnPoints(body.amountMinor, partner.earnRule, factors);
      if (points > MAX_POINTS_PER_TRANSACTION) {
        throw new ValidationError([
          { path: 'body.amountMinor', message: `earns more than ${MAX_POINTS_PER_TRANSACTION} points` },
        ]);
      }
      if (member.points.lifetimeEarned + points > MAX_BALANCE) {
        throw new ConflictError(`This earn would take the member's lifetime points over ${MAX_BALANCE}.`);
      }
      const applied = applyEarn(member.points, points, occurredAt, ctx.now, program, partnerId);
      const kpi = recordPurchaseActivity(
        member.activity,
        dayOf(occurredAt),
        purchaseGroups(partnerId, body.channel),
      );
      if (applied.expiresAt !== null && applied.expiresAt <= ctx.now) {
        throw new ValidationError([
          {
            path: 'body.occurredAt',
            message: `is so long ago that its points would have expired on ${applied.expiresAt}`,
          },
        ]);
      }
      const entry = transactionOf({
        id: txnId,
        type: 'earn',
        memberId,
        partnerId,
        points,
        status: applied.status,
        availableAt: applied.availableAt,
        expiresAt: applied.expiresAt,
        breakdown,
        orderRef: body.orderRef,
        amountMinor: body.amountMinor,
        currency: body.currency,
        category: body.category ?? null,
        channel: body.channel ?? null,
        actorKeyId: ctx.principal.keyId,
        occurredAt,
        createdAt: ctx.now,
      });
      return {
        entry,
        // The funding charged for these points, at this moment's rate: reversals net exactly this.
        entryExtra: {
          fundingRateMinor: partner.fundingRateMinor,
          fundingMinor: points * partner.fundingRateMinor,
        },
        points: applied.points,
        // The purchase feeds the churn model (days and spend) and the KPIs, whatever points it earned.
        memberSet: {
          purchases: recordPurchase(member.purchases ?? null, occurredAt, body.amountMinor),
          activity: kpi.activity,
        },
        kpiItems: kpiItemsOf(ctx.store, memberId, occurredAt, kpi.counters),
        status: 201,
        items: [putOrderGuard(ctx.store, partnerId, body.orderRef, txnId, memberId)],
        aggregates: [
          {
            partnerId,
            delta: {
              issuedPoints: points,
              earnCount: 1,
              earnAmountMinor: body.amountMinor,
              fundingMinor: points * partner.fundingRateMinor,
            },
          },
        ],
        onItemConditionFailed: (index) =>
          index === 0
            ? new ConflictError(`Order ${body.orderRef} already earned points at partner ${partnerId}.`)
            : undefined,
      };
    },
  });
}
