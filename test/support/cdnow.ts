import { readFileSync } from 'node:fs';

/** A CDNOW purchase (test/fixtures/cdnow/README.md has the source and its attribution). */
export interface CdnowPurchase {
  customer: string;
  day: string;
  dollars: number;
}

/** CDNOW_sample.txt (customer = the sample id, as in the summary file) or CDNOW_master.txt. */
export function cdnowPurchases(file: 'sample' | 'master'): CdnowPurchase[] {
  const text = readFileSync(`test/fixtures/cdnow/CDNOW_${file}.txt`, 'utf8');
  return text
    .trim()
    .split('\n')
    .filter((line) => /^\s*\d/.test(line))
    .map((line) => {
      const fields = line.trim().split(/\s+/);
      const [customer, date, , dollars] = file === 'sample' ? fields.slice(1) : fields;
      const day = `${date?.slice(0, 4)}-${date?.slice(4, 6)}-${date?.slice(6, 8)}`;
      return { customer: String(Number(customer)), day, dollars: Number(dollars) };
    });
}

/** The purchases as an import's CSV body for one partner (dollars → cents, noon UTC). */
export function cdnowCsv(purchases: CdnowPurchase[], partnerId: string): string {
  const rows = purchases.map(
    (p, i) => `${p.customer},${partnerId},${Math.round(p.dollars * 100)},USD,${p.day}T12:00:00Z,cd-${i + 1}`,
  );
  return `externalRef,partnerId,amountMinor,currency,occurredAt,orderRef\n${rows.join('\n')}\n`;
}
