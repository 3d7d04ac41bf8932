/**
 * The points liability, the roll-forward and IFRS 15 deferred revenue, all from the report
 * counters (services/report-data.ts): exact, and as cheap at ten million members as at ten.
 */
import { type CsvColumn, toCsv } from '../domain/csv.ts';
import { allocateToPoints, type Cohort, recognitionAt } from '../domain/deferred-revenue.ts';
import { ForbiddenError, NotFoundError, ReportTooLargeError, ValidationError } from '../domain/errors.ts';
import {
  addCounters,
  attributeOutstanding,
  type Counters,
  expiryBucketsOf,
  type IssuanceLayer,
  layerOf,
  movementsOf,
  netMovement,
  outstandingOf,
} from '../domain/liability.ts';
import { POSITION } from '../domain/position.ts';
import { type Ratio, ratioOf, roundHalfUp } from '../domain/ratio.ts';
import { dayBefore, dayOf, lastDayOf } from '../domain/time.ts';
import type {
  DeferredRevenueQuery,
  DeferredRevenueReport,
  LiabilityQuery,
  LiabilityReport,
  RedemptionEstimate,
  RollForwardQuery,
  RollForwardReport,
} from '../schemas/reports.ts';
import { allRedemptionEstimates } from '../store/estimate-store.ts';
import { getProgram, type ProgramRecord } from '../store/program-store.ts';
import { monthSnapshots } from '../store/report-store.ts';
import { type RequestContext, respond, type UseCaseResponse } from './context.ts';
import { byMonth, historyThrough, reportScopes, scopeMonths, totalOf } from './report-data.ts';

const CSV = 'text/csv; charset=utf-8';
const get = (counters: Counters, name: string) => counters[name] ?? 0n;

/** A figure as a JSON number, or 422 report-too-large past 2^53 (never a rounded number). */
export function exact(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ReportTooLargeError();
  }
  return Number(value);
}

/** Today (UTC) for the request: a report as of a later day is refused. */
function notAfterToday(ctx: RequestContext, value: string, path: string): void {
  if (value > dayOf(ctx.now)) throw new ValidationError([{ path, message: 'must not be after today' }]);
}

/** The expected redemption rate in effect on `day`: the latest revision effective by then, else the program's. */
export function rateOn(
  day: string,
  estimates: readonly RedemptionEstimate[],
  program: ProgramRecord,
): number {
  let rate = program.expectedRedemptionRate;
  for (const estimate of [...estimates].sort((a, b) => a.effectiveFrom.localeCompare(b.effectiveFrom))) {
    if (estimate.effectiveFrom <= day) rate = estimate.expectedRedemptionRate;
  }
  return rate;
}

/** The partner a request is limited to: a partner key's own (another is 403), or ?partnerId=. */
function limitedTo(ctx: RequestContext, asked: string | undefined): string | undefined {
  if (ctx.principal.role !== 'partner') return asked;
  const own = ctx.principal.partnerId ?? undefined;
  if (asked !== undefined && asked !== own) {
    throw new ForbiddenError('A partner key reads its own line only; omit partnerId or send your own.');
  }
  return own;
}

/**
 * GET /v1/reports/liability: what the members hold at the end of `asOf`, valued at the point value
 * and net of expected breakage, attributed to the partners that issued it (FIFO), by expiry month.
 */
export async function liabilityReport(ctx: RequestContext, query: LiabilityQuery): Promise<UseCaseResponse> {
  const asOf = query.asOf ?? dayOf(ctx.now);
  notAfterToday(ctx, asOf, 'query.asOf');
  const partnerId = limitedTo(ctx, query.partnerId);
  const [program, estimates, scopes] = await Promise.all([
    getProgram(ctx.store),
    allRedemptionEstimates(ctx.store),
    reportScopes(ctx),
  ]);
  if (partnerId !== undefined && !scopes.some((scope) => scope.partnerId === partnerId)) {
    throw new NotFoundError(`No partner ${partnerId}.`);
  }
  const histories = await historyThrough(ctx, scopes, asOf);
  const total = totalOf(histories);
  const rate = rateOn(asOf, estimates, program);
  const pointValue = BigInt(program.pointValueMinor);
  const value = (points: bigint) => ({
    liabilityMinor: exact(points * pointValue),
    expectedLiabilityMinor: exact(expectedOf(points * pointValue, ratioOf(rate))),
  });

  // FIFO: every scope's months are layers of issued points; the pool's consumption takes the oldest.
  const layers: IssuanceLayer[] = [];
  const reversed = new Map<string, bigint>();
  let consumed = 0n;
  for (const { scope, months } of histories) {
    for (const [month, counters] of months) {
      const { layer, consumed: used } = layerOf(scope.scope, month, counters);
      layers.push(layer);
      consumed += used;
      reversed.set(scope.scope, (reversed.get(scope.scope) ?? 0n) + get(counters, 'reversedPoints'));
    }
  }
  const attributed = attributeOutstanding(layers, reversed, consumed);
  const lines = histories.map(({ scope, months }) => {
    const counters = addCounters(...months.values());
    const outstanding = attributed.get(scope.scope) ?? 0n;
    return {
      partnerId: scope.partnerId,
      name: scope.name,
      outstandingPoints: exact(outstanding),
      pendingPoints: exact(get(counters, POSITION.pending)),
      heldPoints: exact(get(counters, 'heldPoints')),
      ...value(outstanding),
    };
  });

  const mine = partnerId === undefined ? undefined : lines.find((line) => line.partnerId === partnerId);
  const outstanding = mine ? BigInt(mine.outstandingPoints) : outstandingOf(total);
  const report: LiabilityReport = {
    asOf,
    currency: program.currency,
    partnerId: partnerId ?? null,
    outstandingPoints: exact(outstanding),
    pendingPoints: mine ? mine.pendingPoints : exact(get(total, POSITION.pending)),
    heldPoints: mine ? mine.heldPoints : exact(get(total, POSITION.held)),
    negativeBalancePoints: mine ? 0 : exact(get(total, POSITION.debt)),
    pointValueMinor: program.pointValueMinor,
    ...value(outstanding),
    expectedRedemptionRate: rate,
    byPartner: mine ? [mine] : lines,
    expiryBuckets: mine
      ? null
      : expiryBucketsOf(total).map((bucket) => ({ month: bucket.month, points: exact(bucket.points) })),
  };
  if (query.format === 'csv') return csvResponse(liabilityCsv(report));
  return respond(200, report);
}

/** liability × rate, rounded half up to the minor unit. */
function expectedOf(liabilityMinor: bigint, rate: Ratio): bigint {
  return roundHalfUp(liabilityMinor * rate.num, rate.den);
}

function liabilityCsv(report: LiabilityReport): string {
  type Row = LiabilityReport['byPartner'][number];
  const columns: CsvColumn<Row>[] = [
    { name: 'partnerId', value: (row) => row.partnerId ?? 'COALITION', text: 'id' },
    { name: 'name', value: (row) => row.name, text: 'free' },
    { name: 'asOf', value: () => report.asOf },
    { name: 'currency', value: () => report.currency },
    { name: 'outstandingPoints', value: (row) => row.outstandingPoints },
    { name: 'pendingPoints', value: (row) => row.pendingPoints },
    { name: 'heldPoints', value: (row) => row.heldPoints },
    { name: 'liabilityMinor', value: (row) => row.liabilityMinor },
    { name: 'expectedLiabilityMinor', value: (row) => row.expectedLiabilityMinor },
  ];
  const totals: Row = {
    partnerId: 'TOTAL',
    name: '',
    outstandingPoints: report.outstandingPoints,
    pendingPoints: report.pendingPoints,
    heldPoints: report.heldPoints,
    liabilityMinor: report.liabilityMinor,
    expectedLiabilityMinor: report.expectedLiabilityMinor,
  };
  return toCsv(columns, [...report.byPartner, totals]);
}

/**
 * GET /v1/reports/roll-forward: the outstanding points at the start of the period, every movement
 * in it, and the closing balance, for the period and each of its months. The opening and closing
 * balances come from the position counters (Σ member balances), the movements from their own
 * counters: `unexplainedPoints` is the difference, 0 when every movement is counted.
 */
export async function rollForwardReport(
  ctx: RequestContext,
  query: RollForwardQuery,
): Promise<UseCaseResponse> {
  notAfterToday(ctx, query.to, 'query.to');
  const [program, scopes] = await Promise.all([getProgram(ctx.store), reportScopes(ctx)]);
  const [before, period] = await Promise.all([
    historyThrough(ctx, scopes, dayBefore(query.from)),
    Promise.all(
      scopes.map(async (scope) => ({
        scope,
        months: await scopeMonths(
          ctx,
          scope.scope,
          query.from,
          query.to,
          await monthSnapshots(ctx.store, scope.scope),
        ),
      })),
    ),
  ]);
  let opening = outstandingOf(totalOf(before));
  const months: RollForwardReport['months'] = [];
  for (const [month, counters] of byMonth(period)) {
    const line = rollForwardLine(opening, counters);
    months.push({
      month,
      from: month === query.from.slice(0, 7) ? query.from : `${month}-01`,
      to: month === query.to.slice(0, 7) ? query.to : lastDayOf(month),
      ...line,
    });
    opening += outstandingOf(counters);
  }
  const report: RollForwardReport = {
    from: query.from,
    to: query.to,
    currency: program.currency,
    ...rollForwardLine(outstandingOf(totalOf(before)), totalOf(period)),
    months,
  };
  if (query.format === 'csv') return csvResponse(rollForwardCsv(report));
  return respond(200, report);
}

function rollForwardLine(opening: bigint, period: Counters) {
  const m = movementsOf(period);
  const closing = opening + outstandingOf(period);
  return {
    opening: exact(opening),
    issued: exact(m.issued),
    purchases: exact(m.purchases),
    activities: exact(m.activities),
    bonuses: exact(m.bonuses),
    redeemed: exact(m.redeemed),
    refunded: exact(m.refunded),
    expired: exact(m.expired),
    reversed: exact(m.reversed),
    adjusted: exact(m.adjusted),
    transferred: exact(m.transferredIn - m.transferredOut),
    transferredIn: exact(m.transferredIn),
    transferredOut: exact(m.transferredOut),
    forfeited: exact(m.forfeited),
    closing: exact(closing),
    unexplainedPoints: exact(closing - (opening + netMovement(m))),
  };
}

const ROLL_FORWARD_FIGURES = [
  'opening',
  'issued',
  'purchases',
  'activities',
  'bonuses',
  'redeemed',
  'refunded',
  'expired',
  'reversed',
  'adjusted',
  'transferred',
  'transferredIn',
  'transferredOut',
  'forfeited',
  'closing',
  'unexplainedPoints',
] as const;

function rollForwardCsv(report: RollForwardReport): string {
  type Row = RollForwardReport['months'][number];
  const columns: CsvColumn<Row>[] = [
    { name: 'month', value: (row) => row.month, text: 'id' },
    { name: 'from', value: (row) => row.from },
    { name: 'to', value: (row) => row.to },
    { name: 'currency', value: () => report.currency },
    ...ROLL_FORWARD_FIGURES.map((name) => ({ name, value: (row: Row) => row[name] })),
  ];
  const { months, currency: _currency, ...period } = report;
  return toCsv(columns, [...months, { ...period, month: 'TOTAL' }]);
}

/**
 * GET /v1/reports/deferred-revenue (IFRS 15, B39–B43): for each month's purchases (a cohort), the
 * price allocated to its points by relative stand-alone selling price, the revenue recognised by
 * `to` and before `from` against the estimate in effect then (cumulative catch-up), and what stays
 * deferred. See domain/deferred-revenue.ts for the rules and the rounding.
 */
export async function deferredRevenueReport(
  ctx: RequestContext,
  query: DeferredRevenueQuery,
): Promise<UseCaseResponse> {
  notAfterToday(ctx, query.to, 'query.to');
  const [program, estimates, scopes] = await Promise.all([
    getProgram(ctx.store),
    allRedemptionEstimates(ctx.store),
    reportScopes(ctx),
  ]);
  const months = byMonth(await historyThrough(ctx, scopes, query.to));
  const fromMonth = query.from.slice(0, 7);
  const openingDay = dayBefore(query.from);
  const pointValue = BigInt(program.pointValueMinor);

  const cohorts: Cohort[] = [];
  const free = new Map<string, bigint>();
  for (const [month, counters] of months) {
    const m = movementsOf(counters);
    const positive = (value: bigint) => (value > 0n ? value : 0n);
    cohorts.push({
      month,
      points: positive(m.purchases - m.reversed),
      priceMinor: positive(get(counters, 'earnAmountMinor') - get(counters, 'reversedAmountMinor')),
    });
    free.set(month, m.activities + m.bonuses + positive(m.adjusted));
  }
  const allocationRates = new Map(
    cohorts.map((cohort) => {
      const end = lastDayOf(cohort.month) < query.to ? lastDayOf(cohort.month) : query.to;
      return [cohort.month, rateOn(end, estimates, program)];
    }),
  );
  const allocated = new Map(
    cohorts.map((cohort) => [
      cohort.month,
      allocateToPoints(cohort, pointValue, ratioOf(allocationRates.get(cohort.month) ?? 0)),
    ]),
  );
  const poolThrough = (lastMonth: string) => {
    const within = [...months.entries()].filter(([month]) => month <= lastMonth);
    const consumption = within.reduce(
      (sum, [month, counters]) => {
        const used = layerOf('pool', month, counters).consumed;
        const m = movementsOf(counters);
        return { consumed: sum.consumed + used, redeemed: sum.redeemed + m.redeemed - m.refunded };
      },
      { consumed: 0n, redeemed: 0n },
    );
    const inPool = new Set(within.map(([month]) => month));
    return {
      cohorts: cohorts.filter((cohort) => inPool.has(cohort.month)),
      freeByMonth: new Map([...free].filter(([month]) => inPool.has(month))),
      ...consumption,
    };
  };
  const openingRate = rateOn(openingDay, estimates, program);
  const closingRate = rateOn(query.to, estimates, program);
  const atOpening = recognitionAt(poolThrough(openingDay.slice(0, 7)), allocated, ratioOf(openingRate));
  const atClosing = recognitionAt(poolThrough(query.to.slice(0, 7)), allocated, ratioOf(closingRate));

  let allocatedInPeriod = 0n;
  let recognizedInPeriod = 0n;
  let deferredOpening = 0n;
  let deferredClosing = 0n;
  const lines: DeferredRevenueReport['cohorts'] = [];
  for (const cohort of cohorts) {
    if (cohort.points <= 0n) continue;
    const share = allocated.get(cohort.month) ?? 0n;
    const issuedBefore = cohort.month < fromMonth;
    const opening = issuedBefore ? (atOpening.get(cohort.month)?.recognizedMinor ?? 0n) : 0n;
    const closing = atClosing.get(cohort.month);
    const recognizedClosing = closing?.recognizedMinor ?? 0n;
    if (issuedBefore) deferredOpening += share - opening;
    else allocatedInPeriod += share;
    recognizedInPeriod += recognizedClosing - opening;
    deferredClosing += share - recognizedClosing;
    if (issuedBefore && share - opening === 0n && recognizedClosing === opening) continue;
    lines.push({
      month: cohort.month,
      pointsIssued: exact(cohort.points),
      transactionPriceMinor: exact(cohort.priceMinor),
      allocationRate: allocationRates.get(cohort.month) ?? 0,
      allocatedMinor: exact(share),
      redeemedPoints: decimalOf(closing?.redeemedPoints),
      expectedRedemptions: decimalOf(closing?.expectedRedemptions),
      recognizedOpeningMinor: exact(opening),
      recognizedInPeriodMinor: exact(recognizedClosing - opening),
      recognizedClosingMinor: exact(recognizedClosing),
      deferredClosingMinor: exact(share - recognizedClosing),
    });
  }
  const report: DeferredRevenueReport = {
    from: query.from,
    to: query.to,
    currency: program.currency,
    pointValueMinor: program.pointValueMinor,
    expectedRedemptionRate: closingRate,
    allocatedToPointsMinor: exact(allocatedInPeriod),
    recognizedMinor: exact(recognizedInPeriod),
    deferredOpeningMinor: exact(deferredOpening),
    deferredClosingMinor: exact(deferredClosing),
    cohorts: lines,
  };
  if (query.format === 'csv') return csvResponse(deferredRevenueCsv(report));
  return respond(200, report);
}

/** A ratio of points as a number with at most 2 decimal places (a share of redeemed points). */
function decimalOf(ratio: Ratio | undefined): number {
  if (!ratio) return 0;
  return Number(roundHalfUp(ratio.num * 100n, ratio.den)) / 100;
}

function deferredRevenueCsv(report: DeferredRevenueReport): string {
  type Row = DeferredRevenueReport['cohorts'][number];
  const figures = [
    'pointsIssued',
    'transactionPriceMinor',
    'allocationRate',
    'allocatedMinor',
    'redeemedPoints',
    'expectedRedemptions',
    'recognizedOpeningMinor',
    'recognizedInPeriodMinor',
    'recognizedClosingMinor',
    'deferredClosingMinor',
  ] as const;
  const columns: CsvColumn<Row>[] = [
    { name: 'month', value: (row) => row.month, text: 'id' },
    { name: 'from', value: () => report.from },
    { name: 'to', value: () => report.to },
    { name: 'currency', value: () => report.currency },
    ...figures.map((name) => ({ name, value: (row: Row) => row[name] })),
  ];
  const total: Row = {
    month: 'TOTAL',
    pointsIssued: report.cohorts.reduce((sum, row) => sum + row.pointsIssued, 0),
    transactionPriceMinor: report.cohorts.reduce((sum, row) => sum + row.transactionPriceMinor, 0),
    allocationRate: report.expectedRedemptionRate,
    allocatedMinor: report.allocatedToPointsMinor,
    redeemedPoints: 0,
    expectedRedemptions: 0,
    recognizedOpeningMinor: report.cohorts.reduce((sum, row) => sum + row.recognizedOpeningMinor, 0),
    recognizedInPeriodMinor: report.recognizedMinor,
    recognizedClosingMinor: report.cohorts.reduce((sum, row) => sum + row.recognizedClosingMinor, 0),
    deferredClosingMinor: report.deferredClosingMinor,
  };
  return toCsv(columns, [...report.cohorts, total]);
}

export function csvResponse(body: string): UseCaseResponse {
  return { ...respond(200, null), body, contentType: CSV };
}
