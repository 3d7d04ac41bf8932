import * as z from 'zod';
import { decimalPlaces } from '../domain/decimal.ts';

/** Largest integer we accept for points or money: far above any real value, far below 2^53. */
export const MAX_AMOUNT = 1_000_000_000_000;

/**
 * Names of `Object.prototype` (`constructor`, `toString`…): as a key of a stored map they break
 * marshalling or shadow built-ins, so no client-chosen id or map key may be one.
 */
const PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Admin-chosen ids (partners, plans) and client-chosen map keys (categories, activity types, tiers). */
export const slug = z
  .string()
  .regex(/^[a-z0-9-]{2,40}$/, { message: 'must be 2–40 characters of a-z, 0-9 and -', abort: true })
  .refine((value) => !PROTOTYPE_NAMES.has(value), 'is a reserved name');

export const nonNegativeInt = z.int().min(0).max(MAX_AMOUNT);
export const positiveInt = z.int().min(1).max(MAX_AMOUNT);

/**
 * Multipliers and rates are decimals with at most 4 places, so point arithmetic stays exact. The
 * places are counted exactly on the number as sent (the body parser refuses numbers a double
 * would round), never with a float tolerance.
 */
export const decimal4 = z.number().refine((value) => decimalPlaces(value) <= 4, 'at most 4 decimal places');

export const multiplier = decimal4.pipe(z.number().min(0).max(1000));

/**
 * A map with slug keys and at most `max` entries: bounded so that no valid request can build an
 * item over DynamoDB's 400 KB limit.
 */
export const boundedRecord = <V extends z.ZodType>(value: V, max = 100) =>
  z.record(slug, value).refine((record) => Object.keys(record).length <= max, `at most ${max} entries`);

export const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD');

/**
 * RFC 3339 with an offset, from 2000 on: earlier dates are typos, and years < 100 parse as 19xx.
 * A malformed instant gets one error (`abort`), not a second one about its date.
 */
export const timestamp = z.iso
  .datetime({ offset: true, message: 'must be an RFC 3339 date-time', abort: true })
  .refine((value) => Date.parse(value) >= Date.UTC(2000, 0, 1), 'must not be before 2000-01-01');

/** An instant of history (imports reach back before 2000: CDNOW is 1997), from 1970 on. */
export const historicalTimestamp = z.iso
  .datetime({ offset: true, message: 'must be an RFC 3339 date-time', abort: true })
  .refine((value) => Date.parse(value) >= 0, 'must not be before 1970-01-01');

/** A caller's own identifier (orderRef, externalRef): printable ASCII, as POS systems send them. */
export const reference = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/** Control characters (C0, DEL, C1) have no place in names and descriptions: refused, not stored. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export const text = (max: number) =>
  z
    .string()
    .refine((value) => !CONTROL.test(value), 'must not contain control characters')
    .trim()
    .min(1)
    .max(max);

export const channel = z.enum(['store', 'online', 'app', 'phone', 'other']);

export const roles = ['admin', 'partner', 'finance'] as const;
export type Role = (typeof roles)[number];

export const scopes = [
  'members:write',
  'points:earn',
  'points:redeem',
  'points:reverse',
  'rewards:read',
  // Not in the contract's list: lets a brand's back office manage its catalogue while its tills
  // (scoped to points) cannot. See docs/decisions.md.
  'rewards:write',
  'subscriptions:read',
  'subscriptions:write',
  'campaigns:write',
  'events:read',
  'reports:read',
] as const;
export type Scope = (typeof scopes)[number];

/** A query-string integer: plain decimal digits only (no `0x10`, `1e1` or ` 5`). */
export const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]{0,8})$/, 'must be a decimal integer')
    .transform(Number)
    .pipe(z.int().min(min).max(max));

export const listQuery = z.strictObject({
  limit: queryInt(1, 100).default(25),
  cursor: z.string().min(1).max(2048).optional(),
});

export const idParam = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`), `must be a ${prefix}_ id`);

/** RFC 9457: a problem may carry extension members (the current state, a balance, a retry time). */
export const problemSchema = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const balancesSchema = z.object({
  available: z.int(),
  pending: z.int(),
  reserved: z.int(),
  lifetimeEarned: z.int(),
  lifetimeRedeemed: z.int(),
  expiringNext: z.object({ points: z.int(), on: z.string() }).nullable(),
});

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const transactionType = z.enum([
  'earn',
  'activity',
  'redeem',
  'reverse',
  'refund',
  'expire',
  'adjust',
  'transfer_in',
  'transfer_out',
  'forfeit',
  'bonus',
]);
