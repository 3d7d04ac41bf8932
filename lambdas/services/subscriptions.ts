/**
 * Paid membership: plans (admin) and members' subscriptions. Every change of a subscription is a
 * change of its member (services/member-change.ts): one transaction writes the subscription at the
 * version it was read, the member's position (bonus points, the tier floor), the `bonus` entries,
 * the `subscription.*` events and the report figures, so none of them can happen without the others.
 */
import { createHash } from 'node:crypto';
import { transactionOf } from '../domain/entries.ts';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { MAX_BALANCE, type MemberPoints } from '../domain/member-ledger.ts';
import { applyCredit } from '../domain/movements.ts';
import {
  applyCancel,
  applyPayment,
  applyPlanChange,
  applyResume,
  type BonusCredit,
  benefitsOf,
  figuresDelta,
  nextPayment,
  type PlanLookup,
  paidThrough,
  type Subscription,
  type SubscriptionChange,
  SubscriptionStateError,
  settleSubscription,
  startSubscription,
} from '../domain/subscriptions.ts';
import { applyTierFloor } from '../domain/tiers.ts';
import { canonicalJson } from '../http/middlewares/idempotency-key.ts';
import type {
  CreatePlanBody,
  PaymentBody,
  Plan,
  SubscribeBody,
  SubscriptionView,
  UpdatePlanBody,
  UpdateSubscriptionBody,
} from '../schemas/subscriptions.ts';
import { findReplay } from '../store/idempotency.ts';
import { keys } from '../store/keys.ts';
import type { AggregateDelta } from '../store/ledger-store.ts';
import { batchGet } from '../store/member-store.ts';
import { allPlans, getPlan, listPlans, putNewPlan, termsOf, updatePlan } from '../store/plan-store.ts';
import { getProgram, type ProgramRecord } from '../store/program-store.ts';
import {
  archiveSubscription,
  findSubscription,
  putSubscription,
  putSubscriptionPointer,
  type SubscriptionRecord,
  subscriptionFromItem,
} from '../store/subscription-store.ts';
import type { TransactItem } from '../store/transactions.ts';
import { type RequestContext, respond, type UseCaseResponse } from './context.ts';
import { createResource } from './create-resource.ts';
import {
  commitMemberChange,
  type MemberChangePlan,
  type MemberChangeResult,
  type PlannedEvent,
  writeMemberChange,
} from './member-change.ts';
import {
  assertPartnerActive,
  loadPointsContext,
  type PointsContext,
  partnerOfRequest,
} from './points-context.ts';

// ─── Plans ──────────────────────────────────────────────────────────────────────────────────────

export async function createPlan(ctx: RequestContext, body: CreatePlanBody): Promise<UseCaseResponse> {
  const program = await getProgram(ctx.store);
  assertPlanFits(program, body);
  const plan: Plan = {
    id: body.id,
    name: body.name,
    priceMinor: body.priceMinor,
    currency: body.currency,
    interval: body.interval,
    trialDays: body.trialDays,
    benefits: body.benefits,
    status: 'active',
    createdAt: ctx.now,
    updatedAt: ctx.now,
    retiredAt: null,
  };
  return createResource(
    ctx,
    [putNewPlan(ctx.store, plan)],
    { status: 201, body: plan },
    () => new ConflictError(`A plan with id ${body.id} already exists.`),
  );
}

/** A plan is sold in the program's currency, and its tier floor is one of the program's tiers. */
function assertPlanFits(
  program: ProgramRecord,
  plan: { currency?: string; benefits?: { tierFloor: string | null } },
): void {
  const problems = [];
  if (plan.currency !== undefined && plan.currency !== program.currency) {
    problems.push({ path: 'body.currency', message: `the program's currency is ${program.currency}` });
  }
  const floor = plan.benefits?.tierFloor;
  if (floor != null && !program.tiers.some((tier) => tier.code === floor)) {
    const codes = program.tiers.map((tier) => tier.code).join(', ');
    problems.push({
      path: 'body.benefits.tierFloor',
      message: `no tier ${floor} (the program has: ${codes})`,
    });
  }
  if (problems.length > 0) throw new ValidationError(problems);
}

export async function readPlan(ctx: RequestContext, planId: string): Promise<UseCaseResponse> {
  const plan = await getPlan(ctx.store, planId);
  if (!plan) throw new NotFoundError(`No plan ${planId}.`);
  return respond(200, plan);
}

export async function listPlansFor(
  ctx: RequestContext,
  query: { limit: number; cursor?: string },
): Promise<UseCaseResponse> {
  return respond(200, await listPlans(ctx.store, query.limit, query.cursor));
}

/** PATCH /v1/plans/{id}: a new price or new benefits reach each subscriber from its next period. */
export async function changePlan(
  ctx: RequestContext,
  planId: string,
  changes: UpdatePlanBody,
): Promise<UseCaseResponse> {
  if (changes.benefits) assertPlanFits(await getProgram(ctx.store), { benefits: changes.benefits });
  const retiredAt =
    changes.status === undefined ? {} : { retiredAt: changes.status === 'retired' ? ctx.now : null };
  return respond(200, await updatePlan(ctx.store, planId, { ...changes, ...retiredAt }, ctx.now));
}

// ─── Subscriptions ──────────────────────────────────────────────────────────────────────────────

type SubscriptionContext = PointsContext & { plans: Map<string, Plan> };

/** The member, program, partner and latest subscription in one BatchGet, and the plans beside it. */
async function loadSubscriptionContext(
  ctx: RequestContext,
  memberId: string,
  partnerId: string | null,
  known?: { program: ProgramRecord; plans: Map<string, Plan> },
): Promise<SubscriptionContext> {
  const [loaded, plans] = await Promise.all([
    loadPointsContext(ctx, { memberId, partnerId, subscription: true }, known?.program),
    known ? known.plans : allPlans(ctx.store),
  ]);
  return { ...loaded, plans };
}

const lookupIn =
  (plans: Map<string, Plan>): PlanLookup =>
  (planId) => {
    const plan = plans.get(planId);
    return plan ? termsOf(plan) : undefined;
  };

const policyOf = (program: ProgramRecord) => ({ graceDays: program.subscriptionGraceDays });

/** POST /v1/members/{id}/subscriptions: one live subscription per member (a second is 409). */
export async function subscribe(
  ctx: RequestContext,
  memberId: string,
  body: SubscribeBody,
): Promise<UseCaseResponse> {
  const partnerId = partnerOfRequest(ctx.principal, body.partnerId, false);
  const subscriptionId = newId('sub', Date.parse(ctx.now));
  return commitMemberChange(ctx, {
    memberId,
    load: () => loadSubscriptionContext(ctx, memberId, partnerId),
    plan: (loaded) => {
      assertPartnerActive(loaded.partner, partnerId);
      const plan = loaded.plans.get(body.planId);
      if (!plan) throw new ValidationError([{ path: 'body.planId', message: `no plan ${body.planId}` }]);
      if (plan.status === 'retired') {
        throw new ConflictError(`Plan ${plan.id} is retired: it takes no new subscribers.`);
      }
      const policy = policyOf(loaded.program);
      // The previous subscription as it stands now: ending it may itself be due (an expiry).
      const previous = loaded.subscription
        ? settleSubscription(loaded.subscription.subscription, ctx.now, lookupIn(loaded.plans), policy)
        : undefined;
      if (previous && benefitsOf(previous.subscription)) {
        throw new SubscriptionStateError(
          previous.subscription,
          `member ${memberId} already has this live subscription; cancel it or change its plan instead.`,
        );
      }
      const trialDays = previous?.subscription.trialUsed ? 0 : plan.trialDays;
      if (trialDays === 0 && body.paymentRef === undefined) {
        throw new ValidationError([
          {
            path: 'body.paymentRef',
            message: `required: plan ${plan.id} has no trial${plan.trialDays > 0 ? ' left for this member' : ''}, so its first period is paid at signup`,
          },
        ]);
      }
      const started = startSubscription({
        id: subscriptionId,
        memberId,
        partnerId,
        terms: termsOf(plan),
        trialDays,
        previous: previous?.subscription,
        paymentRef: body.paymentRef,
        now: ctx.now,
        policy,
      });
      const items: TransactItem[] = [putSubscriptionPointer(ctx.store, started.subscription)];
      if (previous) items.push(archiveSubscription(ctx.store, previous.subscription));
      return subscriptionPlan(ctx, loaded, {
        at: ctx.now,
        before: loaded.subscription,
        // The previous subscription's last transitions (and bonuses) first, then the new one's.
        steps: previous ? [previous, started] : [started],
        items,
        revenueMinor: started.subscription.lastPayment?.amountMinor ?? 0,
        status: 201,
        response: (subscription) => ({ subscription: viewOf(subscription, loaded) }),
      });
    },
  });
}

/** Where a subscription is, for a caller who may act on it (a partner: those it sold). */
async function locate(ctx: RequestContext, subscriptionId: string, acting: boolean) {
  const found = await findSubscription(ctx.store, subscriptionId);
  if (!found) throw new NotFoundError(`No subscription ${subscriptionId}.`);
  return {
    ...found,
    /** Checks, once the subscription is read, that this caller may act on it. */
    assertMayAct: (subscription: Subscription) => {
      const own = ctx.principal.role === 'partner' ? ctx.principal.partnerId : null;
      if (acting && own !== null && subscription.partnerId !== own) {
        // Another partner's sale does not exist for this key, as another partner's reward.
        throw new NotFoundError(`No subscription ${subscriptionId}.`);
      }
    },
  };
}

/**
 * A change of one subscription by id: settled to now, then `step`. An ended subscription a later
 * one replaced only answers 409 (its final state is in the problem).
 */
async function changeById(
  ctx: RequestContext,
  subscriptionId: string,
  step: (
    settled: Subscription,
    loaded: SubscriptionContext,
  ) => SubscriptionChange & { revenueMinor?: number },
  respondWith: {
    status: number;
    response: (subscription: Subscription, loaded: SubscriptionContext) => Record<string, unknown>;
  },
): Promise<UseCaseResponse> {
  const where = await locate(ctx, subscriptionId, true);
  if (where.archived) {
    where.assertMayAct(where.archived);
    // A retried request that succeeded before the replacement answers as it did then.
    const replay = ctx.idempotency && (await findReplay(ctx.store, ctx.idempotency));
    if (replay) return { ...replay, replayed: true };
    throw new SubscriptionStateError(where.archived, 'a later subscription of its member replaced it.');
  }
  return commitMemberChange(ctx, {
    memberId: where.memberId,
    load: () => loadSubscriptionContext(ctx, where.memberId, null),
    plan: (loaded) => {
      const record = loaded.subscription;
      if (!record || record.subscription.id !== subscriptionId) {
        // Replaced between the two reads: ended, as above.
        throw new ConflictError(`Subscription ${subscriptionId} has ended; a later one replaced it.`);
      }
      where.assertMayAct(record.subscription);
      const lookup = lookupIn(loaded.plans);
      const settled = settleSubscription(record.subscription, ctx.now, lookup, policyOf(loaded.program));
      const applied = step(settled.subscription, loaded);
      return subscriptionPlan(ctx, loaded, {
        at: ctx.now,
        before: record,
        steps: [settled, applied],
        revenueMinor: applied.revenueMinor ?? 0,
        status: respondWith.status,
        response: (subscription) => respondWith.response(subscription, loaded),
      });
    },
  });
}

/**
 * POST /v1/subscriptions/{id}/payments: a payment the PSP reports. Idempotent per (subscription,
 * paymentRef, status): the PSP's retried webhook is answered as the first time, whatever the
 * Idempotency-Key header; a failure reported after its success is refused.
 */
export async function recordPayment(
  ctx: RequestContext,
  subscriptionId: string,
  body: PaymentBody,
): Promise<UseCaseResponse> {
  const request = { subscriptionId, ...body };
  const paymentCtx: RequestContext = {
    ...ctx,
    idempotency: {
      scope: '_payments',
      key: `${subscriptionId}#${body.paymentRef}#${body.status}`,
      requestHash: createHash('sha256').update(canonicalJson(request)).digest('base64url'),
    },
  };
  return changeById(
    paymentCtx,
    subscriptionId,
    (settled, loaded) => {
      if (body.currency !== undefined && body.currency !== loaded.program.currency) {
        throw new ValidationError([
          { path: 'body.currency', message: `the program's currency is ${loaded.program.currency}` },
        ]);
      }
      const applied = applyPayment(settled, body, ctx.now, lookupIn(loaded.plans), policyOf(loaded.program));
      return { ...applied, revenueMinor: body.status === 'succeeded' ? body.amountMinor : 0 };
    },
    {
      status: 201,
      response: (subscription, loaded) => ({
        payment: subscription.lastPayment,
        subscription: viewOf(subscription, loaded),
      }),
    },
  );
}

/** POST /v1/subscriptions/{id}/cancel: at the period's end (default) or now. */
export function cancelSubscription(
  ctx: RequestContext,
  subscriptionId: string,
  body: { atPeriodEnd: boolean },
): Promise<UseCaseResponse> {
  return changeById(ctx, subscriptionId, (settled) => applyCancel(settled, body.atPeriodEnd, ctx.now), {
    status: 200,
    response: (subscription, loaded) => ({ subscription: viewOf(subscription, loaded) }),
  });
}

/** PATCH /v1/subscriptions/{id}: change plan (up now, down at the period's end) or resume. */
export function updateSubscription(
  ctx: RequestContext,
  subscriptionId: string,
  body: UpdateSubscriptionBody,
): Promise<UseCaseResponse> {
  return changeById(
    ctx,
    subscriptionId,
    (settled, loaded) => {
      let change: SubscriptionChange = { subscription: settled, events: [], bonuses: [] };
      if (body.cancelAtPeriodEnd === false) change = applyResume(change.subscription, ctx.now);
      if (body.planId !== undefined) {
        const target = loaded.plans.get(body.planId);
        if (!target) throw new ValidationError([{ path: 'body.planId', message: `no plan ${body.planId}` }]);
        change = applyPlanChange(
          change.subscription,
          { ...termsOf(target), retired: target.status === 'retired' },
          ctx.now,
        );
      }
      return change;
    },
    { status: 200, response: (subscription, loaded) => ({ subscription: viewOf(subscription, loaded) }) },
  );
}

/** GET /v1/subscriptions/{id}: as it stands now (a read settles in memory, writing nothing). */
export async function readSubscription(
  ctx: RequestContext,
  subscriptionId: string,
): Promise<UseCaseResponse> {
  const where = await locate(ctx, subscriptionId, false);
  if (where.archived) {
    const [program, plans] = await Promise.all([getProgram(ctx.store), allPlans(ctx.store)]);
    return respond(200, visibleTo(ctx, viewOf(where.archived, { program, plans })));
  }
  const view = await currentSubscriptionView(ctx, where.memberId);
  if (!view || view.id !== subscriptionId) {
    throw new ConflictError(`Subscription ${subscriptionId} was just replaced; read it again.`);
  }
  return respond(200, view);
}

/**
 * A subscription as this caller may see it. Memberships belong to the coalition like members (any
 * partner reads them, a till needs to know a Plus member), but the PSP's payment references are
 * the seller's: another partner's key sees no `lastPayment`.
 */
export function visibleTo(ctx: RequestContext, view: SubscriptionView): SubscriptionView {
  const own = ctx.principal.role === 'partner' ? ctx.principal.partnerId : null;
  return own !== null && view.partnerId !== own ? { ...view, lastPayment: null } : view;
}

/** GET /v1/members/{id}/subscription: the member's latest subscription (404 if it never had one). */
export async function readMemberSubscription(
  ctx: RequestContext,
  memberId: string,
): Promise<UseCaseResponse> {
  const view = await currentSubscriptionView(ctx, memberId, true);
  if (!view) throw new NotFoundError(`Member ${memberId} has no subscription.`);
  return respond(200, view);
}

/** A member's latest subscription, settled to now, as the API shows it. */
export async function currentSubscriptionView(
  ctx: RequestContext,
  memberId: string,
  memberMustExist = false,
): Promise<SubscriptionView | undefined> {
  const found = await batchGet(ctx.store, [
    keys.memberSubscription(memberId),
    ...(memberMustExist ? [keys.member(memberId)] : []),
  ]);
  const item = (key: { pk: string; sk: string }) => found.get(`${key.pk}|${key.sk}`);
  if (memberMustExist && !item(keys.member(memberId))) throw new NotFoundError(`No member ${memberId}.`);
  const stored = item(keys.memberSubscription(memberId));
  if (!stored) return undefined;
  // Only a subscriber's view needs the plans (what its next period will cost).
  const [program, plans] = await Promise.all([getProgram(ctx.store), allPlans(ctx.store)]);
  return visibleTo(
    ctx,
    subscriptionViewAt(subscriptionFromItem(stored).subscription, ctx.now, { program, plans }),
  );
}

/** A stored subscription as it stands at `at` (the transitions due by then applied in memory). */
export function subscriptionViewAt(
  subscription: Subscription,
  at: string,
  context: { program: ProgramRecord; plans: Map<string, Plan> },
): SubscriptionView {
  const settled = settleSubscription(subscription, at, lookupIn(context.plans), policyOf(context.program));
  return viewOf(settled.subscription, context);
}

function viewOf(
  s: Subscription,
  context: { program: ProgramRecord; plans: Map<string, Plan> },
): SubscriptionView {
  const due = nextPayment(s, lookupIn(context.plans));
  return {
    id: s.id,
    memberId: s.memberId,
    partnerId: s.partnerId,
    planId: s.terms.planId,
    status: s.status,
    priceMinor: s.terms.priceMinor,
    currency: context.program.currency,
    interval: s.terms.interval,
    benefits: s.terms.benefits,
    currentPeriodStart: s.currentPeriodStart,
    currentPeriodEnd: s.currentPeriodEnd,
    trialEndsAt: s.trialEndsAt,
    graceEndsAt: s.graceEndsAt,
    cancelAtPeriodEnd: s.cancelAtPeriodEnd,
    canceledAt: s.canceledAt,
    endedAt: s.endedAt,
    scheduledPlanId: s.scheduled?.planId ?? null,
    paidThrough: paidThrough(s),
    nextPayment: due ? { amountMinor: due.amountMinor, dueAt: due.dueAt } : null,
    lastPayment: s.lastPayment,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

// ─── The renewals job ───────────────────────────────────────────────────────────────────────────

/**
 * Bring one member's subscription up to `asOf` (trial ends, renewals, grace ends, monthly bonuses):
 * one version-conditioned change, like any request's. Nothing is written if nothing was due.
 */
export function renewSubscription(
  ctx: RequestContext,
  memberId: string,
  asOf: string,
  known: { program: ProgramRecord; plans: Map<string, Plan> },
  withWrite: TransactItem[],
): Promise<MemberChangeResult> {
  return writeMemberChange(
    { ...ctx, idempotency: undefined },
    {
      memberId,
      settleAt: asOf,
      load: () => loadSubscriptionContext(ctx, memberId, null, known),
      plan: (loaded): MemberChangePlan => {
        const record = loaded.subscription;
        if (!record) return { points: loaded.member.points, status: 200 };
        const settled = settleSubscription(
          record.subscription,
          asOf,
          lookupIn(loaded.plans),
          policyOf(loaded.program),
        );
        return subscriptionPlan(ctx, loaded, {
          at: asOf,
          before: record,
          steps: [settled],
          revenueMinor: 0,
          status: 200,
          response: () => ({}),
        });
      },
      withWrite,
    },
  );
}

// ─── One plan for every subscription change ─────────────────────────────────────────────────────

interface SubscriptionOutcome {
  /** When it happens (now, or a job's asOf). */
  at: string;
  /** The member's latest subscription as read (null: none yet). */
  before: SubscriptionRecord | undefined;
  /** What happened, in order: the last step's subscription is the one written. */
  steps: SubscriptionChange[];
  /** Further items (a new subscription's pointer, the archive of the one it replaces). */
  items?: TransactItem[];
  /** Money the PSP collected with this change (a succeeded payment). */
  revenueMinor: number;
  status: number;
  response: (subscription: Subscription) => Record<string, unknown>;
}

/**
 * The member change for a subscription's change: the subscription written at its version, the
 * bonus months credited as `bonus` entries, the tier floor set (and the tier raised to it), the
 * events, and the figures the report reads (states, MRR, flows).
 */
function subscriptionPlan(
  ctx: RequestContext,
  loaded: SubscriptionContext & { member: { id: string; points: MemberPoints } },
  outcome: SubscriptionOutcome,
): MemberChangePlan {
  const { program, member } = loaded;
  const writes = subscriptionWrites(ctx, member.id, outcome);
  const response = { ...outcome.response(writes.final) };
  if (!writes.changed) return { points: member.points, status: outcome.status, response };

  let points = member.points;
  const systemEntries: NonNullable<MemberChangePlan['systemEntries']> = [];
  for (const step of outcome.steps) {
    for (const bonus of step.bonuses) {
      const credited = creditBonus(ctx, program, member.id, points, step.subscription, bonus);
      points = credited.points;
      systemEntries.push(credited.entry);
    }
  }
  points = structuredClone(points);
  applyTierFloor(points, benefitsOf(writes.final)?.tierFloor ?? null, outcome.at, program.tiers);
  return {
    points,
    status: outcome.status,
    response,
    systemEntries,
    items: writes.items,
    events: writes.events,
    aggregates: [{ partnerId: null, delta: writes.delta }],
    // The subscription changed under us (a concurrent payment, cancel or job run): read and plan again.
    onItemConditionFailed: (index) => (index === 0 ? 'retry' : undefined),
  };
}

/** What a subscription's change writes besides the member: itself, its events, its figures. */
function subscriptionWrites(ctx: RequestContext, memberId: string, outcome: SubscriptionOutcome) {
  const final = outcome.steps.at(-1)?.subscription;
  if (!final) throw new Error('a subscription change has at least one step');
  const events = outcome.steps.flatMap((step) => step.events);
  const bonusPoints = outcome.steps
    .flatMap((step) => step.bonuses)
    .reduce((total, bonus) => total + bonus.points, 0);
  const changed =
    events.length > 0 ||
    bonusPoints > 0 ||
    JSON.stringify(outcome.before?.subscription) !== JSON.stringify(final);
  const count = (type: string) => events.filter((event) => event.type === type).length;
  const delta: AggregateDelta = {
    ...figuresDelta(outcome.before?.subscription, final),
    subscriptionsStarted: count('subscription.started'),
    subscriptionsRenewed: count('subscription.renewed'),
    subscriptionsWentPastDue: count('subscription.past_due'),
    subscriptionsCanceled: count('subscription.canceled'),
    subscriptionsExpired: count('subscription.expired'),
    subscriptionRevenueMinor: outcome.revenueMinor,
    bonusPoints,
  };
  return {
    final,
    changed,
    delta,
    items: [
      putSubscription(ctx.store, final, outcome.before ? outcome.before.version : null),
      ...(outcome.items ?? []),
    ],
    events: events.map(
      (event): PlannedEvent => ({
        dedupeKey: `${event.type}#${String(event.data.subscriptionId)}#${event.at}`,
        type: event.type,
        data: { ...event.data, memberId, effectiveAt: event.at },
        partnerId: final.partnerId,
      }),
    ),
  };
}

/**
 * An erased member's subscription ends with it: a live one is canceled at once, one already over is
 * recorded as it ended (months not credited yet are not: the member's points are forfeited anyway).
 */
export function endSubscriptionOfErased(
  ctx: RequestContext,
  memberId: string,
  record: SubscriptionRecord | undefined,
  program: ProgramRecord,
) {
  if (!record) return undefined;
  const settled = settleSubscription(record.subscription, ctx.now, () => undefined, policyOf(program));
  const steps: SubscriptionChange[] = [{ ...settled, bonuses: [] }];
  // Live: canceled now. Already over by now (unrecorded): its end is recorded, and it leaves the index.
  if (benefitsOf(settled.subscription)) steps.push(applyCancel(settled.subscription, false, ctx.now));
  const writes = subscriptionWrites(ctx, memberId, {
    at: ctx.now,
    before: record,
    steps,
    revenueMinor: 0,
    status: 200,
    response: () => ({}),
  });
  return writes.changed ? writes : undefined;
}

/** A month's bonus as a `bonus` entry, under a key that makes it happen once per month. */
function creditBonus(
  ctx: RequestContext,
  program: ProgramRecord,
  memberId: string,
  before: MemberPoints,
  subscription: Subscription,
  bonus: BonusCredit,
) {
  if (before.lifetimeEarned + bonus.points > MAX_BALANCE) {
    throw new ConflictError(`This bonus would take the member's lifetime points over ${MAX_BALANCE}.`);
  }
  const applied = applyCredit(before, bonus.points, bonus.at, program, { lifetime: true });
  const entry = transactionOf({
    id: newId('txn', Date.parse(ctx.now)),
    type: 'bonus',
    memberId,
    points: bonus.points,
    expiresAt: applied.expiresAt,
    breakdown: [{ rule: `subscription:${subscription.terms.planId}`, points: bonus.points }],
    // The subscription and its month of service: one bonus per (subscription, month).
    orderRef: `${subscription.id}:m${bonus.month}`,
    occurredAt: bonus.at,
    createdAt: ctx.now,
  });
  return {
    points: applied.points,
    entry: {
      entry,
      systemKey: `bonus:${subscription.id}:${bonus.month}`,
      entryExtra: { subscriptionId: subscription.id, month: bonus.month },
    },
  };
}
