import { ValidationError } from './errors.ts';

/** Calendar helpers in UTC. Points expire at month ends, so month arithmetic is what matters. */

export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

/** `2026-11-23T10:00:00.000Z` → `2026-11`. */
export function monthOf(iso: string): string {
  return iso.slice(0, 7);
}

/** `2026-11-23T10:00:00.000Z` → `2026-11-23`. */
export function dayOf(iso: string): string {
  return iso.slice(0, 10);
}

/** First instant of the month `months` after the month of `iso`, as an ISO string. */
export function startOfMonthAfter(iso: string, months: number): string {
  const date = new Date(iso);
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1)).toISOString();
}

/** The first midnight (UTC) at or after `iso`. */
export function nextMidnight(iso: string): string {
  const date = new Date(iso);
  const midnight = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  return new Date(midnight === date.getTime() ? midnight : midnight + 86_400_000).toISOString();
}

export function addDays(iso: string, days: number): string {
  return new Date(new Date(iso).getTime() + days * 86_400_000).toISOString();
}

/** Normalise any RFC 3339 string (with offset) to UTC with milliseconds. */
export function toUtc(iso: string): string {
  return new Date(iso).toISOString();
}

/** The months of a tier window ending at (and including) the month of `iso`. */
export function monthsInWindow(iso: string, windowMonths: number): Set<string> {
  const date = new Date(iso);
  const months = new Set<string>();
  for (let i = 0; i < windowMonths; i++) {
    months.add(
      new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - i, 1)).toISOString().slice(0, 7),
    );
  }
  return months;
}

/**
 * A client-supplied instant, in UTC, defaulting to `now`. Past instants are allowed (imports,
 * backfills); more than 5 minutes ahead is a validation error on `path`.
 */
export function instantNotAhead(value: string | undefined, now: string, path: string): string {
  const instant = value ? toUtc(value) : now;
  if (Date.parse(instant) > Date.parse(now) + MAX_FUTURE_SKEW_MS) {
    throw new ValidationError([{ path, message: 'must not be more than 5 minutes in the future' }]);
  }
  return instant;
}

/**
 * The instant `months` calendar months after `anchor`, at the same time of day, on the anchor's day
 * of the month or the month's last day when it is shorter: Jan 31 + 1 → Feb 28 (29), + 2 → Mar 31.
 * Always counted from the anchor, never chained, so a billing day never drifts.
 */
export function addMonths(anchor: string, months: number): string {
  const date = new Date(anchor);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(date.getUTCDate(), lastDay);
  const timeOfDay = date.getTime() - Date.UTC(year, date.getUTCMonth(), date.getUTCDate());
  return new Date(Date.UTC(year, month, day) + timeOfDay).toISOString();
}

/** The month `k` months after `month` (`YYYY-MM`; k may be negative). */
export function monthsAfter(month: string, k: number): string {
  return new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)) - 1 + k, 1))
    .toISOString()
    .slice(0, 7);
}

/** The last day (`YYYY-MM-DD`) of a month (`YYYY-MM`). */
export function lastDayOf(month: string): string {
  return new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0))
    .toISOString()
    .slice(0, 10);
}

/** The day before `day` (`YYYY-MM-DD`). */
export function dayBefore(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) - 86_400_000).toISOString().slice(0, 10);
}
