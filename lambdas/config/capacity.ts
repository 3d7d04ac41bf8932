/**
 * Shard counts a deployment may raise where a ceiling is near (docs/capacity.md). Every function
 * must see the same values (CDK sets them on all of them): readers read shards 0..n−1, so a count
 * may only ever be raised, never lowered, on a table that holds data.
 */

/** An integer from the environment within [1, max], or the default. */
function shardCount(name: string, fallback: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`Invalid environment: ${name} must be an integer from 1 to ${max}, not ${raw}`);
  }
  return value;
}

/**
 * Items each counter is spread over, by member: the report counters (per partner and day) and the
 * KPI counters (per month, each shard a partition of its own): LOYALTY_COUNTER_SHARDS, default 64.
 * At 1,000 earns/s at one partner an item then takes ~16 transactions/s (decisions §52).
 */
export const COUNTER_SHARDS = shardCount('LOYALTY_COUNTER_SHARDS', 64, 256);

/**
 * Partitions the report counters' shards are spread over (shard mod this), per partner and month:
 * LOYALTY_COUNTER_PARTITIONS, default 8. A report reads a month with one Query per partition; at
 * 1,000 earns/s at one partner each takes ~250 WCU/s of its 1,000 (decisions §52).
 */
export const COUNTER_PARTITIONS = Math.min(COUNTER_SHARDS, shardCount('LOYALTY_COUNTER_PARTITIONS', 8, 64));

/**
 * Copies of the program item and of each partner item, each its own partition, one read per
 * request chosen by the member: LOYALTY_CONFIG_COPIES, default 8. Every earn reads both; 3,000
 * earns/s then put ~375 RCU/s on each copy instead of 3,000 on one item (decisions §52).
 */
export const CONFIG_COPIES = shardCount('LOYALTY_CONFIG_COPIES', 8, 64);
