import * as z from 'zod';
import { currencyCode, historicalTimestamp, nonNegativeInt, reference, slug } from './common.ts';

/** What one request may carry: Lambda's payload limit (larger files are sent in parts). */
export const MAX_IMPORT_BYTES = 6 * 1024 * 1024;
export const IMPORT_MEDIA_TYPES = ['application/x-ndjson', 'text/csv'] as const;

/** One historical purchase, a line of NDJSON or a CSV row (with a header naming these columns). */
export const purchaseLine = z.strictObject({
  /** The partner's customer reference: the member is found by it, or created on first sight. */
  externalRef: reference,
  partnerId: slug,
  amountMinor: nonNegativeInt,
  currency: currencyCode,
  occurredAt: historicalTimestamp,
  /** Unique per partner: a line imported before is not imported again. */
  orderRef: reference,
});
export type PurchaseLine = z.infer<typeof purchaseLine>;

export const importBody = z.string().max(MAX_IMPORT_BYTES);

export const importQuery = z.strictObject({
  /** `true`: each new purchase also earns points (through the earn rules); default history only. */
  points: z.enum(['true', 'false']).default('false'),
});

/** Rejected lines listed in a response at most; `rejectedCount` says how many there were. */
export const MAX_REJECTED_LISTED = 1000;

export const importResponse = z.object({
  id: z.string(),
  /**
   * False when the call's time ran out before every line was written: send the same body again
   * to continue (what was imported is skipped). `imported` counts this call's writes.
   */
  complete: z.boolean(),
  /** Valid lines: imported now, or imported before (a re-import changes nothing). */
  accepted: z.int(),
  imported: z.int(),
  alreadyImported: z.int(),
  membersCreated: z.int(),
  rejectedCount: z.int(),
  rejected: z.array(z.object({ line: z.int(), problem: z.string() })),
});
