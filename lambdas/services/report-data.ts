/**
 * What the finance reports read: each scope's counters (every partner, and the coalition's own) by
 * month, from the closed months' snapshots where there is one and from the day items otherwise.
 * The cost grows with the months asked about and the partners, never with members or movements.
 */
import { addCounters, type Counters } from '../domain/liability.ts';
import { COALITION } from '../domain/namespaces.ts';
import { monthsBetween } from '../domain/settlement.ts';
import { dayBefore, lastDayOf } from '../domain/time.ts';
import { allPartners } from '../store/partner-store.ts';
import { monthSnapshots, reportEpoch, sumDays } from '../store/report-store.ts';
import type { RequestContext } from './context.ts';

/** A scope of the counters: a partner, or the coalition (`partnerId` null). */
export interface ReportScope {
  scope: string;
  partnerId: string | null;
  name: string;
}

/** Every partner (suspended ones too: their points are still outstanding) and the coalition. */
export async function reportScopes(ctx: RequestContext): Promise<ReportScope[]> {
  const partners = await allPartners(ctx.store);
  return [
    ...partners.map((partner) => ({ scope: partner.id, partnerId: partner.id, name: partner.name })),
    { scope: COALITION, partnerId: null, name: 'Coalition' },
  ];
}

/** Months read at once per scope. */
const MONTH_CONCURRENCY = 6;

/**
 * One scope's counters for each month of [from, to] (days inclusive; the first and last months
 * cut to the range): a closed month in full from its snapshot, anything else from its day items.
 */
export async function scopeMonths(
  ctx: RequestContext,
  scope: string,
  from: string,
  to: string,
  snapshots: ReadonlyMap<string, Counters>,
): Promise<Map<string, Counters>> {
  const months = monthsBetween(from, to);
  const result = new Map<string, Counters>();
  const queue = [...months];
  await Promise.all(
    Array.from({ length: MONTH_CONCURRENCY }, async () => {
      for (let month = queue.shift(); month !== undefined; month = queue.shift()) {
        const first = `${month}-01` < from ? from : `${month}-01`;
        const last = lastDayOf(month) > to ? to : lastDayOf(month);
        const whole = first === `${month}-01` && last === lastDayOf(month);
        const snapshot = whole ? snapshots.get(month) : undefined;
        result.set(month, snapshot ?? (await sumDays(ctx.store, scope, first, last)));
      }
    }),
  );
  return new Map(months.map((month) => [month, result.get(month) ?? {}]));
}

/** Every scope's months over [from, to], from the epoch on (nothing is counted before it). */
export interface ScopeHistory {
  scope: ReportScope;
  months: Map<string, Counters>;
}

/**
 * The counters of every scope by month, from the first posting day anything was counted through
 * `through`: what the liability, the roll-forward and deferred revenue are computed from.
 */
export async function historyThrough(
  ctx: RequestContext,
  scopes: readonly ReportScope[],
  through: string,
): Promise<ScopeHistory[]> {
  const epoch = await reportEpoch(ctx.store);
  if (epoch === undefined || epoch > through) return scopes.map((scope) => ({ scope, months: new Map() }));
  return Promise.all(
    scopes.map(async (scope) => {
      const snapshots = await monthSnapshots(ctx.store, scope.scope);
      return { scope, months: await scopeMonths(ctx, scope.scope, epoch, through, snapshots) };
    }),
  );
}

/** Σ of the histories' months up to and including `lastMonth` (all of them when omitted). */
export function totalOf(histories: readonly ScopeHistory[], lastMonth?: string): Counters {
  return addCounters(
    ...histories.flatMap((history) =>
      [...history.months.entries()]
        .filter(([month]) => lastMonth === undefined || month <= lastMonth)
        .map(([, counters]) => counters),
    ),
  );
}

/** Every scope's counters summed by month. */
export function byMonth(histories: readonly ScopeHistory[]): Map<string, Counters> {
  const months = new Map<string, Counters>();
  for (const history of histories) {
    for (const [month, counters] of history.months) {
      months.set(month, addCounters(months.get(month) ?? {}, counters));
    }
  }
  return new Map([...months.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** The day before `day`, for "as it stood before the period". */
export const endBefore = (day: string) => dayBefore(day);
