/**
 * A small purchase history that fits a churn model well away from every risk band's edge, for the
 * HTTP tests that need a fitted model and a scan (npm start, event types). Every date is relative to
 * `day1`, the day the model is fitted and first scanned: scores depend only on the days between
 * purchases and the scan, so the bands below hold for any `day1`.
 *
 * With the default bands (high below 0.3, medium below 0.6) the scan of `day1` finds the regulars,
 * the stopped and the one-timers low and the lapsed high; on `day1 + 1` no band moves by time alone
 * (each pAlive is at least 0.2 from an edge), so a purchase by `lapsed-1` on that day is the only
 * band change (high → low).
 */
const addDays = (day: string, days: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

export interface HistoryPurchase {
  externalRef: string;
  day: string;
  amountMinor: number;
}

/** 22 purchasers, 174 purchases, all before `day1`. */
export function churnHistory(day1: string): HistoryPurchase[] {
  const purchases: HistoryPurchase[] = [];
  let n = 0;
  const buy = (externalRef: string, first: number, count: number, everyDays: number, amountMinor: number) => {
    for (let i = 0; i < count; i++) {
      // Spend varies from visit to visit (0–1,500 on top), so the spend model is determined.
      purchases.push({
        externalRef,
        day: addDays(day1, first + i * everyDays),
        amountMinor: amountMinor + ((n++ * 37) % 11) * 150,
      });
    }
  };
  // Every two weeks for six months, the last visit 3–10 days ago: low.
  for (let i = 0; i < 8; i++) buy(`regular-${i + 1}`, -178 + i, 13, 14, 2_000 + 250 * i);
  // Weekly for seven weeks, five months ago, then nothing: high.
  for (let i = 0; i < 6; i++) buy(`lapsed-${i + 1}`, -177 + i, 7, 7, 1_500 + 200 * i);
  // Every three weeks from February to late May: low.
  for (let i = 0; i < 4; i++) buy(`stopped-${i + 1}`, -136 + 2 * i, 6, 21, 1_800 + 100 * i);
  // Once (no repeat purchase: pAlive is 1): low.
  for (let i = 0; i < 4; i++) buy(`once-${i + 1}`, -150 + 30 * i, 1, 1, 3_000);
  return purchases;
}

export const IMPORT_HEADER = 'externalRef,partnerId,amountMinor,currency,occurredAt,orderRef';

/** Purchases as an import's CSV body for one partner (10:00 UTC; orderRef from the member and day). */
export function historyCsv(purchases: HistoryPurchase[], partnerId: string): string {
  const rows = purchases.map(
    (p) => `${p.externalRef},${partnerId},${p.amountMinor},USD,${p.day}T10:00:00Z,${p.externalRef}-${p.day}`,
  );
  return `${IMPORT_HEADER}\n${rows.join('\n')}\n`;
}
