/**
 * Partner settlement: what each partner owes the coalition for the points it issued (funding),
 * what the coalition owes it for the points redeemed at it (reimbursement), and the net. Money
 * was fixed at each movement with the partner's rate at that moment, so a later rate change never
 * rewrites a past period.
 */
export interface SettlementCounters {
  issuedPoints: number;
  campaignPoints: number;
  fundingMinor: number;
  reversedPoints: number;
  reversedFundingMinor: number;
  redeemedPoints: number;
  reimbursementMinor: number;
  refundedPoints: number;
  refundedReimbursementMinor: number;
}

export interface SettlementLine {
  issuedPoints: number;
  /** Of issuedPoints, those the partner's own campaigns added (it funds them, like the rest). */
  campaignPoints: number;
  reversedPoints: number;
  /** Funding net of reversals: what the partner owes the coalition. */
  owedToCoalitionMinor: number;
  redeemedPoints: number;
  refundedPoints: number;
  /** Reimbursement for points redeemed at the partner, net of refunds: what the coalition owes it. */
  owedToPartnerMinor: number;
  /** owedToCoalition − owedToPartner: positive means the partner pays the coalition. */
  netMinor: number;
}

export const zeroCounters = (): SettlementCounters => ({
  issuedPoints: 0,
  campaignPoints: 0,
  fundingMinor: 0,
  reversedPoints: 0,
  reversedFundingMinor: 0,
  redeemedPoints: 0,
  reimbursementMinor: 0,
  refundedPoints: 0,
  refundedReimbursementMinor: 0,
});

/**
 * A partner's line from its exact (BigInt) counters. `undefined` when a figure is beyond 2^53,
 * which a JSON number cannot carry exactly: the caller asks for a shorter period.
 */
export function settlementLine(
  counters: Record<keyof SettlementCounters, bigint>,
): SettlementLine | undefined {
  const owedToCoalition = counters.fundingMinor - counters.reversedFundingMinor;
  const owedToPartner = counters.reimbursementMinor - counters.refundedReimbursementMinor;
  return exactLine({
    issuedPoints: counters.issuedPoints,
    campaignPoints: counters.campaignPoints,
    reversedPoints: counters.reversedPoints,
    owedToCoalitionMinor: owedToCoalition,
    redeemedPoints: counters.redeemedPoints,
    refundedPoints: counters.refundedPoints,
    owedToPartnerMinor: owedToPartner,
    netMinor: owedToCoalition - owedToPartner,
  });
}

/** Totals across partners: each figure is the sum of the partners' figures, so the report balances. */
export function totalOf(lines: SettlementLine[]): SettlementLine | undefined {
  const total = Object.fromEntries(LINE_FIELDS.map((name) => [name, 0n])) as Record<
    keyof SettlementLine,
    bigint
  >;
  for (const line of lines) for (const name of LINE_FIELDS) total[name] += BigInt(line[name]);
  return exactLine(total);
}

/** A settlement line's figures, in report (and CSV column) order. */
export const LINE_FIELDS = [
  'issuedPoints',
  'campaignPoints',
  'reversedPoints',
  'owedToCoalitionMinor',
  'redeemedPoints',
  'refundedPoints',
  'owedToPartnerMinor',
  'netMinor',
] as const satisfies readonly (keyof SettlementLine)[];

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function exactLine(line: Record<keyof SettlementLine, bigint>): SettlementLine | undefined {
  if (LINE_FIELDS.some((name) => line[name] > SAFE || line[name] < -SAFE)) return undefined;
  return Object.fromEntries(
    LINE_FIELDS.map((name) => [name, Number(line[name])]),
  ) as unknown as SettlementLine;
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
