/**
 * The one definition of the single DynamoDB table. The CDK construct, the local bootstrap and the
 * test setup all build their table from this object, so keys and indexes cannot drift apart.
 * Access patterns and the keys that serve them are listed in docs/data-model.md.
 */
export interface IndexDefinition {
  name: string;
  partitionKey: string;
  sortKey: string;
  /** What the index copies besides its keys: all attributes, keys only, or the listed ones. */
  projection: 'KEYS_ONLY' | 'ALL' | { include: string[] };
}

/** What an event is built from (domain/events.ts eventOfItem), copied into the feed indexes. */
const FEED_ATTRIBUTES = [
  'entity',
  'txn',
  'event',
  'id',
  'createdAt',
  'enrolledAt',
  'enrolledBy',
  'enrolledVia',
];

export const tableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** TTL attribute (epoch seconds): idempotency records of non-ledger requests expire after it. */
  timeToLiveAttribute: 'ttl',
  /** The stream carries each inserted ledger entry to the event publisher (outbox). */
  stream: 'NEW_IMAGE',
  globalSecondaryIndexes: [
    {
      // Member history (newest first) and, filtered, a partner's view of it; the rewards catalogue.
      // Only the entities' API views and the filtered attributes are copied, keeping writes small.
      name: 'gsi1',
      partitionKey: 'gsi1pk',
      sortKey: 'gsi1sk',
      projection: { include: ['txn', 'type', 'reward'] },
    },
    {
      // Lookup of a ledger entry, redemption or API key by its public id.
      name: 'gsi2',
      partitionKey: 'gsi2pk',
      sortKey: 'gsi2sk',
      projection: 'KEYS_ONLY',
    },
    {
      // A member's history at one partner: a partner key's view, which never reads (or points its
      // cursor at) another partner's entries.
      name: 'gsi3',
      partitionKey: 'gsi3pk',
      sortKey: 'gsi3sk',
      projection: { include: ['txn', 'type'] },
    },
    // The due indexes: sparse, sharded by member, sorted by the date something falls due, so a job
    // reads what is due and nothing else (never a scan, never every member). See due.ts.
    {
      // Members by the expiry date of their soonest lot (expire-points).
      name: 'gsi4',
      partitionKey: 'gsi4pk',
      sortKey: 'gsi4sk',
      projection: 'KEYS_ONLY',
    },
    {
      // Members by their soonest lot not yet noticed (expire-points' points.expiring notices).
      name: 'gsi5',
      partitionKey: 'gsi5pk',
      sortKey: 'gsi5sk',
      projection: 'KEYS_ONLY',
    },
    {
      // Members by their soonest pending availableAt (mature-pending); held redemptions by hold
      // expiry (release-expired-holds); subscriptions by their next transition or monthly bonus
      // (subscription-renewals). Each kind has its own partitions (DUE#<kind>#<shard>).
      name: 'gsi6',
      partitionKey: 'gsi6pk',
      sortKey: 'gsi6sk',
      projection: 'KEYS_ONLY',
    },
    {
      // Members above the entry tier by review date (tier-review).
      name: 'gsi7',
      partitionKey: 'gsi7pk',
      sortKey: 'gsi7sk',
      projection: 'KEYS_ONLY',
    },
    {
      // Members by a review date whose downgrade warning is not sent yet (tier-review).
      name: 'gsi8',
      partitionKey: 'gsi8pk',
      sortKey: 'gsi8sk',
      projection: 'KEYS_ONLY',
    },
    // The events feed (GET /v1/events): every item that carries an event (ledger entry, outbox item,
    // member), by event id, over 16 shards so 3,000 events/s spread below a partition's 1,000
    // writes/s; read by merging the shards in id order. Only what `eventOfItem` reads is copied.
    { name: 'gsi9', partitionKey: 'gsi9pk', sortKey: 'gsi9sk', projection: { include: FEED_ATTRIBUTES } },
    // The same, per partner, for partner keys with `events:read` (events with a partnerId).
    { name: 'gsi10', partitionKey: 'gsi10pk', sortKey: 'gsi10sk', projection: { include: FEED_ATTRIBUTES } },
    // Scored members by churn band (16 shards) and CLV, highest first: GET /v1/analytics/members
    // pages an audience without a scan. Written by the churn scan with the scores, which it copies.
    { name: 'gsi11', partitionKey: 'gsi11pk', sortKey: 'gsi11sk', projection: { include: ['id', 'churn'] } },
  ] as IndexDefinition[],
} as const;

export const keyAttributes = [
  'pk',
  'sk',
  'gsi1pk',
  'gsi1sk',
  'gsi2pk',
  'gsi2sk',
  'gsi3pk',
  'gsi3sk',
  'gsi4pk',
  'gsi4sk',
  'gsi5pk',
  'gsi5sk',
  'gsi6pk',
  'gsi6sk',
  'gsi7pk',
  'gsi7sk',
  'gsi8pk',
  'gsi8sk',
  'gsi9pk',
  'gsi9sk',
  'gsi10pk',
  'gsi10sk',
  'gsi11pk',
  'gsi11sk',
] as const;

/** Input for `CreateTable` (local runtime and tests). On AWS the CDK construct creates the table. */
export function createTableInput(tableName: string, options: { stream?: boolean } = {}) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: keyAttributes.map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: tableDefinition.globalSecondaryIndexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection:
        typeof index.projection === 'string'
          ? { ProjectionType: index.projection }
          : { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: index.projection.include },
    })),
    // Without a stream only for tests that read none: DynamoDB Local keeps every stream record of
    // the process and slows every later write as they pile up (16x after 100,000 records).
    ...(options.stream === false
      ? {}
      : { StreamSpecification: { StreamEnabled: true, StreamViewType: tableDefinition.stream } }),
  };
}
