/**
 * What the customer-base models need of a member's purchases, kept on the member by every purchase
 * (an earn, an imported purchase), so fitting or scoring never reads a history. As the models
 * define them: one transaction per member per day (UTC), the first purchase day is not a repeat,
 * time is in weeks. Days are kept as one bitmap per month (bit d-1 = day d), exact and compact
 * (about 12 bytes a month), because purchases may arrive out of order (imports, backfills).
 */
import type { PurchaseSummary } from './customer-base.ts';

export interface PurchaseHistory {
  /** `YYYY-MM` → days of that month with a purchase (bit d-1 for day d). */
  months: Record<string, number>;
  firstDay: string;
  lastDay: string;
  /** Distinct purchase days. */
  days: number;
  /** All purchases' amounts, and those of the first purchase day. */
  spendMinor: number;
  firstDaySpendMinor: number;
}

const DAY_MS = 86_400_000;
const WEEK_DAYS = 7;

/** The history after one more purchase on `at`'s UTC day. */
export function recordPurchase(
  before: PurchaseHistory | null,
  at: string,
  amountMinor: number,
): PurchaseHistory {
  const day = at.slice(0, 10);
  const month = day.slice(0, 7);
  const bit = 2 ** (Number(day.slice(8, 10)) - 1);
  if (!before) {
    return {
      months: { [month]: bit },
      firstDay: day,
      lastDay: day,
      days: 1,
      spendMinor: amountMinor,
      firstDaySpendMinor: amountMinor,
    };
  }
  const months = { ...before.months };
  const mask = months[month] ?? 0;
  const newDay = Math.floor(mask / bit) % 2 === 0;
  months[month] = newDay ? mask + bit : mask;
  const firstDaySpendMinor =
    day < before.firstDay
      ? amountMinor
      : day === before.firstDay
        ? before.firstDaySpendMinor + amountMinor
        : before.firstDaySpendMinor;
  return {
    months,
    firstDay: day < before.firstDay ? day : before.firstDay,
    lastDay: day > before.lastDay ? day : before.lastDay,
    days: before.days + (newDay ? 1 : 0),
    spendMinor: before.spendMinor + amountMinor,
    firstDaySpendMinor,
  };
}

/** Days with a purchase on or before `day` (the history as it stood at the end of that day). */
function daysUpTo(history: PurchaseHistory, day: string): { count: number; last: string | null } {
  let count = 0;
  let last: string | null = null;
  for (const [month, mask] of Object.entries(history.months)) {
    for (let d = 1, bit = 1; d <= 31; d++, bit *= 2) {
      if (Math.floor(mask / bit) % 2 === 0) continue;
      const date = `${month}-${String(d).padStart(2, '0')}`;
      if (date > day) continue;
      count += 1;
      if (last === null || date > last) last = date;
    }
  }
  return { count, last };
}

const weeksBetween = (from: string, to: string) =>
  (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS / WEEK_DAYS;

/**
 * The model's inputs at the end of calibration day `calibrationEnd` (inclusive): x repeat days,
 * t_x and T in weeks from the first purchase day, and the mean spend of the repeat days (0 when
 * there are none, or when the history has moved on past `calibrationEnd`: spend is kept only in
 * total). Null for a member with no purchase by then.
 */
export function modelInputs(
  history: PurchaseHistory | null | undefined,
  calibrationEnd: string,
): (PurchaseSummary & { meanSpendMinor: number }) | null {
  if (!history || history.firstDay > calibrationEnd) return null;
  const whole = history.lastDay <= calibrationEnd;
  const { count, last } = whole
    ? { count: history.days, last: history.lastDay }
    : daysUpTo(history, calibrationEnd);
  const x = count - 1;
  const repeatSpend = history.spendMinor - history.firstDaySpendMinor;
  return {
    x,
    tx: weeksBetween(history.firstDay, last ?? history.firstDay),
    T: weeksBetween(history.firstDay, calibrationEnd),
    meanSpendMinor: whole && x > 0 ? repeatSpend / x : 0,
  };
}
