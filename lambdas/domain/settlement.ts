/**
 * Partner settlement: what each partner owes the coalition for the points it issued (funding),
 * what the coalition owes it for the points redeemed at it (reimbursement), and the net. Money
 * was fixed at each movement with the partner's rate at that moment, so a later rate change never
 * rewrites a past period.
 */
export interface SettlementCounters {
  issuedPoints: number;
  fundingMinor: number;
  reversedPoints: number;
  reversedFundingMinor: number;
  redeemedPoints: number;
  reimbursementMinor: number;
}

export interface SettlementLine {
  issuedPoints: number;
  reversedPoints: number;
  /** Funding net of reversals: what the partner owes the coalition. */
  owedToCoalitionMinor: number;
  redeemedPoints: number;
  /** Reimbursement for points redeemed at the partner: what the coalition owes it. */
  owedToPartnerMinor: number;
  /** owedToCoalition − owedToPartner: positive means the partner pays the coalition. */
  netMinor: number;
}

export const zeroCounters = (): SettlementCounters => ({
  issuedPoints: 0,
  fundingMinor: 0,
  reversedPoints: 0,
  reversedFundingMinor: 0,
  redeemedPoints: 0,
  reimbursementMinor: 0,
});

/** Add one aggregate shard's counters (missing counters are 0). */
export function addCounters(
  into: SettlementCounters,
  shard: Partial<Record<keyof SettlementCounters, number>>,
) {
  for (const name of Object.keys(into) as (keyof SettlementCounters)[]) into[name] += shard[name] ?? 0;
}

export function settlementLine(counters: SettlementCounters): SettlementLine {
  const owedToCoalitionMinor = counters.fundingMinor - counters.reversedFundingMinor;
  const owedToPartnerMinor = counters.reimbursementMinor;
  return {
    issuedPoints: counters.issuedPoints,
    reversedPoints: counters.reversedPoints,
    owedToCoalitionMinor,
    redeemedPoints: counters.redeemedPoints,
    owedToPartnerMinor,
    netMinor: owedToCoalitionMinor - owedToPartnerMinor,
  };
}

/** Totals across partners: each figure is the sum of the partners' figures, so the report balances. */
export function totalOf(lines: SettlementLine[]): SettlementLine {
  const total: SettlementLine = {
    issuedPoints: 0,
    reversedPoints: 0,
    owedToCoalitionMinor: 0,
    redeemedPoints: 0,
    owedToPartnerMinor: 0,
    netMinor: 0,
  };
  for (const line of lines)
    for (const name of Object.keys(total) as (keyof SettlementLine)[]) total[name] += line[name];
  return total;
}

/** The calendar months a [from, to] day range touches (`YYYY-MM`). */
export function monthsBetween(from: string, to: string): string[] {
  const months: string[] = [];
  let year = Number(from.slice(0, 4));
  let month = Number(from.slice(5, 7));
  const last = to.slice(0, 7);
  for (;;) {
    const current = `${year}-${String(month).padStart(2, '0')}`;
    months.push(current);
    if (current >= last) return months;
    month++;
    if (month > 12) {
      month = 1;
      year++;
    }
  }
}
