import { ReportTooLargeError } from '../domain/errors.ts';
import { COALITION } from '../domain/namespaces.ts';
import type { SubscriptionReport, SubscriptionReportQuery } from '../schemas/reports.ts';
import { allPlans } from '../store/plan-store.ts';
import { getProgram } from '../store/program-store.ts';
import { sumCounters } from '../store/report-store.ts';
import { type RequestContext, respond, type UseCaseResponse } from './context.ts';

const LEVELS = [
  'subscriptionsTrialing',
  'subscriptionsActive',
  'subscriptionsPastDue',
  'mrrTwelfthsMinor',
] as const;
const FLOWS = [
  'subscriptionsStarted',
  'subscriptionsRenewed',
  'subscriptionsWentPastDue',
  'subscriptionsCanceled',
  'subscriptionsExpired',
  'subscriptionRevenueMinor',
  'bonusPoints',
] as const;

/**
 * GET /v1/reports/subscriptions: paid membership figures from the coalition's day counters. The
 * states and MRR at the end of `to` are the sum of every change since the first plan was created
 * (a subscription cannot predate its plan); the transitions and revenue are those of [from, to].
 * Days are posting days, as in every report. Cost: one Query per month, never a read of members.
 */
export async function subscriptionReport(
  ctx: RequestContext,
  query: SubscriptionReportQuery,
): Promise<UseCaseResponse> {
  const [program, { levels, flows }] = await Promise.all([
    getProgram(ctx.store),
    subscriptionCounters(ctx, query.from, query.to),
  ]);
  const report: SubscriptionReport = {
    from: query.from,
    to: query.to,
    currency: program.currency,
    trialing: exact(levels.subscriptionsTrialing),
    active: exact(levels.subscriptionsActive),
    pastDue: exact(levels.subscriptionsPastDue),
    mrrMinor: exact(levels.mrrTwelfthsMinor / 12n),
    arrMinor: exact(levels.mrrTwelfthsMinor),
    started: exact(flows.subscriptionsStarted),
    renewed: exact(flows.subscriptionsRenewed),
    wentPastDue: exact(flows.subscriptionsWentPastDue),
    canceled: exact(flows.subscriptionsCanceled),
    expired: exact(flows.subscriptionsExpired),
    churned: exact(flows.subscriptionsCanceled + flows.subscriptionsExpired),
    revenueMinor: exact(flows.subscriptionRevenueMinor),
    bonusPoints: exact(flows.bonusPoints),
  };
  if (query.format === 'csv') {
    const columns = Object.keys(report) as (keyof SubscriptionReport)[];
    const body = `${columns.join(',')}\r\n${columns.map((column) => String(report[column])).join(',')}\r\n`;
    return { ...respond(200, null), body, contentType: 'text/csv; charset=utf-8' };
  }
  return respond(200, report);
}

/**
 * The subscription states and MRR at the end of `to` (every change since the first plan was
 * created: a subscription cannot predate its plan) and the transitions of [from, to].
 */
export async function subscriptionCounters(
  ctx: RequestContext,
  from: string,
  to: string,
): Promise<{
  levels: Record<(typeof LEVELS)[number], bigint>;
  flows: Record<(typeof FLOWS)[number], bigint>;
}> {
  const plans = await allPlans(ctx.store);
  const firstDay = [...plans.values()].map((plan) => plan.createdAt.slice(0, 10)).sort()[0];
  const zero = (names: readonly string[]) => Object.fromEntries(names.map((name) => [name, 0n]));
  if (firstDay === undefined || firstDay > to) {
    return {
      levels: zero(LEVELS) as Record<(typeof LEVELS)[number], bigint>,
      flows: zero(FLOWS) as Record<(typeof FLOWS)[number], bigint>,
    };
  }
  const [levels, flows] = await Promise.all([
    sumCounters(ctx.store, COALITION, LEVELS, firstDay, to),
    sumCounters(ctx.store, COALITION, FLOWS, from, to),
  ]);
  return { levels, flows };
}

function exact(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ReportTooLargeError();
  }
  return Number(value);
}
