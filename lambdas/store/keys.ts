/**
 * Every key of the single table is built here, with an entity prefix, so the layout can be read
 * in one place (see docs/data-model.md). No other module concatenates key strings.
 */
import { CONFIG_COPIES, COUNTER_PARTITIONS, COUNTER_SHARDS } from '../config/capacity.ts';
export const keys = {
  program: () => ({ pk: 'PROGRAM', sk: 'CONFIG' }),
  /**
   * One of the program's CONFIG_COPIES (0 is the item itself), each a partition of its own: every
   * earn reads the program, and one item could not serve more than 3,000 strongly consistent reads
   * a second.
   */
  programCopy: (copy: number) =>
    copy === 0 ? keys.program() : { pk: `PROGRAM#${String(copy).padStart(2, '0')}`, sk: 'CONFIG' },

  /** All partners share one partition: a coalition has tens of partners, read as one Query. */
  partner: (partnerId: string) => ({ pk: 'PARTNERS', sk: `PARTNER#${partnerId}` }),
  partnersPartition: () => 'PARTNERS',
  partnerSkPrefix: () => 'PARTNER#',

  /** What authentication reads: the key's SHA-256, never the key itself. */
  apiKeyByHash: (hash: string) => ({ pk: `APIKEY#${hash}`, sk: 'APIKEY' }),
  /** Listing item, keyed by public id, so DELETE /v1/api-keys/{id} is a strongly consistent read. */
  apiKeyRecord: (keyId: string) => ({ pk: 'APIKEYS', sk: `KEY#${keyId}` }),
  apiKeysPartition: () => 'APIKEYS',
  apiKeySkPrefix: () => 'KEY#',

  member: (memberId: string) => ({ pk: `MEMBER#${memberId}`, sk: 'STATE' }),
  /** Uniqueness guard and lookup of an externalRef inside one partner's namespace. */
  externalRef: (namespace: string, externalRef: string) => ({
    pk: `EXTREF#${namespace}#${externalRef}`,
    sk: 'EXTREF',
  }),

  /**
   * A ledger entry is stored under its idempotency key: the conditional put that creates it is the
   * idempotency check, so the record and the change cannot be separated.
   */
  idempotency: (scope: string, idempotencyKey: string) => ({
    pk: `IDEM#${scope}#${idempotencyKey}`,
    sk: 'IDEM',
  }),
  /** gsi1: a member's ledger, newest first by ULID. */
  memberHistory: (memberId: string, txnId?: string) => ({
    gsi1pk: `HISTORY#${memberId}`,
    gsi1sk: txnId === undefined ? 'TXN#' : `TXN#${txnId}`,
  }),
  /** gsi3: a member's ledger at one partner, newest first: what a partner key may list. */
  partnerHistory: (memberId: string, partnerId: string, txnId?: string) => ({
    gsi3pk: `HISTORY#${memberId}#${partnerId}`,
    gsi3sk: txnId === undefined ? 'TXN#' : `TXN#${txnId}`,
  }),
  /** gsi2: find an entry by its public id (txn_, red_). */
  publicId: (id: string) => ({ gsi2pk: `ID#${id}`, gsi2sk: 'ID' }),

  /** One earn per (partner, orderRef). */
  order: (partnerId: string, orderRef: string) => ({ pk: `ORDER#${partnerId}#${orderRef}`, sk: 'ORDER' }),

  /**
   * Report counters per posting day and partner, spread over shards by member so no single item
   * takes every write (one partition sustains ~1,000 WCU/s; concurrent transactions on one item
   * conflict). The shards are spread over partitions too (partner, month, shard mod
   * COUNTER_PARTITIONS), sort key day then shard: a new day's items land on every partition.
   */
  aggregate: (day: string, partnerId: string, shard: number) => ({
    pk: keys.aggregatePartition(partnerId, day.slice(0, 7), shard % COUNTER_PARTITIONS),
    sk: `${day}#${String(shard).padStart(2, '0')}`,
  }),
  /** One of a partner's month partitions: a report reads a month with one Query per partition. */
  aggregatePartition: (partnerId: string, month: string, partition: number) =>
    `AGG#${partnerId}#${month}#${String(partition).padStart(2, '0')}`,
  /**
   * A closed month's counters summed (every day, every shard) for one scope: a report over years
   * reads one item per month instead of 16 per day. Written once the month can no longer change.
   */
  monthSnapshot: (scope: string, month: string) => ({ pk: `AGGMONTH#${scope}`, sk: month }),
  monthSnapshotPartition: (scope: string) => `AGGMONTH#${scope}`,
  /** The first posting day any report counter may hold: reports start there. */
  reportEpoch: () => ({ pk: 'REPORTS', sk: 'EPOCH' }),
  /**
   * KPI counters per activity month (not posting day) and member shard: first purchases of a month
   * by group and gap, repeat purchasers, enrolments.
   */
  kpi: (month: string, shard: number) => ({
    pk: `KPI#${month}#${String(shard).padStart(2, '0')}`,
    sk: 'KPI',
  }),
  /** Redemption estimate revisions (IFRS 15), by the day they take effect. */
  redemptionEstimate: (effectiveFrom: string) => ({ pk: 'ESTIMATES', sk: effectiveFrom }),
  redemptionEstimatesPartition: () => 'ESTIMATES',

  reward: (rewardId: string) => ({ pk: `REWARD#${rewardId}`, sk: 'REWARD' }),
  /** gsi1: the catalogue, by partner then id (a coalition has thousands of rewards, not millions). */
  rewardListing: (partnerId?: string, rewardId?: string) => ({
    gsi1pk: 'REWARDS',
    gsi1sk:
      partnerId === undefined ? '' : rewardId === undefined ? `${partnerId}#` : `${partnerId}#${rewardId}`,
  }),

  /** A redemption's current state (held, captured, released, refunded), mutable unlike its entries. */
  redemption: (redemptionId: string) => ({ pk: `REDEMPTION#${redemptionId}`, sk: 'REDEMPTION' }),

  /** One award per (member, activity type, ref). */
  activity: (memberId: string, type: string, ref: string) => ({
    pk: `ACTIVITY#${memberId}#${type}#${ref}`,
    sk: 'ACTIVITY',
  }),

  /**
   * A job run per (job, asOf day): `RUN` holds when it started and finished; one `SHARD#nn` per due
   * index shard counts what it processed and changed (in the same transaction as each change).
   */
  jobRun: (job: string, day: string) => ({ pk: `JOB#${job}#${day}`, sk: 'RUN' }),
  /** The latest complete run of a job, with its sums. */
  latestJobRun: (job: string) => ({ pk: `JOBLATEST#${job}`, sk: 'RUN' }),
  jobShard: (job: string, day: string, shard: number) => ({
    pk: `JOB#${job}#${day}`,
    sk: `SHARD#${String(shard).padStart(2, '0')}`,
  }),

  /**
   * A due index entry: `DUE#<kind>#<shard>` / `<date>#<id>`, on the index of that kind (see
   * dueIndexOf). Sharded so no partition takes every write.
   */
  due: (kind: DueKind, shard: number, date: string, id: string) => ({
    [`${dueIndexOf[kind]}pk`]: duePartition(kind, shard),
    [`${dueIndexOf[kind]}sk`]: `${date}#${id}`,
  }),

  /** Plans share one partition, like partners: a program has a handful. */
  plan: (planId: string) => ({ pk: 'PLANS', sk: `PLAN#${planId}` }),
  plansPartition: () => 'PLANS',
  planSkPrefix: () => 'PLAN#',

  /**
   * A member's latest subscription, next to its position: an earn reads it in the same BatchGet
   * (its benefits), and its key is what makes one live subscription per member a condition.
   */
  memberSubscription: (memberId: string) => ({ pk: `MEMBER#${memberId}`, sk: 'SUBSCRIPTION' }),
  /** sub_ id → member (immutable), and the final state of a subscription a later one replaced. */
  subscription: (subscriptionId: string) => ({ pk: `SUB#${subscriptionId}`, sk: 'SUB' }),

  /**
   * The events feed entry of an item that carries an event: gsi9 `FEED#<shard>` / `<eventId>`, and
   * for an event with a partner gsi10 `FEED#<partnerId>#<shard>` / `<eventId>`. The shard is the
   * event id's hash, so a busy second's events spread over every shard.
   */
  feed: (eventId: string, partnerId: string | null | undefined) => ({
    gsi9pk: feedPartition(null, shardOf(eventId, FEED_SHARDS)),
    gsi9sk: eventId,
    ...(partnerId
      ? { gsi10pk: feedPartition(partnerId, shardOf(eventId, FEED_SHARDS)), gsi10sk: eventId }
      : {}),
  }),

  /** Outbox item of an event that is not a ledger entry (e.g. reward.out_of_stock). */
  outboxEvent: (dedupeKey: string) => ({ pk: `EVENT#${dedupeKey}`, sk: 'EVENT' }),

  /**
   * A campaign's definition, and a copy of it sorted by its end (`ENDS#<endsAt>#<id>`), both in the
   * `CAMPAIGNS` partition: a listing is one Query, and the earn's cache reads only the campaigns not
   * long over, however many have ended. Campaign writes are rare; the cache reads it twice a minute.
   */
  campaign: (campaignId: string) => ({ pk: 'CAMPAIGNS', sk: `CAMPAIGN#${campaignId}` }),
  campaignSchedule: (endsAt: string, campaignId: string) => ({
    pk: 'CAMPAIGNS',
    sk: `ENDS#${endsAt}#${campaignId}`,
  }),
  campaignsPartition: () => 'CAMPAIGNS',
  /**
   * A budget's shards, each its own partition key so earns at 3,000/s spread over partitions and
   * items (decisions §45), and its state (how many shards are empty, when it ran out).
   */
  campaignBudgetShard: (campaignId: string, shard: number) => ({
    pk: `CAMPAIGNBUDGET#${campaignId}#${String(shard).padStart(3, '0')}`,
    sk: 'SHARD',
  }),
  campaignBudgetState: (campaignId: string) => ({ pk: `CAMPAIGNBUDGET#${campaignId}`, sk: 'STATE' }),

  /**
   * A scored member in the at-risk index (gsi11): by band and shard, highest CLV first, so an
   * operator pages through the valuable members of a band without a scan.
   */
  churnIndex: (memberId: string, risk: string, clvMinor: number) => ({
    gsi11pk: `CHURN#${risk}#${String(shardOf(memberId, CHURN_INDEX_SHARDS)).padStart(2, '0')}`,
    gsi11sk: `${clvSortKey(clvMinor)}#${memberId}`,
  }),
  churnIndexPartition: (risk: string, shard: number) => `CHURN#${risk}#${String(shard).padStart(2, '0')}`,

  /** The churn model in use (BG/NBD and Gamma-Gamma parameters): one item, replaced by each fit. */
  churnModel: () => ({ pk: 'MODEL#CHURN', sk: 'CURRENT' }),
} as const;

/** What falls due, and which index lists it (a member item is on each of its kinds at once). */
export type DueKind = 'expire' | 'notice' | 'mature' | 'hold' | 'review' | 'warn' | 'renewal';
export const dueIndexOf = {
  expire: 'gsi4',
  notice: 'gsi5',
  mature: 'gsi6',
  hold: 'gsi6',
  review: 'gsi7',
  warn: 'gsi8',
  // Subscription items (not members): their own partitions of the index holds and maturation use.
  renewal: 'gsi6',
} as const satisfies Record<DueKind, string>;
/** Shards of each due index: a job reads them all; each takes 1/16 of the writes. */
export const DUE_SHARDS = 16;
export const duePartition = (kind: DueKind, shard: number) => `DUE#${kind}#${String(shard).padStart(2, '0')}`;

/** Shards of the events feed (each index partition takes ~1,000 writes/s: 16 carry 3,000/s easily). */
export const FEED_SHARDS = 16;
export const feedPartition = (partnerId: string | null, shard: number) =>
  `FEED#${partnerId === null ? '' : `${partnerId}#`}${String(shard).padStart(2, '0')}`;

/** Which copy of the program a request about this member reads. */
export const programCopyOf = (memberId: string) => shardOf(memberId, CONFIG_COPIES);

/** The report and KPI counter shard of a member (LOYALTY_COUNTER_SHARDS of them). */
export const counterShardOf = (memberId: string) => shardOf(memberId, COUNTER_SHARDS);

/** Stable shard for a member: FNV-1a of its id, so one member always lands on one shard. */
/** Shards of each band of the at-risk index: a scan writing 3,000 members/s stays below 1,000 per partition. */
export const CHURN_INDEX_SHARDS = 16;

/** A CLV (0 to 2^53, clamped) as a fixed-width string: sorted as text it sorts as a number. */
export function clvSortKey(clvMinor: number): string {
  return String(Math.max(0, Math.min(Math.floor(clvMinor), Number.MAX_SAFE_INTEGER))).padStart(16, '0');
}

export function shardOf(memberId: string, shards = DUE_SHARDS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < memberId.length; i++) {
    hash ^= memberId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}
