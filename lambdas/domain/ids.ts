import { monotonicFactory, ulid } from 'ulid';

export type IdPrefix = 'mem' | 'txn' | 'red' | 'rwd' | 'sub' | 'evt' | 'key' | 'imp';

const nextUlid = monotonicFactory();

/** A prefixed ULID (`mem_01J…`): sortable by creation time, unique without coordination. */
export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  return `${prefix}_${nextUlid(now)}`;
}

/** An id that sorts before every id made from `instant` on: for entries that logically precede. */
export function newIdBefore(prefix: IdPrefix, instant: number): string {
  return `${prefix}_${ulid(instant - 1)}`;
}
