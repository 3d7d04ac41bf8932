import * as z from 'zod';
import { timestamp } from './common.ts';

/** The lifecycle jobs, the daily churn scan, and the daily reconciliation of the books. */
export const jobNames = [
  'expire-points',
  'mature-pending',
  'release-expired-holds',
  'subscription-renewals',
  'tier-review',
  'churn-scan',
  'reconcile',
] as const;
export type JobName = (typeof jobNames)[number];

export const jobParams = z.strictObject({ name: z.enum(jobNames) });

export const jobBody = z.strictObject({
  /** The instant the job runs as of (≤ now); default now. One run per (job, asOf day). */
  asOf: timestamp.optional(),
});

export const jobResponse = z.object({
  job: z.enum(jobNames),
  asOf: z.string(),
  /**
   * Due items (members or holds) handled by this run of (job, asOf day), over all its calls;
   * for `churn-scan`, the members scored (active, with a purchase by that day).
   */
  processed: z.int(),
  /** Of those, the ones that changed (an entry, a notice, a release, a tier, a churn risk band). */
  changed: z.int(),
  /** False when the call stopped at its time limit with work left: call again to resume. */
  complete: z.boolean(),
  /** `reconcile` only, once complete: Σ members vs the report counters (services/reconcile.ts). */
  reconciliation: z
    .object({
      through: z.string(),
      members: z.object({ available: z.int(), pending: z.int(), held: z.int(), outstanding: z.int() }),
      counters: z.object({
        available: z.int(),
        pending: z.int(),
        held: z.int(),
        outstanding: z.int(),
        outstandingByMovements: z.int(),
        heldByPartner: z.int(),
      }),
      unverifiableMembers: z.int(),
      differences: z.array(
        z.object({ figure: z.string(), counters: z.int(), actual: z.int(), difference: z.int() }),
      ),
      monthsClosed: z.array(z.string()),
    })
    .optional(),
});

export type JobBody = z.infer<typeof jobBody>;

/** Most segments a churn scan run may be split in (on AWS, one Step Functions map item each). */
export const MAX_SCAN_SEGMENTS = 10_000;

/**
 * The names the churn scan's worker fails under when another attempt cannot help
 * (handlers/churn-scan-worker.ts); the state machine (lib/churn-scan.ts) retries everything else.
 */
export const churnScanWorkerErrors = {
  /** No churn model fitted yet: the day's run ends without scoring, as the job runner's does. */
  noModel: 'ChurnModelMissing',
  /** The run refuses the call (bad input, another split): the execution fails at once. */
  refused: 'ChurnScanRefused',
} as const;
