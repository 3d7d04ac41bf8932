import { decodeTime } from 'ulid';
import { describe, expect, it } from 'vitest';
import { newId } from '../../lambdas/domain/ids.ts';

const timeOf = (id: string) => decodeTime(id.slice(id.indexOf('_') + 1));

describe('newId', () => {
  it('sorts by creation, also within a millisecond and when a request started a little earlier', () => {
    const t = Date.parse('2026-03-01T10:00:00.000Z');
    const ids = [newId('txn', t), newId('txn', t), newId('txn', t - 5_000), newId('txn', t + 1)];
    expect([...ids].sort()).toEqual(ids);
    // The earlier request's id keeps the sequence's time, so it does not sort before what exists.
    expect(timeOf(ids[2]!)).toBe(t);
  });

  it('follows a clock set back (the local clock): ids are of the new time again', () => {
    newId('evt', Date.parse('2027-01-15T09:00:00.000Z'));
    const back = Date.parse('1998-07-01T00:00:00.000Z');
    const first = newId('evt', back);
    const second = newId('evt', back + 10);
    expect(timeOf(first)).toBe(back);
    expect(timeOf(second)).toBe(back + 10);
    expect(second > first).toBe(true);
  });
});
