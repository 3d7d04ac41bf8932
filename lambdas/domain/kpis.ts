/**
 * Monthly customer KPIs from counters the earns keep, exact and without reading members:
 *
 * - Each member remembers its latest purchase day per group (`all`, `p:<partner>`, `c:<channel>`).
 * - A member's first purchase of a month in a group adds 1 to `a|<group>|<gap>` of that month,
 *   where gap is the number of months since its previous purchase in the group (1–24, `25` for
 *   longer, `n` for the first ever).
 * - Its second purchase day of that month adds 1 to `r|<group>` (a repeat purchaser).
 * - An enrolment adds 1 to `e|<group>` of its month.
 *
 * From these, over a period of L ≤ 12 whole months starting at month 0:
 * - distinct active members = Σ over months k of first purchases with gap > k (they had not bought
 *   earlier in the period);
 * - retained members (active in the previous L months and in this period) = Σ_k first purchases
 *   with gap in (k, k + L];
 * - gaps up to 2L − 1 ≤ 23 are needed, all kept exactly.
 *
 * Purchases recorded out of order (a backdated purchase older than the member's latest in its group)
 * count in sums but not in these member counts.
 */
import { monthsAfter } from './time.ts';

export const MAX_KPI_MONTHS = 12;
const EXACT_GAPS = 24;

export type KpiCounters = Record<string, bigint>;

export const activeCounter = (group: string, gap: number | 'n') => `a|${group}|${gap}`;
export const repeatCounter = (group: string) => `r|${group}`;
export const enrolledCounter = (group: string) => `e|${group}`;

/** The groups a purchase at `partnerId` over `channel` counts in. */
export function purchaseGroups(partnerId: string | null, channel: string | null | undefined): string[] {
  return ['all', ...(partnerId ? [`p:${partnerId}`] : []), ...(channel ? [`c:${channel}`] : [])];
}

const monthOf = (day: string) => day.slice(0, 7);

/** Months from `from` to `to` (`YYYY-MM`), 0 when equal. */
export function monthDistance(from: string, to: string): number {
  return (
    (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 +
    Number(to.slice(5, 7)) -
    Number(from.slice(5, 7))
  );
}

/**
 * A purchase on `day` (`YYYY-MM-DD`) in each of `groups`: the member's new latest-purchase days and
 * the KPI counters of the purchase's month it adds to (empty when it adds nothing).
 */
export function recordPurchaseActivity(
  activity: Readonly<Record<string, string>> | undefined,
  day: string,
  groups: readonly string[],
): { activity: Record<string, string>; counters: Record<string, number> } {
  const next = { ...activity };
  const counters: Record<string, number> = {};
  for (const group of groups) {
    const latest = next[group];
    const latestDay = latest?.slice(0, 10);
    if (latest === undefined || latestDay === undefined) {
      counters[activeCounter(group, 'n')] = 1;
      next[group] = day;
      continue;
    }
    const gap = monthDistance(monthOf(latestDay), monthOf(day));
    if (gap > 0) {
      counters[activeCounter(group, gap > EXACT_GAPS ? EXACT_GAPS + 1 : gap)] = 1;
      next[group] = day;
    } else if (gap === 0 && day !== latestDay && !latest.endsWith('*')) {
      // A second purchase day in the month: a repeat purchaser (once per month).
      counters[repeatCounter(group)] = 1;
      next[group] = `${day > latestDay ? day : latestDay}*`;
    } else if (gap === 0 && day > latestDay) {
      next[group] = latest.endsWith('*') ? `${day}*` : day;
    }
  }
  return { activity: next, counters };
}

/** Member counts of one group over whole months [first, first + length − 1]. */
export interface GroupCounts {
  activeMembers: bigint;
  /** Active in the previous `length` months. */
  previousActiveMembers: bigint;
  /** Active in the previous period and in this one. */
  retainedMembers: bigint;
  /** Σ over the months of members with a second purchase day in that month. */
  repeatMemberMonths: bigint;
  /** Σ over the months of members with a purchase in that month. */
  activeMemberMonths: bigint;
  newMembers: bigint;
}

/**
 * A group's counts over `length` months from `first`, from each month's KPI counters (`byMonth`
 * must hold the period and the `length` months before it; a missing month counts as nothing).
 */
export function groupCounts(
  byMonth: ReadonlyMap<string, KpiCounters>,
  group: string,
  first: string,
  length: number,
): GroupCounts {
  const at = (month: string, name: string) => byMonth.get(month)?.[name] ?? 0n;
  const firstPurchases = (month: string, gaps: (gap: number) => boolean, includeNew: boolean) => {
    let total = includeNew ? at(month, activeCounter(group, 'n')) : 0n;
    for (let gap = 1; gap <= EXACT_GAPS + 1; gap++) {
      if (gaps(gap)) total += at(month, activeCounter(group, gap));
    }
    return total;
  };
  const distinct = (start: string) => {
    let total = 0n;
    for (let k = 0; k < length; k++) total += firstPurchases(monthsAfter(start, k), (gap) => gap > k, true);
    return total;
  };
  let retained = 0n;
  let repeat = 0n;
  let memberMonths = 0n;
  let enrolled = 0n;
  for (let k = 0; k < length; k++) {
    const month = monthsAfter(first, k);
    retained += firstPurchases(month, (gap) => gap > k && gap <= k + length, false);
    repeat += at(month, repeatCounter(group));
    memberMonths += firstPurchases(month, () => true, true);
    enrolled += at(month, enrolledCounter(group));
  }
  return {
    activeMembers: distinct(first),
    previousActiveMembers: distinct(monthsAfter(first, -length)),
    retainedMembers: retained,
    repeatMemberMonths: repeat,
    activeMemberMonths: memberMonths,
    newMembers: enrolled,
  };
}

/** The groups that appear in the counters, by kind (`p` partners, `c` channels). */
export function groupsIn(byMonth: ReadonlyMap<string, KpiCounters>, kind: 'p' | 'c'): string[] {
  const groups = new Set<string>();
  for (const counters of byMonth.values()) {
    for (const name of Object.keys(counters)) {
      const group = name.split('|')[1];
      if (group?.startsWith(`${kind}:`)) groups.add(group);
    }
  }
  return [...groups].sort();
}

/** A ratio as a number with 4 decimal places, or null when there is nothing to divide by. */
export function rate(numerator: bigint, denominator: bigint): number | null {
  if (denominator === 0n) return null;
  return Number((numerator * 10_000n * 2n + denominator) / (2n * denominator)) / 10_000;
}

/** Net Promoter Score: % promoters (9–10) − % detractors (0–6), 1 decimal place (half away from 0). */
export function netPromoterScore(responses: bigint, promoters: bigint, detractors: bigint): number | null {
  if (responses === 0n) return null;
  const scaled = (promoters - detractors) * 1000n;
  const magnitude = (2n * (scaled < 0n ? -scaled : scaled) + responses) / (2n * responses);
  return Number(scaled < 0n ? -magnitude : magnitude) / 10;
}
