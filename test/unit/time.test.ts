import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addMonths } from '../../lambdas/domain/time.ts';

describe('time', () => {
  describe('addMonths', () => {
    const jan31 = '2026-01-31T10:00:00.000Z';

    it('keeps the anchor day when the target month has it', () => {
      expect(addMonths('2026-03-15T10:00:00.000Z', 1)).toBe('2026-04-15T10:00:00.000Z');
      expect(addMonths('2026-03-15T10:00:00.000Z', 5)).toBe('2026-08-15T10:00:00.000Z');
    });

    it('is the anchor itself after 0 months', () => {
      expect(addMonths(jan31, 0)).toBe(jan31);
    });

    it('clamps to the last day of a shorter month: Jan 31 + 1 → Feb 28, + 3 → Apr 30', () => {
      expect(addMonths(jan31, 1)).toBe('2026-02-28T10:00:00.000Z');
      expect(addMonths(jan31, 3)).toBe('2026-04-30T10:00:00.000Z');
      expect(addMonths('2026-03-30T10:00:00.000Z', 11)).toBe('2027-02-28T10:00:00.000Z');
    });

    it('clamps to Feb 29 in a leap year', () => {
      expect(addMonths('2024-01-31T10:00:00.000Z', 1)).toBe('2024-02-29T10:00:00.000Z');
      expect(addMonths('2027-12-30T10:00:00.000Z', 2)).toBe('2028-02-29T10:00:00.000Z');
    });

    it('counts from the anchor, never drifting: Jan 31 + 2 → Mar 31, whereas chaining would give Mar 28', () => {
      expect(addMonths(jan31, 2)).toBe('2026-03-31T10:00:00.000Z');
      expect(addMonths(addMonths(jan31, 1), 1)).toBe('2026-03-28T10:00:00.000Z');
      expect(Array.from({ length: 7 }, (_, k) => addMonths(jan31, k))).toEqual([
        '2026-01-31T10:00:00.000Z',
        '2026-02-28T10:00:00.000Z',
        '2026-03-31T10:00:00.000Z',
        '2026-04-30T10:00:00.000Z',
        '2026-05-31T10:00:00.000Z',
        '2026-06-30T10:00:00.000Z',
        '2026-07-31T10:00:00.000Z',
      ]);
    });

    it('keeps the time of day to the millisecond', () => {
      expect(addMonths('2026-03-31T23:59:59.999Z', 1)).toBe('2026-04-30T23:59:59.999Z');
      expect(addMonths('2026-05-01T00:00:00.000Z', 1)).toBe('2026-06-01T00:00:00.000Z');
      expect(addMonths('2026-01-29T13:45:07.250Z', 1)).toBe('2026-02-28T13:45:07.250Z');
    });

    it('rolls over into the next year', () => {
      expect(addMonths('2026-12-15T08:00:00.000Z', 1)).toBe('2027-01-15T08:00:00.000Z');
      expect(addMonths('2026-11-30T08:00:00.000Z', 3)).toBe('2027-02-28T08:00:00.000Z');
      expect(addMonths('2026-10-31T08:00:00.000Z', 27)).toBe('2029-01-31T08:00:00.000Z');
    });

    it('is the same day a year later after 12 months, Feb 29 clamping to Feb 28 outside leap years', () => {
      expect(addMonths(jan31, 12)).toBe('2027-01-31T10:00:00.000Z');
      expect(addMonths('2024-02-29T12:00:00.000Z', 12)).toBe('2025-02-28T12:00:00.000Z');
      expect(addMonths('2024-02-29T12:00:00.000Z', 48)).toBe('2028-02-29T12:00:00.000Z');
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const instantArb = fc
  .date({
    min: new Date('2000-01-01T00:00:00.000Z'),
    max: new Date('2099-12-31T23:59:59.999Z'),
    noInvalidDate: true,
  })
  .map((date) => date.toISOString());

describe('time (properties)', () => {
  it('lands k calendar months on, on the anchor day or the month end, at the same time of day', () => {
    fc.assert(
      fc.property(instantArb, fc.integer({ min: 0, max: 240 }), (anchor, months) => {
        const from = new Date(anchor);
        const to = new Date(addMonths(anchor, months));
        const monthIndex = from.getUTCFullYear() * 12 + from.getUTCMonth() + months;
        expect(to.getUTCFullYear() * 12 + to.getUTCMonth()).toBe(monthIndex);
        const lastDay = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth() + 1, 0)).getUTCDate();
        expect(to.getUTCDate()).toBe(Math.min(from.getUTCDate(), lastDay));
        expect(to.toISOString().slice(10)).toBe(anchor.slice(10));
      }),
    );
  });

  it('never goes back in time as the months grow', () => {
    fc.assert(
      fc.property(instantArb, fc.integer({ min: 0, max: 120 }), (anchor, months) => {
        expect(addMonths(anchor, months) < addMonths(anchor, months + 1)).toBe(true);
      }),
    );
  });
});
