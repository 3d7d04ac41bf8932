import { csvText } from '../domain/csv.ts';
import { ForbiddenError, NotFoundError, ReportTooLargeError } from '../domain/errors.ts';
import { LINE_FIELDS, type SettlementLine, settlementLine, totalOf } from '../domain/settlement.ts';
import type { Partner } from '../schemas/partners.ts';
import type { SettlementQuery } from '../schemas/reports.ts';
import { allPartners, getPartner } from '../store/partner-store.ts';
import { getProgram } from '../store/program-store.ts';
import { partnerCounters } from '../store/report-store.ts';
import { type RequestContext, respond, type UseCaseResponse } from './context.ts';

/**
 * GET /v1/reports/settlement: per partner, funding owed for points issued (net of reversals),
 * reimbursement owed for points redeemed at it, and the net; totals are the sums, so they balance.
 * Read from the day × partner counters, never from the ledger. A partner key sees only itself.
 */
export async function settlementReport(
  ctx: RequestContext,
  query: SettlementQuery,
): Promise<UseCaseResponse> {
  const own = ctx.principal.role === 'partner' ? ctx.principal.partnerId : null;
  if (own !== null && query.partnerId !== undefined && query.partnerId !== own) {
    throw new ForbiddenError('A partner key reads its own settlement only; omit partnerId or send your own.');
  }
  const partnerId = own ?? query.partnerId;
  const [partners, program] = await Promise.all([partnersOf(ctx, partnerId), getProgram(ctx.store)]);
  const rows = await Promise.all(
    partners.map(async (partner) => ({
      partnerId: partner.id,
      name: partner.name,
      ...exact(settlementLine(await partnerCounters(ctx.store, partner.id, query.from, query.to))),
    })),
  );
  const report = {
    from: query.from,
    to: query.to,
    currency: program.currency,
    partners: rows,
    totals: exact(totalOf(rows)),
  };
  if (query.format === 'csv') {
    return { ...respond(200, null), body: settlementCsv(report), contentType: 'text/csv; charset=utf-8' };
  }
  return respond(200, report);
}

async function partnersOf(ctx: RequestContext, partnerId: string | undefined): Promise<Partner[]> {
  if (partnerId !== undefined) {
    const partner = await getPartner(ctx.store, partnerId);
    if (!partner) throw new NotFoundError(`No partner ${partnerId}.`);
    return [partner];
  }
  return allPartners(ctx.store);
}

/** RFC 4180 CSV with a header row and a TOTAL row; text cells are quoted and formula-neutralised. */
export function settlementCsv(report: {
  from: string;
  to: string;
  currency: string;
  partners: ({ partnerId: string; name: string } & SettlementLine)[];
  totals: SettlementLine;
}): string {
  const header = ['partnerId', 'name', 'currency', 'from', 'to', ...LINE_FIELDS];
  const row = (id: string, name: string, line: SettlementLine) =>
    [
      csvText(id, false),
      csvText(name, true),
      report.currency,
      report.from,
      report.to,
      ...LINE_FIELDS.map((c) => String(line[c])),
    ].join(',');
  return [
    header.join(','),
    ...report.partners.map((line) => row(line.partnerId, line.name, line)),
    row('TOTAL', '', report.totals),
  ]
    .join('\r\n')
    .concat('\r\n');
}

function exact(line: SettlementLine | undefined): SettlementLine {
  if (!line) throw new ReportTooLargeError();
  return line;
}
