/**
 * The subscription-renewals job must cost what is due, not what exists: the same due subscriptions
 * in a small and a big world, measured as job-bench.ts measures every job. What is the renewals
 * job's own: its plans, members and subscriptions, who is due in which round, its checks, and its
 * time figure (the median run). Imported only after run.ts has set the environment.
 *
 * Members and subscriptions are written as exactly the items the app writes: subscriptions built by
 * the domain (`startSubscription`, `applyPayment`, `settleSubscription`) and stored as
 * `putSubscription` puts them (its due index entry `keys.due('renewal', …)` included); each
 * subscriber's member item as `putNewMember` puts it, its points position built by the domain
 * (`applyEarn`, each monthly bonus credited with `applyCredit` as the app credits it, the plan's
 * tier floor with `applyTierFloor`) and its due index attributes as every member write keeps them.
 * Nothing else is written (no ledger history, outbox, externalRef or `SUB#` pointer items): the job
 * reads nothing else.
 *
 * Round r runs as of an instant r days after the first (the last: now), so each run is its own
 * (job, asOf day) run; it has its own cohort of due subscriptions, all due in the 24 hours before
 * its asOf. Later cohorts sit on the index out of range; earlier ones were dealt with and moved on
 * (a month ahead, a grace ahead, or off the index).
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { newId } from '../lambdas/domain/ids.ts';
import { emptyMemberPoints, type MemberPoints } from '../lambdas/domain/member-ledger.ts';
import { applyCredit, applyEarn } from '../lambdas/domain/movements.ts';
import {
  applyPayment,
  type BonusCredit,
  benefitsOf,
  nextDueAt,
  type PlanLookup,
  type Subscription,
  type SubscriptionPolicy,
  settleSubscription,
  startSubscription,
} from '../lambdas/domain/subscriptions.ts';
import { applyTierFloor } from '../lambdas/domain/tiers.ts';
import { addDays } from '../lambdas/domain/time.ts';
import { defaultProgram } from '../lambdas/schemas/program.ts';
import type { Plan } from '../lambdas/schemas/subscriptions.ts';
import { keys } from '../lambdas/store/keys.ts';
import { type MemberRecord, putNewMember } from '../lambdas/store/member-store.ts';
import { putNewPlan, termsOf } from '../lambdas/store/plan-store.ts';
import type { ProgramRecord } from '../lambdas/store/program-store.ts';
import { putSubscription } from '../lambdas/store/subscription-store.ts';
import {
  benchMember,
  type JobBenchConfig,
  type JobComparison,
  type JobRun,
  type JobWorld,
  type JobWorldResult,
  measureJob,
} from './job-bench.ts';
import { median } from './stats.ts';

export interface RenewalsJobConfig extends JobBenchConfig {
  /** Share of the members not due that hold a subscription (on the index, due after the last asOf). */
  subscribedShare: number;
}

export type RenewalsJobRun = JobRun;

/**
 * `subscriptions`: the subscription items on the renewal index when seeded (due in some round, or
 * after the last asOf); `msP50`: the median time of a run (nearest rank).
 */
export type RenewalsJobWorld = JobWorldResult<'msP50', { subscriptions: number }>;

export interface RenewalsJobResult extends JobComparison<'msP50', { subscriptions: number }> {
  method: string;
  note: string;
  config: RenewalsJobConfig;
  /** What each run's cohort holds, by what the job does to it. */
  cohort: Record<CohortKind, number>;
}

/** What the job does to a due subscription. */
type CohortKind = 'trialConvertsPaid' | 'trialEndsUnpaid' | 'graceEndsExpired';
const COHORT_KINDS: CohortKind[] = ['trialConvertsPaid', 'trialEndsUnpaid', 'graceEndsExpired'];

const HOUR = 3_600_000;

/** A member as seeded, with its latest subscription (if any) and that item's version. */
interface Seeded {
  member: MemberRecord;
  subscription: { value: Subscription; version: number } | null;
}

export async function measureRenewalsJob(
  endpoint: string,
  config: RenewalsJobConfig,
  progress: (message: string) => void,
): Promise<RenewalsJobResult> {
  const { due } = config;
  const now = new Date().toISOString();
  const program: ProgramRecord = { ...defaultProgram, updatedAt: now };
  const policy: SubscriptionPolicy = { graceDays: program.subscriptionGraceDays };
  const plans = benchPlans(addDays(now, -400));
  const lookup: PlanLookup = (planId) => {
    const plan = plans.find((candidate) => candidate.id === planId);
    return plan ? termsOf(plan) : undefined;
  };
  const factory = seedFactory(now, program, plans, policy, lookup);
  const subscribedEvery = Math.max(1, Math.round(1 / config.subscribedShare));
  const subscribed = (set: Seeded[]) => set.filter((seeded) => seeded.subscription).length;
  const measured = await measureJob(
    endpoint,
    config,
    {
      job: 'subscription-renewals',
      label: 'renewals job',
      tablePrefix: 'bench-renewals',
      // Run r of n as of (n - 1 - r) days ago (the last: now): one asOf day per run.
      schedule: (n) => Array.from({ length: n }, (_, r) => ({ asOf: addDays(now, -(n - 1 - r)) })),
      due: ({ asOf }, i) => factory.due(asOf, i),
      notDue: (n) => factory.notDue(n, n % subscribedEvery === 0 ? n / subscribedEvery : null),
      items: (store, { member, subscription }) => [
        putNewMember(store, member).Put?.Item as Record<string, unknown>,
        ...(subscription
          ? [
              putSubscription(
                store,
                subscription.value,
                subscription.version === 1 ? null : subscription.version - 1,
              ).Put?.Item as Record<string, unknown>,
            ]
          : []),
      ],
      time: { key: 'msP50', of: median },
      setUp: async (store) => {
        for (const plan of plans) {
          const { Put } = putNewPlan(store, plan);
          if (Put) await store.db.send(new PutCommand(Put));
        }
      },
      check: (sets, schedules) => {
        const asOfs = (rounds: { asOf: string }[]) => rounds.map(({ asOf }) => asOf);
        assertCohorts(sets.small, asOfs(schedules.measured), due, lookup, policy);
        assertCohorts(sets.big, asOfs(schedules.measured), due, lookup, policy);
        assertCohorts(sets.warmup, asOfs(schedules.warmup), due, lookup, policy);
      },
      extra: (set) => ({ subscriptions: subscribed(set) }),
      describe: (small, big) => `${small.subscriptions} and ${big.subscriptions} subscriptions`,
      // What the job wrote, read back untimed: one subscription of each kind from the first cohort.
      verify: (world, dueSeeded) => assertOutcome(world, dueSeeded.slice(0, COHORT_KINDS.length)),
    },
    progress,
  );
  const cohort = Object.fromEntries(
    COHORT_KINDS.map((kind) => [
      kind,
      Array.from({ length: due }, (_, i) => cohortKindOf(i)).filter((k) => k === kind).length,
    ]),
  ) as Record<CohortKind, number>;
  return {
    method: [
      'runJob(subscription-renewals) called directly and timed whole, rounds alternating which world goes',
      'first, each round its own asOf day and cohort of due subscriptions; time ratio of the median runs;',
      'every request seen by a probe that adds ReturnConsumedCapacity=INDEXES and sends nothing of its own;',
      "read units computed from the items each read returned (DynamoDB rules), Local's reported units",
      'alongside; write units as DynamoDB Local reports them',
    ].join(' '),
    note: [
      'Each run must answer processed = changed = due and complete, or the bench stops. A cohort is a',
      'third each of trials converting with their first period paid ahead (subscription.renewed, the',
      "month's bonus entry), trials ending unpaid (the grace begins) and graces ending unpaid",
      '(subscription.expired, off the index). DynamoDB Local timings are local-only: compare the two',
      'worlds, not the milliseconds with the real service; equal per-request medians with a different',
      'whole-run time mean load on the machine, not the job.',
    ].join(' '),
    config,
    cohort,
    ...measured,
  };
}

/**
 * Two plans, as a program has a handful: Plus (monthly, a 14-day trial, a bonus every month, the
 * silver tier floor) and Basic (monthly, no trial, paid at signup).
 */
function benchPlans(createdAt: string): Plan[] {
  const plan = (id: string, name: string, priceMinor: number, trialDays: number, bonus: number): Plan => ({
    id,
    name,
    priceMinor,
    currency: defaultProgram.currency,
    interval: 'month',
    trialDays,
    benefits: { earnMultiplier: 1.5, monthlyBonusPoints: bonus, tierFloor: 'silver' },
    status: 'active',
    createdAt,
    updatedAt: createdAt,
    retiredAt: null,
  });
  return [plan('bench-plus', 'Bench Plus', 999, 14, 200), plan('bench-basic', 'Bench Basic', 499, 0, 50)];
}

/** The i-th due subscription of a cohort: a third of each kind. */
const cohortKindOf = (i: number): CohortKind => COHORT_KINDS[i % COHORT_KINDS.length] as CohortKind;

/**
 * Members as the app stores them, each with one earn before anything else, and their latest
 * subscription in the state the app would have written last.
 *
 * A due subscription falls due (its next transition) at an instant in the 24 hours before its
 * round's asOf, so no earlier round sees it:
 * - `trialConvertsPaid`: a Plus trial whose first period the PSP charged the day before it ends;
 *   at its end the period begins paid (`subscription.renewed`) and its first month's bonus is owed.
 * - `trialEndsUnpaid`: a Plus trial ending with nothing paid: the first period begins awaiting its
 *   payment, the grace (the program's 7 days) ahead.
 * - `graceEndsExpired`: a Plus trial that ended unpaid a grace ago (the job then started the grace);
 *   the grace ends: `subscription.expired`, and it leaves the index.
 * A member not due either has no subscription or one due after the last asOf: a Basic subscription
 * paid at signup 1–25 days ago (next due at its period's end), or a Plus trial started less than 13
 * days ago.
 */
function seedFactory(
  now: string,
  program: ProgramRecord,
  plans: Plan[],
  policy: SubscriptionPolicy,
  lookup: PlanLookup,
) {
  const [plus, basic] = plans as [Plan, Plan];
  const entryTier = program.tiers[0]?.code ?? 'member';
  let made = 0;

  /** A member enrolled before any subscription, with its earn; then `subscribe` runs on its points. */
  const member = (
    n: number,
    subscribe?: (memberId: string) => {
      subscription: Subscription;
      version: number;
      bonuses: BonusCredit[];
      startedAt: string;
    },
  ): Seeded => {
    made++;
    const enrolledAt = addDays(now, -(60 + (n % 300)));
    const id = newId('mem', Date.parse(enrolledAt));
    const earnedAt = addDays(enrolledAt, 10);
    let points: MemberPoints = emptyMemberPoints(entryTier, enrolledAt);
    points = applyEarn(points, 100 + (n % 900), earnedAt, earnedAt, program).points;
    let version = 1;
    let subscription: Seeded['subscription'] = null;
    if (subscribe) {
      const built = subscribe(id);
      // As the app's subscription changes do (services/subscriptions.ts subscriptionPlan): each
      // month's bonus credited as a bonus entry would, then the floor of the live subscription.
      for (const bonus of built.bonuses)
        points = applyCredit(points, bonus.points, bonus.at, program, { lifetime: true }).points;
      points = structuredClone(points);
      applyTierFloor(
        points,
        benefitsOf(built.subscription)?.tierFloor ?? null,
        built.startedAt,
        program.tiers,
      );
      // Every change of a subscription was a change of its member too.
      version += built.version;
      subscription = { value: built.subscription, version: built.version };
    }
    return {
      member: benchMember({ id, made, version, points, enrolledAt, now, program }),
      subscription,
    };
  };

  const start = (memberId: string, plan: Plan, at: string, paymentRef: string) =>
    startSubscription({
      id: newId('sub', Date.parse(at)),
      memberId,
      partnerId: null,
      terms: termsOf(plan),
      trialDays: plan.trialDays,
      previous: undefined,
      paymentRef,
      now: at,
      policy,
    });

  return {
    /** The i-th subscription of the cohort due in the 24 hours before `asOf`. */
    due: (asOf: string, i: number): Seeded =>
      member(i, (memberId) => {
        const dueAt = new Date(Date.parse(asOf) - (1 + (i % 20)) * HOUR).toISOString();
        const kind = cohortKindOf(i);
        const ref = `psp-${memberId}`;
        if (kind === 'graceEndsExpired') {
          // The trial ended a grace before dueAt; the job then began its unpaid first period.
          const trialEnd = addDays(dueAt, -policy.graceDays);
          const started = start(memberId, plus, addDays(trialEnd, -plus.trialDays), ref);
          const atTrialEnd = settleSubscription(started.subscription, trialEnd, lookup, policy);
          return {
            subscription: atTrialEnd.subscription,
            version: 2,
            bonuses: [...started.bonuses, ...atTrialEnd.bonuses],
            startedAt: started.subscription.createdAt,
          };
        }
        const started = start(memberId, plus, addDays(dueAt, -plus.trialDays), ref);
        if (kind === 'trialEndsUnpaid') {
          return {
            subscription: started.subscription,
            version: 1,
            bonuses: started.bonuses,
            startedAt: started.subscription.createdAt,
          };
        }
        // The PSP charged the first period the day before the trial ends (paid ahead).
        const paidAt = addDays(dueAt, -1);
        const paid = applyPayment(
          settleSubscription(started.subscription, paidAt, lookup, policy).subscription,
          { status: 'succeeded', paymentRef: `${ref}-1`, amountMinor: plus.priceMinor },
          paidAt,
          lookup,
          policy,
        );
        return {
          subscription: paid.subscription,
          version: 2,
          bonuses: [...started.bonuses, ...paid.bonuses],
          startedAt: started.subscription.createdAt,
        };
      }),
    /** The n-th member not due; the k-th subscriber (due after now) when k is a number. */
    notDue: (n: number, k: number | null): Seeded =>
      k !== null
        ? member(n, (memberId) => {
            const trial = k % 2 === 1;
            const started = trial
              ? start(
                  memberId,
                  plus,
                  new Date(Date.parse(addDays(now, -(n % 13))) - HOUR).toISOString(),
                  `psp-${memberId}`,
                )
              : start(memberId, basic, addDays(now, -(1 + (n % 25))), `psp-${memberId}`);
            return {
              subscription: started.subscription,
              version: 1,
              bonuses: started.bonuses,
              startedAt: started.subscription.createdAt,
            };
          })
        : member(n),
  };
}

/**
 * Each round's asOf must find exactly its cohort: every seeded subscription falls due in one round
 * at most (in the 24 hours before its asOf, none before the first), `due` in each, and once settled
 * at that asOf is next due after the last one (or never).
 */
function assertCohorts(
  set: Seeded[],
  asOfs: string[],
  due: number,
  lookup: PlanLookup,
  policy: SubscriptionPolicy,
): void {
  const counts = asOfs.map(() => 0);
  const last = asOfs.at(-1) as string;
  for (const { subscription } of set) {
    if (!subscription) continue;
    const at = nextDueAt(subscription.value);
    const round = at === null ? -1 : asOfs.findIndex((asOf) => at <= asOf);
    if (round === -1) continue;
    const after = nextDueAt(
      settleSubscription(subscription.value, asOfs[round] as string, lookup, policy).subscription,
    );
    if ((at as string) <= addDays(asOfs[round] as string, -1) || (after !== null && after <= last)) {
      throw new Error(
        `renewals job: subscription ${subscription.value.id} would be due in more than one round`,
      );
    }
    counts[round] = (counts[round] as number) + 1;
  }
  if (counts.some((count) => count !== due)) {
    throw new Error(
      `renewals job: rounds would find ${counts.join(', ')} due subscriptions, not ${due} each`,
    );
  }
}

/** The state the job left a sample of the first cohort in (the i-th member: the i-th kind). */
async function assertOutcome(world: JobWorld, sample: Seeded[]): Promise<void> {
  const { store } = world;
  for (const [i, seeded] of sample.entries()) {
    const get = async (key: { pk: string; sk: string }) =>
      (await store.db.send(new GetCommand({ TableName: store.tableName, Key: key, ConsistentRead: true })))
        .Item ?? {};
    const item = await get(keys.memberSubscription(seeded.member.id));
    const member = await get(keys.member(seeded.member.id));
    const s = item.subscription as Subscription | undefined;
    const indexed = typeof item.gsi6pk === 'string';
    const expected: Record<CohortKind, boolean> = {
      trialConvertsPaid: s?.status === 'active' && s.renewedThrough === 0 && s.bonusMonths === 1 && indexed,
      trialEndsUnpaid: s?.status === 'active' && s.paidPeriods === 0 && s.graceEndsAt !== null && indexed,
      graceEndsExpired: s?.status === 'expired' && !indexed,
    };
    const kind = cohortKindOf(i);
    if (!expected[kind] || member.version !== seeded.member.version + 1) {
      throw new Error(
        `renewals job: ${kind} ${seeded.member.id} on ${store.tableName} was left as ${JSON.stringify({ subscription: s, indexed, memberVersion: member.version })}`,
      );
    }
  }
}
