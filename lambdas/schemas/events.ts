import * as z from 'zod';
import { idParam, queryInt } from './common.ts';

export const eventsQuery = z.strictObject({
  /** The id of the last event already read: the feed continues after it (absent: from the start). */
  after: idParam('evt').optional(),
  /** Only events of this type (e.g. `points.earned`, `member.churn_risk.changed`). */
  type: z
    .string()
    .regex(/^[a-z_]+(\.[a-z_]+)+$/, 'must be an event type such as points.earned')
    .max(64)
    .optional(),
  limit: queryInt(1, 100).default(25),
});

export const eventView = z.object({
  id: z.string(),
  type: z.string(),
  version: z.literal(1),
  occurredAt: z.string(),
  memberId: z.string().optional(),
  partnerId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});

export const eventsResponse = z.object({
  items: z.array(eventView),
  /** `after` for the next page when this one is full; null when the feed has nothing more yet. */
  nextCursor: z.string().nullable(),
  /**
   * The feed is complete up to this instant: events are listed once every change that could still
   * commit an earlier id has (see docs/decisions.md). Poll with `after` = the last id read.
   */
  settledThrough: z.string(),
});

export type EventsQuery = z.infer<typeof eventsQuery>;
