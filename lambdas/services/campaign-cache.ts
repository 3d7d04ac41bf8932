/**
 * The campaigns an earn considers, cached per process so an earn adds no round trip: one Query of
 * the schedule copies every LOYALTY_CAMPAIGN_CACHE_SECONDS (default 30), and at once after this
 * process wrote a campaign. Another process sees a new or changed campaign within that time
 * (decisions §45). Budgets are never cached: each earn reads its budget shard with the member.
 */
import { addDays, dayOf } from '../domain/time.ts';
import { type CampaignRecord, campaignsEndingAfter } from '../store/campaign-store.ts';
import type { Store } from '../store/client.ts';

/** How late a purchase may be recorded and still get a campaign that has ended since (by occurredAt). */
export const LATE_PURCHASE_DAYS = 31;

const ttlMs = () => {
  const seconds = Number(process.env.LOYALTY_CAMPAIGN_CACHE_SECONDS ?? 30);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 30_000;
};

interface Cached {
  loadedAt: number;
  /** The day the read started from (a new day reads again: older ends drop out). */
  fromDay: string;
  records: Promise<CampaignRecord[]>;
}

const cache = new Map<string, Cached>();

/** Campaigns ending after `LATE_PURCHASE_DAYS` before `now`, active or not (the earn filters). */
export function campaignsForEarn(store: Store, now: string): Promise<CampaignRecord[]> {
  const fromDay = dayOf(addDays(now, -LATE_PURCHASE_DAYS));
  const cached = cache.get(store.tableName);
  if (cached && cached.fromDay === fromDay && performance.now() - cached.loadedAt < ttlMs())
    return cached.records;
  const records = campaignsEndingAfter(store, `${fromDay}T00:00:00.000Z`);
  const entry = { loadedAt: performance.now(), fromDay, records };
  cache.set(store.tableName, entry);
  // A failed read is not kept: the next earn tries again.
  records.catch(() => {
    if (cache.get(store.tableName) === entry) cache.delete(store.tableName);
  });
  return records;
}

/** This process changed a campaign (or a budget ran out): its next earn reads them again. */
export function forgetCampaigns(store: Store): void {
  cache.delete(store.tableName);
}
