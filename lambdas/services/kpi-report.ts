/**
 * GET /v1/reports/kpis: monthly customer KPIs (domain/kpis.ts) over whole months, coalition-wide
 * and by partner or channel, with the points and survey figures of the same period and the paid
 * membership figures. Reads 16 KPI items per month (the period and as many months before it), the
 * period's day counters, and the latest churn scan: never members.
 */
import { type CsvColumn, toCsv } from '../domain/csv.ts';
import { ForbiddenError } from '../domain/errors.ts';
import { groupCounts, groupsIn, type KpiCounters, netPromoterScore, rate } from '../domain/kpis.ts';
import { addCounters, type Counters } from '../domain/liability.ts';
import { dayOf, lastDayOf, monthsAfter } from '../domain/time.ts';
import type { KpiQuery, KpiReport } from '../schemas/reports.ts';
import { latestRun } from '../store/job-store.ts';
import { getProgram } from '../store/program-store.ts';
import { kpiCounters, monthSnapshots } from '../store/report-store.ts';
import type { RequestContext, UseCaseResponse } from './context.ts';
import { respond } from './context.ts';
import { csvResponse, exact } from './finance-reports.ts';
import { reportScopes, scopeMonths } from './report-data.ts';
import { subscriptionCounters } from './subscription-report.ts';

type Figures = Omit<KpiReport['groups'][number], 'group'>;

export async function kpiReport(ctx: RequestContext, query: KpiQuery): Promise<UseCaseResponse> {
  const first = query.from.slice(0, 7);
  const last = query.to.slice(0, 7);
  const length = monthsBetweenInclusive(first, last);
  const fromDay = `${first}-01`;
  const today = dayOf(ctx.now);
  const toDay = query.to.length === 10 ? query.to : lastDayOf(last) < today ? lastDayOf(last) : today;
  const own = ctx.principal.role === 'partner' ? ctx.principal.partnerId : null;
  if (own !== null && query.groupBy === 'channel') {
    throw new ForbiddenError('A partner key reads its own KPIs only: groupBy=partner, or no groupBy.');
  }
  const groupBy = own !== null ? 'partner' : (query.groupBy ?? null);

  const months = Array.from({ length: 2 * length }, (_, k) => monthsAfter(first, k - length));
  const [program, kpis, scopes, subscriptions, scan] = await Promise.all([
    getProgram(ctx.store),
    Promise.all(months.map(async (month) => [month, await kpiCounters(ctx.store, month)] as const)),
    reportScopes(ctx),
    subscriptionCounters(ctx, fromDay, toDay),
    latestRun(ctx.store, 'churn-scan'),
  ]);
  const byMonth = new Map<string, KpiCounters>(kpis);
  // The period's points and survey counters, per scope (posting days).
  const movements = new Map<string, Counters>(
    await Promise.all(
      scopes.map(async (scope) => {
        const counters = await scopeMonths(
          ctx,
          scope.scope,
          fromDay,
          toDay < fromDay ? fromDay : toDay,
          await monthSnapshots(ctx.store, scope.scope),
        );
        return [scope.scope, addCounters(...counters.values())] as const;
      }),
    ),
  );

  const figures = (group: string, counters: Counters | null): Figures => {
    const counts = groupCounts(byMonth, group, first, length);
    const get = (name: string) => (counters ? (counters[name] ?? 0n) : null);
    const redeemed = get('redeemedPoints');
    const issued = counters ? (counters.issuedPoints ?? 0n) + (counters.bonusPoints ?? 0n) : null;
    const responses = get('surveyResponses');
    const promoters = get('surveyPromoters');
    const detractors = get('surveyDetractors');
    const retention = rate(counts.retainedMembers, counts.previousActiveMembers);
    const nullable = (value: bigint | null) => (value === null ? null : exact(value));
    return {
      activeMembers: exact(counts.activeMembers),
      newMembers: exact(counts.newMembers),
      retentionRate: retention,
      churnRate: retention === null ? null : Math.round((1 - retention) * 10_000) / 10_000,
      repeatPurchaseRate: rate(counts.repeatMemberMonths, counts.activeMemberMonths),
      redemptionRate: redeemed === null || issued === null ? null : rate(redeemed, issued),
      nps:
        responses === null || promoters === null || detractors === null
          ? null
          : netPromoterScore(responses, promoters, detractors),
      counts: {
        previousActiveMembers: exact(counts.previousActiveMembers),
        retainedMembers: exact(counts.retainedMembers),
        repeatMemberMonths: exact(counts.repeatMemberMonths),
        activeMemberMonths: exact(counts.activeMemberMonths),
        redeemedPoints: nullable(redeemed),
        issuedPoints: nullable(issued),
        surveyResponses: nullable(responses),
        promoters: nullable(promoters),
        detractors: nullable(detractors),
      },
    };
  };

  const partnerGroups = scopes.filter(
    (scope) => scope.partnerId !== null && (own === null || scope.partnerId === own),
  );
  const groups =
    groupBy === 'partner'
      ? partnerGroups.map((scope) => ({
          group: `p:${scope.partnerId}`,
          ...figures(`p:${scope.partnerId}`, movements.get(scope.scope) ?? {}),
        }))
      : groupBy === 'channel'
        ? groupsIn(byMonth, 'c').map((group) => ({ group, ...figures(group, null) }))
        : [];
  // A partner key's figures are its own group's; anyone else's top line is the coalition's.
  const top: Figures =
    own !== null
      ? figures(`p:${own}`, movements.get(own) ?? {})
      : figures('all', addCounters(...movements.values()));
  const clv = scan && (scan.sums.processed ?? 0) > 0 ? scan : undefined;
  const report: KpiReport = {
    from: first,
    to: last,
    groupBy,
    currency: program.currency,
    ...top,
    averageClvMinor:
      own === null && clv ? Math.round((clv.sums.clvSumMinor ?? 0) / (clv.sums.processed ?? 1)) : null,
    clvScoredOn: own === null && clv ? clv.day : null,
    subscriptions: {
      active: own === null ? exact(subscriptions.levels.subscriptionsActive) : 0,
      churned:
        own === null
          ? exact(subscriptions.flows.subscriptionsCanceled + subscriptions.flows.subscriptionsExpired)
          : 0,
      mrrMinor: own === null ? exact(subscriptions.levels.mrrTwelfthsMinor / 12n) : 0,
    },
    groups,
  };
  if (query.format === 'csv') return csvResponse(kpiCsv(report, own !== null));
  return respond(200, report);
}

function monthsBetweenInclusive(first: string, last: string): number {
  return (
    (Number(last.slice(0, 4)) - Number(first.slice(0, 4))) * 12 +
    Number(last.slice(5, 7)) -
    Number(first.slice(5, 7)) +
    1
  );
}

function kpiCsv(report: KpiReport, ownOnly: boolean): string {
  type Row = KpiReport['groups'][number];
  const figures = [
    'activeMembers',
    'newMembers',
    'retentionRate',
    'churnRate',
    'repeatPurchaseRate',
    'redemptionRate',
    'nps',
  ] as const;
  const columns: CsvColumn<Row>[] = [
    { name: 'group', value: (row) => row.group, text: 'id' },
    { name: 'from', value: () => report.from },
    { name: 'to', value: () => report.to },
    ...figures.map((name) => ({ name, value: (row: Row) => row[name] })),
    { name: 'previousActiveMembers', value: (row) => row.counts.previousActiveMembers },
    { name: 'retainedMembers', value: (row) => row.counts.retainedMembers },
    { name: 'redeemedPoints', value: (row) => row.counts.redeemedPoints },
    { name: 'issuedPoints', value: (row) => row.counts.issuedPoints },
  ];
  const { groups, ...top } = report;
  // A partner key's report is its own line only; otherwise the coalition's line comes first.
  const rows = ownOnly ? groups : [{ ...top, group: 'all' }, ...groups];
  return toCsv(columns, rows);
}
