import { monotonicFactory, ulid } from 'ulid';

export type IdPrefix = 'mem' | 'txn' | 'red' | 'rwd' | 'sub' | 'evt' | 'key' | 'imp' | 'cmp';

let nextUlid = monotonicFactory();
let latest = 0;
/**
 * A monotonic factory never goes back in time: after an id of instant t, every id sorts after t.
 * Real clocks wobble by milliseconds, which that absorbs; the local clock (`LOYALTY_CLOCK`, tests)
 * may be set back by years, and ids must then be of the clock's time again (the events feed lists
 * an event by its id's time), so a step back of more than this starts a new sequence. Requests take
 * their instant when they start and last at most 30 s, so no real step back comes near it.
 */
const CLOCK_STEP_BACK_MS = 60_000;

/** A prefixed ULID (`mem_01J…`): sortable by creation time, unique without coordination. */
export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  if (now < latest - CLOCK_STEP_BACK_MS) {
    nextUlid = monotonicFactory();
    latest = now;
  } else {
    latest = Math.max(latest, now);
  }
  return `${prefix}_${nextUlid(now)}`;
}

/** An id that sorts before every id made from `instant` on: for entries that logically precede. */
export function newIdBefore(prefix: IdPrefix, instant: number): string {
  return `${prefix}_${ulid(instant - 1)}`;
}
