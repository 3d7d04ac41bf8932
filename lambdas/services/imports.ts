/**
 * POST /v1/imports/transactions [admin]: historical purchases, as NDJSON or CSV, for the churn
 * model (and, with `?points=true`, for points). Each line is validated on its own; members are
 * found by (partner, externalRef) or created on first sight; a purchase is imported once per
 * (partner, orderRef), so importing a file again changes nothing.
 *
 * History-only imports write per customer, not per purchase, and many customers per transaction:
 * a new customer is its member item (with the purchase history folded in; its insert is the
 * `member.enrolled` event) and its externalRef guard (which records the orderRefs imported); a known
 * customer is an
 * update of its history at the version read and the guard's new orderRefs. Everything a
 * customer's lines change commits together, so a crash or a retry never counts a purchase twice.
 */
import { createHash } from 'node:crypto';
import { parseCsv } from '../domain/csv.ts';
import { DomainError, ValidationError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { emptyMemberPoints } from '../domain/member-ledger.ts';
import { type PurchaseHistory, recordPurchase } from '../domain/purchase-history.ts';
import { MAX_FUTURE_SKEW_MS, toUtc } from '../domain/time.ts';
import { canonicalJson } from '../http/middlewares/idempotency-key.ts';
import { fieldProblems } from '../http/middlewares/validate-input.ts';
import { JsonSyntaxError, parseStrictJson } from '../http/strict-json.ts';
import { MAX_REJECTED_LISTED, type PurchaseLine, purchaseLine } from '../schemas/imports.ts';
import type { Partner } from '../schemas/partners.ts';
import { addImportedOrders, putImportGuard } from '../store/import-store.ts';
import { keys } from '../store/keys.ts';
import {
  batchGet,
  type MemberRecord,
  memberFromItem,
  putNewMember,
  setPurchases,
} from '../store/member-store.ts';
import { allPartners } from '../store/partner-store.ts';
import { getProgram, type ProgramRecord } from '../store/program-store.ts';
import { type TransactItem, TransactionCancelledError, transactWrite } from '../store/transactions.ts';
import { type RequestContext, respond, type UseCaseResponse, withinDeadline } from './context.ts';
import { earnPoints } from './earn.ts';
import { jitter } from './retry.ts';

interface Accepted extends PurchaseLine {
  line: number;
}

interface Rejected {
  line: number;
  problem: string;
}

const CSV_COLUMNS = [
  'externalRef',
  'partnerId',
  'amountMinor',
  'currency',
  'occurredAt',
  'orderRef',
] as const;

export async function importTransactions(
  ctx: RequestContext,
  text: string,
  options: { points: boolean },
): Promise<UseCaseResponse> {
  if (text.trim() === '') {
    throw new ValidationError([{ path: 'body', message: 'no lines: send NDJSON or CSV with a header row' }]);
  }
  const [program, partners] = await Promise.all([getProgram(ctx.store), partnersById(ctx)]);
  const { accepted, rejected } = validateLines(ctx, text, program, partners);
  const customers = byCustomer(accepted);
  const outcome = options.points
    ? await importWithPoints(ctx, customers, program)
    : await importHistory(ctx, customers, program);
  return respond(200, {
    id: newId('imp', Date.parse(ctx.now)),
    complete: outcome.complete,
    accepted: accepted.length,
    imported: outcome.imported,
    alreadyImported: outcome.skipped,
    membersCreated: outcome.membersCreated,
    rejectedCount: rejected.length + outcome.refused.length,
    rejected: [...rejected, ...outcome.refused].sort((a, b) => a.line - b.line).slice(0, MAX_REJECTED_LISTED),
  });
}

async function partnersById(ctx: RequestContext): Promise<Map<string, Partner>> {
  return new Map((await allPartners(ctx.store)).map((partner) => [partner.id, partner]));
}

// ─── Lines ──────────────────────────────────────────────────────────────────────────────────────

/** Parse (NDJSON, or CSV with a header row) and validate every line on its own. */
function validateLines(
  ctx: RequestContext,
  text: string,
  program: ProgramRecord,
  partners: Map<string, Partner>,
): { accepted: Accepted[]; rejected: Rejected[] } {
  const rejected: Rejected[] = [];
  const accepted: Accepted[] = [];
  const seen = new Map<string, number>();
  for (const { line, value, problem } of rawLines(text)) {
    if (problem) {
      rejected.push({ line, problem });
      continue;
    }
    const parsed = purchaseLine.safeParse(value);
    if (!parsed.success) {
      rejected.push({ line, problem: describe(fieldProblems('body', parsed.error)) });
      continue;
    }
    const purchase = { ...parsed.data, occurredAt: toUtc(parsed.data.occurredAt) };
    const refusal = refusalOf(ctx, purchase, program, partners, seen);
    if (refusal) rejected.push({ line, problem: refusal });
    else {
      seen.set(`${purchase.partnerId}#${purchase.orderRef}`, line);
      accepted.push({ ...purchase, line });
    }
  }
  return { accepted, rejected };
}

const describe = (problems: { path: string; message: string }[]) =>
  problems.map((p) => `${p.path.replace(/^body\.?/, '') || 'line'}: ${p.message}`).join('; ');

function refusalOf(
  ctx: RequestContext,
  purchase: PurchaseLine,
  program: ProgramRecord,
  partners: Map<string, Partner>,
  seen: Map<string, number>,
): string | undefined {
  if (!partners.has(purchase.partnerId)) return `partnerId: no partner ${purchase.partnerId}`;
  if (purchase.currency !== program.currency)
    return `currency: the program's currency is ${program.currency}`;
  if (Date.parse(purchase.occurredAt) > Date.parse(ctx.now) + MAX_FUTURE_SKEW_MS) {
    return 'occurredAt: must not be more than 5 minutes in the future';
  }
  const earlier = seen.get(`${purchase.partnerId}#${purchase.orderRef}`);
  if (earlier !== undefined)
    return `orderRef: ${purchase.orderRef} is already on line ${earlier} of this import`;
  return undefined;
}

/** The lines of the body as values to validate, or the problem that makes one unreadable. */
function* rawLines(text: string): Generator<{ line: number; value?: unknown; problem?: string }> {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trimStart().startsWith('{')) {
    const lines = body.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const content = (lines[i] as string).replace(/\r$/, '');
      if (content.trim() === '') continue;
      try {
        const { value, problems } = parseStrictJson(content, 'line');
        yield problems.length > 0 ? { line: i + 1, problem: describe(problems) } : { line: i + 1, value };
      } catch (error) {
        if (!(error instanceof JsonSyntaxError)) throw error;
        yield { line: i + 1, problem: `not valid JSON: ${error.message}` };
      }
    }
    return;
  }
  const [header, ...records] = parseCsv(body);
  if (!header) return;
  const missing = CSV_COLUMNS.filter((column) => !header.fields.includes(column));
  const unknown = header.fields.filter((column) => !(CSV_COLUMNS as readonly string[]).includes(column));
  if (missing.length > 0 || unknown.length > 0) {
    throw new ValidationError([
      {
        path: 'body',
        message: `the CSV header must name the columns ${CSV_COLUMNS.join(',')}${missing.length ? ` (missing: ${missing.join(', ')})` : ''}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`,
      },
    ]);
  }
  for (const { line, fields } of records) {
    if (fields.length !== header.fields.length) {
      yield { line, problem: `has ${fields.length} fields; the header names ${header.fields.length}` };
      continue;
    }
    const value: Record<string, unknown> = {};
    header.fields.forEach((column, i) => {
      const field = fields[i] as string;
      value[column] = column === 'amountMinor' && /^[0-9]{1,15}$/.test(field) ? Number(field) : field;
    });
    yield { line, value };
  }
}

// ─── Customers ──────────────────────────────────────────────────────────────────────────────────

interface Customer {
  partnerId: string;
  externalRef: string;
  lines: Accepted[];
}

function byCustomer(accepted: Accepted[]): Customer[] {
  const customers = new Map<string, Customer>();
  for (const line of accepted) {
    const key = JSON.stringify([line.partnerId, line.externalRef]);
    const customer = customers.get(key) ?? {
      partnerId: line.partnerId,
      externalRef: line.externalRef,
      lines: [],
    };
    customer.lines.push(line);
    customers.set(key, customer);
  }
  return [...customers.values()];
}

interface Outcome {
  /** False when the call's time ran out first: sending the same lines again continues. */
  complete: boolean;
  imported: number;
  /** Lines found imported before (counted as the work went; exact when complete). */
  skipped: number;
  membersCreated: number;
  refused: Rejected[];
}

/** What one customer's new lines write, and how many members and purchases that is. */
interface Unit {
  items: TransactItem[];
  customer: Customer;
  imported: number;
  created: boolean;
}

/** BatchGet in chunks of 100 keys (the API's limit). */
async function readAll(ctx: RequestContext, itemKeys: { pk: string; sk: string }[]) {
  const found = new Map<string, Record<string, unknown>>();
  const chunks = [];
  for (let i = 0; i < itemKeys.length; i += 100) chunks.push(itemKeys.slice(i, i + 100));
  await inParallel(chunks, 4, async (chunk) => {
    for (const [key, item] of await batchGet(ctx.store, chunk)) found.set(key, item);
  });
  return found;
}

const keyOf = (key: { pk: string; sk: string }) => `${key.pk}|${key.sk}`;

/** Plan each customer's writes from what the table holds now (guards, members, live orders). */
async function planUnits(
  ctx: RequestContext,
  customers: Customer[],
  program: ProgramRecord,
): Promise<Unit[]> {
  const guards = await readAll(
    ctx,
    customers.map((c) => keys.externalRef(c.partnerId, c.externalRef)),
  );
  // A known customer's lines not imported before; only these need reading further.
  const known = customers.flatMap((customer) => {
    const guard = guards.get(keyOf(keys.externalRef(customer.partnerId, customer.externalRef)));
    if (!guard) return [];
    const imported = (guard.importedOrders as Set<string> | undefined) ?? new Set<string>();
    const fresh = customer.lines.filter((line) => !imported.has(line.orderRef));
    return fresh.length > 0 ? [{ customer, guard, fresh }] : [];
  });
  // Known members may have earned some of these orders live: their order guards say so.
  const [members, orders] = await Promise.all([
    readAll(
      ctx,
      [...new Set(known.map(({ guard }) => String(guard.memberId)))].map((id) => keys.member(id)),
    ),
    readAll(
      ctx,
      known.flatMap(({ fresh }) => fresh.map((line) => keys.order(line.partnerId, line.orderRef))),
    ),
  ]);
  const freshOf = new Map(known.map(({ customer, fresh }) => [customer, fresh]));
  const units: Unit[] = [];
  for (const customer of customers) {
    const guard = guards.get(keyOf(keys.externalRef(customer.partnerId, customer.externalRef)));
    if (!guard) {
      units.push(newCustomerUnit(ctx, customer, program));
      continue;
    }
    const fresh = (freshOf.get(customer) ?? []).filter(
      (line) => !orders.has(keyOf(keys.order(line.partnerId, line.orderRef))),
    );
    const item = members.get(keyOf(keys.member(String(guard.memberId))));
    if (fresh.length === 0 || !item) continue;
    const member = memberFromItem(item);
    if (member.status !== 'active') continue;
    units.push({
      customer,
      imported: fresh.length,
      created: false,
      items: [
        setPurchases(ctx.store, member, fold(member.purchases ?? null, fresh), ctx.now),
        addImportedOrders(
          ctx.store,
          customer.partnerId,
          customer.externalRef,
          member.id,
          fresh.map((line) => line.orderRef),
        ),
      ],
    });
  }
  return units;
}

const fold = (history: PurchaseHistory | null, lines: Accepted[]) =>
  lines.reduce<PurchaseHistory | null>(
    (acc, line) => recordPurchase(acc, line.occurredAt, line.amountMinor),
    history,
  ) as PurchaseHistory;

/**
 * A customer seen for the first time: a member enrolled at its first purchase, with its history
 * (none when the purchases are to be earned: the earns record them).
 */
function newCustomerUnit(
  ctx: RequestContext,
  customer: Customer,
  program: ProgramRecord,
  withHistory = true,
): Unit {
  const enrolledAt = customer.lines.map((line) => line.occurredAt).sort()[0] as string;
  const history = withHistory ? customer.lines : [];
  const member: MemberRecord = {
    id: newId('mem', Date.parse(ctx.now)),
    status: 'active',
    version: 0,
    points: emptyMemberPoints(program.tiers[0]?.code ?? 'member', enrolledAt),
    email: null,
    name: null,
    channel: null,
    externalRefs: { [customer.partnerId]: customer.externalRef },
    enrolledAt,
    createdAt: ctx.now,
    updatedAt: ctx.now,
    erasedAt: null,
    indexed: {},
    // Its insert is the member.enrolled event (see event-publisher.ts).
    enrolledBy: customer.partnerId,
    enrolledVia: 'import',
    ...(history.length > 0 ? { purchases: fold(null, history) } : {}),
  };
  return {
    customer,
    imported: history.length,
    created: true,
    items: [
      putImportGuard(
        ctx.store,
        customer.partnerId,
        customer.externalRef,
        member.id,
        history.map((line) => line.orderRef),
      ),
      putNewMember(ctx.store, member),
    ],
  };
}

/** Transactions of at most 100 items, a customer's items never split. */
const MAX_ITEMS = 100;
const ATTEMPTS = 8;

async function importHistory(
  ctx: RequestContext,
  customers: Customer[],
  program: ProgramRecord,
): Promise<Outcome> {
  let imported = 0;
  let membersCreated = 0;
  let skipped = 0;
  let complete = true;
  let pending = customers;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= ATTEMPTS || !withinDeadline(ctx)) {
      complete = false;
      break;
    }
    if (attempt > 0) await jitter(attempt);
    const units = await planUnits(ctx, pending, program);
    if (attempt === 0) {
      const lines = pending.reduce((total, customer) => total + customer.lines.length, 0);
      skipped = lines - units.reduce((total, unit) => total + unit.imported, 0);
    }
    const batches: Unit[][] = [];
    let batch: Unit[] = [];
    let size = 0;
    for (const unit of units) {
      if (size + unit.items.length > MAX_ITEMS) {
        batches.push(batch);
        batch = [];
        size = 0;
      }
      batch.push(unit);
      size += unit.items.length;
    }
    if (batch.length > 0) batches.push(batch);
    const retry: Customer[] = [];
    await inParallel(batches, 4, async (units) => {
      // Out of time: what is left goes with the next call (the same lines, sent again).
      if (!withinDeadline(ctx)) {
        complete = false;
        return;
      }
      try {
        await transactWrite(
          ctx.store,
          units.flatMap((unit) => unit.items),
        );
        for (const unit of units) {
          imported += unit.imported;
          if (unit.created) membersCreated += 1;
        }
      } catch (error) {
        if (!(error instanceof TransactionCancelledError)) throw error;
        // A condition failed (a concurrent import or earn moved a customer): plan those again; a
        // conflict cancels everything, so every customer of the batch goes again.
        retry.push(...units.map((unit) => unit.customer));
      }
    });
    pending = complete ? retry : [];
  }
  return { complete, imported, skipped, membersCreated, refused: [] };
}

/**
 * `?points=true`: each new purchase goes through the earn use case (its rules, its order guard),
 * under an idempotency key derived from (partner, orderRef), so a re-import replays; members are
 * created first as in a history import, with no history (the earns record it).
 */
async function importWithPoints(
  ctx: RequestContext,
  customers: Customer[],
  program: ProgramRecord,
): Promise<Outcome> {
  const created = await createMissingMembers(ctx, customers, program);
  const guards = await readAll(
    ctx,
    customers.map((c) => keys.externalRef(c.partnerId, c.externalRef)),
  );
  let imported = 0;
  let replayed = 0;
  let complete = true;
  const refused: Rejected[] = [];
  const lines = customers.flatMap((customer) => {
    const guard = guards.get(keyOf(keys.externalRef(customer.partnerId, customer.externalRef)));
    // Orders imported before as history only stay history: they are not earned now.
    const history = (guard?.importedOrders as Set<string> | undefined) ?? new Set<string>();
    return customer.lines
      .filter((line) => !history.has(line.orderRef))
      .map((line) => ({ line, memberId: String(guard?.memberId) }));
  });
  await inParallel(lines, 4, async ({ line, memberId }) => {
    if (!withinDeadline(ctx)) {
      complete = false;
      return;
    }
    const request = {
      partnerId: line.partnerId,
      amountMinor: line.amountMinor,
      currency: line.currency,
      orderRef: line.orderRef,
      occurredAt: line.occurredAt,
    };
    try {
      const earned = await earnPoints(
        {
          ...ctx,
          idempotency: {
            scope: '_import',
            key: `${line.partnerId}#${line.orderRef}`,
            requestHash: createHash('sha256')
              .update(canonicalJson({ memberId, ...request }))
              .digest('base64url'),
          },
        },
        memberId,
        request,
      );
      if (earned.replayed) replayed += 1;
      else imported += 1;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      refused.push({ line: line.line, problem: error.message });
    }
  });
  const skipped =
    customers.reduce((total, customer) => total + customer.lines.length, 0) - lines.length + replayed;
  return { complete, imported, skipped, membersCreated: created, refused };
}

/** Enrol the customers not seen before (no history: the earns that follow record it). */
async function createMissingMembers(ctx: RequestContext, customers: Customer[], program: ProgramRecord) {
  let created = 0;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const guards = await readAll(
      ctx,
      customers.map((c) => keys.externalRef(c.partnerId, c.externalRef)),
    );
    const missing = customers.filter((c) => !guards.has(keyOf(keys.externalRef(c.partnerId, c.externalRef))));
    if (missing.length === 0) return created;
    const units = missing.map((customer) => newCustomerUnit(ctx, customer, program, false));
    await inParallel(units, 4, async (unit) => {
      try {
        await transactWrite(ctx.store, unit.items);
        created += 1;
      } catch (error) {
        if (!(error instanceof TransactionCancelledError)) throw error;
      }
    });
  }
  return created;
}

async function inParallel<T>(
  items: T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) await work(items[i] as T);
    }),
  );
}
