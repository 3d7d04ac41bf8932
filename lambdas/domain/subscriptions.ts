/**
 * Paid membership as a state machine over time. A subscription is a sequence of billing periods
 * counted from its anchor (the trial's end, or the start when there is no trial); the billing
 * system (a PSP) charges the card and reports each payment, this module decides what the
 * subscription is at any instant. Like a member's points, a subscription is brought up to an
 * instant by `settleSubscription` before anything is applied to it, so whether the renewals job
 * ran or not, every reader and writer sees the same state.
 *
 * States: `trialing` → `active` (a period paid, or awaiting its payment within the grace) →
 * `past_due` (the PSP reported a begun period's payment failed; benefits continue until the grace
 * ends; a failure reported before the period begins takes effect when it begins) →
 * `canceled` (by request, now or at the period's end) | `expired` (the grace ended unpaid).
 *
 * Rules (docs/decisions.md §31):
 * - A period's price and benefits are fixed when it begins: a plan's new price reaches a subscriber
 *   from its next period, never the current one. A payment pays the earliest unpaid period, at
 *   most one ahead, for exactly its price.
 * - At a period's end the next begins; if it is not paid yet it awaits its payment for the grace
 *   (graceDays after its start), then expires. `subscription.renewed` is sent once per period,
 *   when it is paid and has begun (or when paying it ends a `past_due`).
 * - `monthlyBonusPoints` are credited once per month of paid service, at the month's start (month
 *   k starts k calendar months after the anchor), yearly plans included; a trial earns none.
 */
import { ConflictError, type DomainError } from './errors.ts';
import { addDays, addMonths } from './time.ts';

export type SubscriptionStatus = 'trialing' | 'active' | 'past_due' | 'canceled' | 'expired';
export type Interval = 'month' | 'year';
export type PaymentStatus = 'succeeded' | 'failed';

/** States in which the subscriber has the plan's benefits (and one subscription per member). */
export const LIVE_STATUSES: readonly SubscriptionStatus[] = ['trialing', 'active', 'past_due'];
export const isLive = (status: SubscriptionStatus) => LIVE_STATUSES.includes(status);

export interface Benefits {
  earnMultiplier: number;
  monthlyBonusPoints: number;
  /** A tier the member holds at least while the subscription is live (null: none). */
  tierFloor: string | null;
}

/** What a subscriber gets and pays for a period: the plan as it stood when the period began. */
export interface PlanTerms {
  planId: string;
  priceMinor: number;
  interval: Interval;
  benefits: Benefits;
}

export interface PaymentRecord {
  paymentRef: string;
  status: PaymentStatus;
  amountMinor: number;
  recordedAt: string;
  /** The period the payment was for. */
  periodStart: string;
}

export interface Subscription {
  id: string;
  memberId: string;
  /** The partner whose key sold it (null: an admin). */
  partnerId: string | null;
  status: SubscriptionStatus;
  /** Terms of the current period. */
  terms: PlanTerms;
  /** A downgrade that takes effect when the next period begins (the plan as it was chosen). */
  scheduled: PlanTerms | null;
  /** Period k (k ≥ 0) runs from anchor + k intervals; the trial, if any, is period -1. */
  anchor: string;
  periodIndex: number;
  currentPeriodStart: string;
  currentPeriodEnd: string;
  trialEndsAt: string | null;
  /** Periods 0 … paidPeriods-1 are paid. */
  paidPeriods: number;
  /** What was paid for the next period, when it was paid ahead. */
  prepaidPriceMinor: number | null;
  /** While the current period is unpaid: when the subscription expires if it stays unpaid. */
  graceEndsAt: string | null;
  /** The PSP reported the next period's charge failed before it began: it begins `past_due`. */
  nextPeriodFailed?: boolean;
  cancelAtPeriodEnd: boolean;
  canceledAt: string | null;
  endedAt: string | null;
  /** Months of paid service whose bonus was credited (months 0 … bonusMonths-1). */
  bonusMonths: number;
  /** The last period whose `subscription.renewed` was sent (-1: none). */
  renewedThrough: number;
  /** Whether this member has had a trial (carried to later subscriptions: one trial per member). */
  trialUsed: boolean;
  /** Recent successful payment references: a late failure report for one of them is refused. */
  succeededRefs: string[];
  lastPayment: PaymentRecord | null;
  /** The PSP's reference given at signup (the first payment, or the card on file for a trial). */
  paymentRef: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SubscriptionPolicy {
  /** Days an unpaid period keeps its benefits before the subscription expires. */
  graceDays: number;
}

/** The terms a plan offers now (undefined: unknown, e.g. a read that did not load plans). */
export type PlanLookup = (planId: string) => PlanTerms | undefined;

export type SubscriptionEventType =
  | 'subscription.started'
  | 'subscription.renewed'
  | 'subscription.past_due'
  | 'subscription.canceled'
  | 'subscription.expired';

export interface SubscriptionEvent {
  type: SubscriptionEventType;
  /** When the transition happened (a period end, a grace end, or the request). */
  at: string;
  data: Record<string, unknown>;
}

/** Points owed for one month of paid service. */
export interface BonusCredit {
  month: number;
  points: number;
  at: string;
}

export interface SubscriptionChange {
  subscription: Subscription;
  events: SubscriptionEvent[];
  bonuses: BonusCredit[];
}

const SUCCEEDED_REFS_KEPT = 24;

const monthsPerPeriod = (interval: Interval) => (interval === 'year' ? 12 : 1);

/** Start of period k (k ≥ 0): k intervals after the anchor, on the anchor's day of the month. */
export function periodStart(subscription: Pick<Subscription, 'anchor' | 'terms'>, k: number): string {
  return addMonths(subscription.anchor, k * monthsPerPeriod(subscription.terms.interval));
}

/** Start of bonus month k: k calendar months after the anchor. */
const bonusMonthStart = (subscription: Subscription, k: number) => addMonths(subscription.anchor, k);

/** The end of paid service: the start of the first unpaid period (null: nothing paid yet). */
export function paidThrough(subscription: Subscription): string | null {
  return subscription.paidPeriods > 0 ? periodStart(subscription, subscription.paidPeriods) : null;
}

const currentPeriodPaid = (s: Subscription) => s.periodIndex < 0 || s.paidPeriods > s.periodIndex;

/** A request that this state does not allow: 409 naming the state (also as `state`). */
export class SubscriptionStateError extends ConflictError {
  constructor(subscription: Pick<Subscription, 'id' | 'status'>, detail: string) {
    super(`Subscription ${subscription.id} is ${subscription.status}: ${detail}`, {
      subscriptionId: subscription.id,
      state: subscription.status,
    });
  }
}

export function startSubscription(input: {
  id: string;
  memberId: string;
  partnerId: string | null;
  terms: PlanTerms;
  trialDays: number;
  /** The previous subscription of the member, if any (it must have ended). */
  previous: Subscription | undefined;
  paymentRef: string | undefined;
  now: string;
  policy: SubscriptionPolicy;
}): SubscriptionChange {
  const { now } = input;
  const trial = input.trialDays > 0 && !input.previous?.trialUsed;
  const anchor = trial ? addDays(now, input.trialDays) : now;
  const base: Subscription = {
    id: input.id,
    memberId: input.memberId,
    partnerId: input.partnerId,
    status: trial ? 'trialing' : 'active',
    terms: input.terms,
    scheduled: null,
    anchor,
    periodIndex: trial ? -1 : 0,
    currentPeriodStart: now,
    currentPeriodEnd: trial ? anchor : addMonths(now, monthsPerPeriod(input.terms.interval)),
    trialEndsAt: trial ? anchor : null,
    paidPeriods: trial ? 0 : 1,
    prepaidPriceMinor: null,
    graceEndsAt: null,
    cancelAtPeriodEnd: false,
    canceledAt: null,
    endedAt: null,
    bonusMonths: 0,
    renewedThrough: trial ? -1 : 0,
    trialUsed: trial || (input.previous?.trialUsed ?? false),
    succeededRefs: !trial && input.paymentRef ? [input.paymentRef] : [],
    lastPayment:
      !trial && input.paymentRef
        ? {
            paymentRef: input.paymentRef,
            status: 'succeeded',
            amountMinor: input.terms.priceMinor,
            recordedAt: now,
            periodStart: now,
          }
        : null,
    paymentRef: input.paymentRef ?? null,
    createdAt: now,
    updatedAt: now,
  };
  const started: SubscriptionEvent = {
    type: 'subscription.started',
    at: now,
    data: { ...eventData(base), trial },
  };
  // The first paid month's bonus is due at once.
  const settled = settleSubscription(base, now, () => undefined, input.policy);
  return { ...settled, events: [started, ...settled.events] };
}

/**
 * Bring a subscription up to `at`: periods end and begin, trials convert, unpaid periods expire at
 * the end of their grace, cancellations scheduled for a period's end take effect, and the bonus of
 * every month of paid service that has begun is owed, all in the order they fell due.
 */
export function settleSubscription(
  before: Subscription,
  at: string,
  plans: PlanLookup,
  policy: SubscriptionPolicy,
): SubscriptionChange {
  const s = structuredClone(before);
  const events: SubscriptionEvent[] = [];
  const bonuses: BonusCredit[] = [];
  for (;;) {
    const transition = nextTransitionAt(s);
    const bonus = nextBonusAt(s);
    // At the same instant the transition comes first: a renewal's new terms price its first month.
    if (transition !== null && transition <= at && (bonus === null || transition <= bonus)) {
      events.push(...transitionAt(s, transition, plans, policy));
    } else if (bonus !== null && bonus <= at) {
      const points = s.terms.benefits.monthlyBonusPoints;
      if (points > 0) bonuses.push({ month: s.bonusMonths, points, at: bonus });
      s.bonusMonths += 1;
    } else break;
  }
  return { subscription: s, events, bonuses };
}

/** When the state next changes with time alone (null: never; it has ended). */
function nextTransitionAt(s: Subscription): string | null {
  if (!isLive(s.status)) return null;
  if (s.graceEndsAt !== null && s.graceEndsAt < s.currentPeriodEnd) return s.graceEndsAt;
  return s.currentPeriodEnd;
}

/** When the next month of paid service begins, if it is paid for (null: none is). */
function nextBonusAt(s: Subscription): string | null {
  if (!isLive(s.status)) return null;
  const start = bonusMonthStart(s, s.bonusMonths);
  const paidEnd = paidThrough(s);
  return paidEnd !== null && start < paidEnd ? start : null;
}

function transitionAt(
  s: Subscription,
  at: string,
  plans: PlanLookup,
  policy: SubscriptionPolicy,
): SubscriptionEvent[] {
  if (s.graceEndsAt !== null && at === s.graceEndsAt) {
    const previousStatus = s.status;
    s.status = 'expired';
    s.endedAt = at;
    s.graceEndsAt = null;
    return [{ type: 'subscription.expired', at, data: { ...eventData(s), previousStatus } }];
  }
  if (s.cancelAtPeriodEnd) {
    const previousStatus = s.status;
    s.status = 'canceled';
    s.endedAt = at;
    return [
      { type: 'subscription.canceled', at, data: { ...eventData(s), previousStatus, atPeriodEnd: true } },
    ];
  }
  return beginNextPeriod(s, at, plans, policy);
}

/** The next period begins at `at`: on the scheduled plan if any, paid or awaiting its payment. */
function beginNextPeriod(
  s: Subscription,
  at: string,
  plans: PlanLookup,
  policy: SubscriptionPolicy,
): SubscriptionEvent[] {
  const previousStatus = s.status;
  const next = s.scheduled ?? s.terms;
  const offered = plans(next.planId);
  const paid = s.paidPeriods > s.periodIndex + 1;
  s.periodIndex += 1;
  s.currentPeriodStart = at;
  s.currentPeriodEnd = periodStart(s, s.periodIndex + 1);
  s.terms = {
    ...next,
    // Benefits as the plan offers them now; the price as paid, or as it stands now if unpaid.
    ...(offered ? { benefits: offered.benefits } : {}),
    priceMinor: paid ? (s.prepaidPriceMinor ?? next.priceMinor) : (offered?.priceMinor ?? next.priceMinor),
  };
  s.scheduled = null;
  s.prepaidPriceMinor = null;
  const failed = s.nextPeriodFailed === true;
  delete s.nextPeriodFailed;
  if (s.status === 'trialing') s.status = 'active';
  if (paid) {
    s.graceEndsAt = null;
    return renewed(s, at, previousStatus);
  }
  // Unpaid: it awaits its payment until the grace ends, past_due if its charge already failed.
  s.graceEndsAt = addDays(at, policy.graceDays);
  if (!failed) return [];
  s.status = 'past_due';
  return [
    {
      type: 'subscription.past_due',
      at,
      data: { ...eventData(s), previousStatus, paymentRef: s.lastPayment?.paymentRef ?? null },
    },
  ];
}

/** `subscription.renewed` for the current period, once. */
function renewed(s: Subscription, at: string, previousStatus: SubscriptionStatus): SubscriptionEvent[] {
  if (s.renewedThrough >= s.periodIndex) return [];
  s.renewedThrough = s.periodIndex;
  return [{ type: 'subscription.renewed', at, data: { ...eventData(s), previousStatus } }];
}

/** The amount the earliest unpaid period costs, and when it is due. */
export function nextPayment(
  s: Subscription,
  plans: PlanLookup,
): { amountMinor: number; dueAt: string; periodIndex: number } | null {
  if (!isLive(s.status)) return null;
  const index = s.paidPeriods;
  if (index <= s.periodIndex)
    return { amountMinor: s.terms.priceMinor, dueAt: s.currentPeriodStart, periodIndex: index };
  // A cancellation at the period's end means no further payment.
  if (s.cancelAtPeriodEnd) return null;
  const next = s.scheduled ?? s.terms;
  return {
    amountMinor: plans(next.planId)?.priceMinor ?? next.priceMinor,
    dueAt: periodStart(s, index),
    periodIndex: index,
  };
}

/**
 * A payment reported by the PSP, on a subscription settled to `now`. A success pays the earliest
 * unpaid period (at most one ahead) for exactly its price; a failure puts the subscription
 * `past_due` until the grace after the unpaid period's start.
 */
export function applyPayment(
  settled: Subscription,
  payment: { status: PaymentStatus; paymentRef: string; amountMinor: number },
  now: string,
  plans: PlanLookup,
  policy: SubscriptionPolicy,
): SubscriptionChange {
  const s = structuredClone(settled);
  if (!isLive(s.status)) throw new SubscriptionStateError(s, 'it takes no more payments.');
  const due = nextPayment(s, plans);
  const paidEnd = paidThrough(s);
  if (!due) {
    throw new SubscriptionStateError(
      s,
      `it is canceled at the end of the period (${s.currentPeriodEnd}), so no further period is paid. Resume it first.`,
    );
  }
  if (due.periodIndex > s.periodIndex + 1) {
    throw new SubscriptionStateError(
      s,
      `it is paid through ${paidEnd}; the next payment is due on ${due.dueAt}.`,
    );
  }
  const record: PaymentRecord = {
    paymentRef: payment.paymentRef,
    status: payment.status,
    amountMinor: payment.amountMinor,
    recordedAt: now,
    periodStart: due.dueAt,
  };
  const events: SubscriptionEvent[] = [];
  if (payment.status === 'failed') {
    if (s.succeededRefs.includes(payment.paymentRef)) {
      throw new SubscriptionStateError(s, `payment ${payment.paymentRef} already succeeded.`);
    }
    s.lastPayment = record;
    if (due.periodIndex > s.periodIndex) {
      // The period has not begun (an early charge): it begins past_due unless paid by then.
      s.nextPeriodFailed = true;
    } else if (s.status !== 'past_due') {
      const previousStatus = s.status;
      s.status = 'past_due';
      s.graceEndsAt = addDays(due.dueAt, policy.graceDays);
      events.push({
        type: 'subscription.past_due',
        at: now,
        data: { ...eventData(s), previousStatus, paymentRef: payment.paymentRef },
      });
    }
    return { subscription: { ...s, updatedAt: now }, events, bonuses: [] };
  }
  if (payment.amountMinor !== due.amountMinor) {
    throw new ConflictError(
      `The period starting ${due.dueAt} costs ${due.amountMinor}; a payment of ${payment.amountMinor} does not pay it.`,
    );
  }
  const previousStatus = s.status;
  s.paidPeriods += 1;
  s.lastPayment = record;
  s.succeededRefs = [...s.succeededRefs, payment.paymentRef].slice(-SUCCEEDED_REFS_KEPT);
  if (due.periodIndex === s.periodIndex) {
    // The current period, awaiting its payment (or past_due): paid now.
    s.graceEndsAt = null;
    if (s.status === 'past_due') s.status = 'active';
    events.push(...renewed(s, now, previousStatus));
  } else {
    // Paid ahead: the next period begins paid (and renewed) when the current one ends.
    s.prepaidPriceMinor = payment.amountMinor;
    delete s.nextPeriodFailed;
  }
  // Months of the period just paid whose start has passed are owed now.
  const settledAfter = settleSubscription({ ...s, updatedAt: now }, now, plans, policy);
  return { ...settledAfter, events: [...events, ...settledAfter.events] };
}

/** Cancel now, or at the end of the current (paid) period. */
export function applyCancel(settled: Subscription, atPeriodEnd: boolean, now: string): SubscriptionChange {
  const s = structuredClone(settled);
  if (!isLive(s.status)) throw new SubscriptionStateError(s, 'it has already ended.');
  // Nothing paid is left to run when the current period is unpaid: it ends now.
  if (atPeriodEnd && currentPeriodPaid(s)) {
    if (s.cancelAtPeriodEnd) return { subscription: s, events: [], bonuses: [] };
    return {
      subscription: { ...s, cancelAtPeriodEnd: true, canceledAt: now, updatedAt: now },
      events: [],
      bonuses: [],
    };
  }
  const previousStatus = s.status;
  Object.assign(s, {
    status: 'canceled',
    cancelAtPeriodEnd: false,
    canceledAt: now,
    endedAt: now,
    graceEndsAt: null,
    updatedAt: now,
  });
  return {
    subscription: s,
    events: [
      {
        type: 'subscription.canceled',
        at: now,
        data: { ...eventData(s), previousStatus, atPeriodEnd: false },
      },
    ],
    bonuses: [],
  };
}

/** Undo a cancellation scheduled for the period's end. */
export function applyResume(settled: Subscription, now: string): SubscriptionChange {
  if (!isLive(settled.status))
    throw new SubscriptionStateError(settled, 'it has ended; subscribe again instead.');
  if (!settled.cancelAtPeriodEnd) return { subscription: settled, events: [], bonuses: [] };
  return {
    subscription: { ...settled, cancelAtPeriodEnd: false, canceledAt: null, updatedAt: now },
    events: [],
    bonuses: [],
  };
}

/**
 * Move to another plan of the same interval: a dearer plan applies at once (its price, benefits and
 * floor); a cheaper one (or one at the same price) from the next period on. Choosing the current
 * plan again drops a scheduled change.
 */
export function applyPlanChange(
  settled: Subscription,
  target: PlanTerms & { retired: boolean },
  now: string,
): SubscriptionChange {
  const s = structuredClone(settled);
  const fail = (detail: string): DomainError => new SubscriptionStateError(s, detail);
  if (!isLive(s.status)) throw fail('it has ended; subscribe again instead.');
  if (s.status === 'past_due') throw fail('pay the overdue period before changing plans.');
  const { retired, ...terms } = target;
  if (terms.planId === s.terms.planId) {
    return { subscription: { ...s, scheduled: null, updatedAt: now }, events: [], bonuses: [] };
  }
  if (retired) throw new ConflictError(`Plan ${terms.planId} is retired: it takes no new subscribers.`);
  if (terms.interval !== s.terms.interval) {
    throw new ConflictError(
      `Plan ${terms.planId} is billed by ${terms.interval}, this subscription by ${s.terms.interval}: cancel and subscribe to change the interval.`,
    );
  }
  if (terms.priceMinor > s.terms.priceMinor) {
    return { subscription: { ...s, terms, scheduled: null, updatedAt: now }, events: [], bonuses: [] };
  }
  return { subscription: { ...s, scheduled: terms, updatedAt: now }, events: [], bonuses: [] };
}

/** The benefits in force (none once it has ended). */
export function benefitsOf(s: Subscription | undefined): Benefits | null {
  return s && isLive(s.status) ? s.terms.benefits : null;
}

/**
 * The earn multiplier a subscription grants at `at`, settled in memory from the stored state (no
 * plan read: a period that began unwritten takes the benefits its plan had when it was chosen).
 */
export function earnBenefitAt(
  stored: Subscription | undefined,
  at: string,
  policy: SubscriptionPolicy,
): { planId: string; earnMultiplier: number } | null {
  if (!stored) return null;
  const { subscription } = settleSubscription(stored, at, () => undefined, policy);
  const benefits = benefitsOf(subscription);
  return benefits ? { planId: subscription.terms.planId, earnMultiplier: benefits.earnMultiplier } : null;
}

/** When the renewals job must next look at it: a transition or a month's bonus (null: never). */
export function nextDueAt(s: Subscription): string | null {
  const candidates = [nextTransitionAt(s), nextBonusAt(s)].filter((at): at is string => at !== null);
  return candidates.length === 0 ? null : candidates.reduce((a, b) => (a < b ? a : b));
}

/**
 * The report figures one subscription contributes: a count in its state and, while paid for
 * (active or past_due), its recurring revenue in twelfths of a minor unit per month (a monthly
 * plan counts 12 × price, a yearly one its price), so sums stay exact until divided once by 12.
 */
export interface SubscriptionFigures {
  subscriptionsTrialing: number;
  subscriptionsActive: number;
  subscriptionsPastDue: number;
  mrrTwelfthsMinor: number;
}

export function figuresOf(s: Subscription | undefined): SubscriptionFigures {
  const status = s?.status;
  const paying = status === 'active' || status === 'past_due';
  return {
    subscriptionsTrialing: status === 'trialing' ? 1 : 0,
    subscriptionsActive: status === 'active' ? 1 : 0,
    subscriptionsPastDue: status === 'past_due' ? 1 : 0,
    mrrTwelfthsMinor: s && paying ? s.terms.priceMinor * (12 / monthsPerPeriod(s.terms.interval)) : 0,
  };
}

/** What changed in the figures between two states of a subscription. */
export function figuresDelta(before: Subscription | undefined, after: Subscription): SubscriptionFigures {
  const a = figuresOf(before);
  const b = figuresOf(after);
  return {
    subscriptionsTrialing: b.subscriptionsTrialing - a.subscriptionsTrialing,
    subscriptionsActive: b.subscriptionsActive - a.subscriptionsActive,
    subscriptionsPastDue: b.subscriptionsPastDue - a.subscriptionsPastDue,
    mrrTwelfthsMinor: b.mrrTwelfthsMinor - a.mrrTwelfthsMinor,
  };
}

function eventData(s: Subscription): Record<string, unknown> {
  return {
    subscriptionId: s.id,
    planId: s.terms.planId,
    status: s.status,
    currentPeriodStart: s.currentPeriodStart,
    currentPeriodEnd: s.currentPeriodEnd,
  };
}
