/**
 * The expire-points job must cost what is due, not what exists: the same due members in a small
 * and a big world, measured as job-bench.ts measures every job. What is the expire job's own: its
 * members, who is due in which round, and its time figure (the mean run; the ratio of all runs).
 * Imported only after run.ts has set the environment.
 *
 * Members are written as exactly the item the app writes: the record `putNewMember` puts, its
 * points position built by the domain (`applyEarn` on `emptyMemberPoints`), its due index
 * attributes `dueIndexAttributes(id, dueDates(points, now, program))` as every member write keeps
 * them. Enrolling and earning through the use cases would take minutes for 20,000 members and
 * write nothing the job reads.
 *
 * Round r has its own cohort of due members, whose oldest lot expired on the first day of a month;
 * round r runs as of that day. Every member of a later cohort is on the expiry index but not yet in
 * range, and earlier cohorts were dealt with by then.
 */
import { newId } from '../lambdas/domain/ids.ts';
import { emptyMemberPoints, type MemberPoints } from '../lambdas/domain/member-ledger.ts';
import { applyEarn } from '../lambdas/domain/movements.ts';
import { startOfMonthAfter } from '../lambdas/domain/time.ts';
import { defaultProgram } from '../lambdas/schemas/program.ts';
import { type MemberRecord, putNewMember } from '../lambdas/store/member-store.ts';
import type { ProgramRecord } from '../lambdas/store/program-store.ts';
import {
  benchMember,
  type JobBenchConfig,
  type JobComparison,
  type JobRun,
  type JobWorldResult,
  measureJob,
} from './job-bench.ts';

export type ExpireJobConfig = JobBenchConfig;

export type ExpireJobRun = JobRun;

/** `ms`: the mean time of a run. */
export type ExpireJobWorld = JobWorldResult<'ms'>;

export interface ExpireJobResult extends JobComparison<'ms'> {
  method: string;
  config: ExpireJobConfig;
}

export async function measureExpireJob(
  endpoint: string,
  config: ExpireJobConfig,
  progress: (message: string) => void,
): Promise<ExpireJobResult> {
  const now = new Date().toISOString();
  const program: ProgramRecord = { ...defaultProgram, updatedAt: now };
  const member = memberFactory(now, program, Math.max(config.rounds, config.warmupRuns));
  const measured = await measureJob(
    endpoint,
    config,
    {
      job: 'expire-points',
      label: 'expire job',
      tablePrefix: 'bench-job',
      // Run r of n runs as of the first day of the month n - 1 - r months ago (the last: this month's).
      schedule: (n) =>
        Array.from({ length: n }, (_, r) => ({
          asOf: startOfMonthAfter(now, -(n - 1 - r)),
          monthsAgo: n - 1 - r,
        })),
      due: ({ monthsAgo }) => member(monthsAgo),
      notDue: (n) => member(null, n),
      items: (store, seeded) => [putNewMember(store, seeded).Put?.Item as Record<string, unknown>],
      // The time ratio of all runs: with as many runs in each world, that of the mean runs.
      time: { key: 'ms', of: (ms) => ms.reduce((sum, value) => sum + value, 0) / ms.length },
    },
    progress,
  );
  return {
    method: [
      'runJob(expire-points) called directly and timed whole, rounds alternating which world goes first;',
      'time ratio of all runs; every request seen by a probe that adds ReturnConsumedCapacity=INDEXES',
      'and sends nothing of its own; read units computed from the items each read returned (DynamoDB',
      "rules), Local's reported units alongside; write units as DynamoDB Local reports them",
    ].join(' '),
    config,
    ...measured,
  };
}

/**
 * Members as the app stores them. A due member (`dueMonthsAgo` a number) earned 500 points that
 * expired on the first day of the month that many months ago (24 months after the month earned,
 * the program's rule; its `points.expiring` notice went out before), and 300 points before any
 * round, which expire in about two years. Every other member (`dueMonthsAgo` null) earned points
 * within the last year: on the expiry index, but more than a year from due and far past the
 * 30-day notice horizon too.
 */
function memberFactory(now: string, program: ProgramRecord, months: number) {
  const expiryMonths = program.expiryMonths;
  if (expiryMonths === null) throw new Error('expire job: the program must expire points');
  const entryTier = program.tiers[0]?.code ?? 'member';
  const midMonth = (monthsAgo: number) =>
    new Date(Date.parse(startOfMonthAfter(now, -monthsAgo)) + 14 * 86_400_000).toISOString();
  let made = 0;
  return (dueMonthsAgo: number | null, n = made): MemberRecord => {
    made++;
    const enrolledAt = midMonth(dueMonthsAgo === null ? 13 + (n % 12) : dueMonthsAgo + expiryMonths + 2);
    let points: MemberPoints = emptyMemberPoints(entryTier, enrolledAt);
    let version = 0;
    const earn = (amount: number, at: string) => {
      points = applyEarn(points, amount, at, at, program).points;
      version++;
    };
    if (dueMonthsAgo !== null) {
      earn(500, midMonth(dueMonthsAgo + expiryMonths + 1));
      earn(300, midMonth(months));
      // The notice job ran before the lot expired: the member's notice entry moved to the next lot.
      points.noticedLots = Object.keys(points.lots).sort().slice(0, 1);
    } else {
      earn(100 + (n % 900), midMonth(1 + (n % 12)));
    }
    const id = newId('mem', Date.parse(enrolledAt));
    return benchMember({ id, made, version, points, enrolledAt, now, program });
  };
}
