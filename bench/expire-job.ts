/**
 * The expire-points job must cost what is due, not what exists: the same due members in a small
 * and a big world (each its own table on the bench's DynamoDB Local), the job run on both, its
 * time, read units and requests side by side. Imported only after run.ts has set the environment.
 *
 * Members are written directly (BatchWriteItem, 25 a call, a few calls in flight) as exactly the
 * item the app writes: the record `putNewMember` puts, its points position built by the domain
 * (`applyEarn` on `emptyMemberPoints`), its due index attributes `dueIndexAttributes(id,
 * dueDates(points, now, program))` as every member write keeps them. Enrolling and earning through
 * the use cases would take minutes for 20,000 members and write nothing the job reads.
 *
 * The job runs `rounds` times on each world, small and big alternating which goes first (S B, B S,
 * S B, B S), after `warmupRuns` runs on a throwaway world: DynamoDB Local keeps getting faster run
 * after run, and alternating cancels what warming up left of that drift. Round r has its own
 * cohort of due members, whose oldest lot expired on the first day of a month; round r runs as of
 * that day. Every member of a later cohort is on the expiry index but not yet in range, and
 * earlier cohorts were dealt with by then.
 */
import { randomUUID } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { dueDates } from '../lambdas/domain/due.ts';
import { newId } from '../lambdas/domain/ids.ts';
import { emptyMemberPoints, type MemberPoints } from '../lambdas/domain/member-ledger.ts';
import { applyEarn } from '../lambdas/domain/movements.ts';
import { startOfMonthAfter } from '../lambdas/domain/time.ts';
import { defaultProgram } from '../lambdas/schemas/program.ts';
import type { RequestContext } from '../lambdas/services/context.ts';
import { runJob } from '../lambdas/services/jobs.ts';
import { replaceProgram } from '../lambdas/services/program.ts';
import type { Principal } from '../lambdas/store/api-key-store.ts';
import { createStore, type Store } from '../lambdas/store/client.ts';
import { dueIndexAttributes, type MemberRecord, putNewMember } from '../lambdas/store/member-store.ts';
import type { ProgramRecord } from '../lambdas/store/program-store.ts';
import { ensureTable } from '../local/dynamodb-local.ts';
import { callsCapacityOf, requestType } from './capacity.ts';
import { attachProbe, type ProbedCall } from './probe.ts';
import { median, round } from './stats.ts';

export interface ExpireJobConfig {
  /** Members with one lot due as of each run's asOf: the same members (ids, items) in both worlds. */
  due: number;
  smallMembers: number;
  bigMembers: number;
  /** Runs of the job per world, each on its own cohort of `due` members (even: each world goes first as often). */
  rounds: number;
  /** Runs on the throwaway world the job warms up on (each on its own cohort of `due` members). */
  warmupRuns: number;
  /** BatchWriteItem calls in flight while seeding. */
  seedConcurrency: number;
  target: number;
}

export interface ExpireJobRun {
  asOf: string;
  ms: number;
  processed: number;
  changed: number;
}

export interface ExpireJobWorld {
  table: string;
  members: number;
  /** Per run. */
  due: number;
  /** Seconds to write the members (BatchWriteItem). */
  seedS: number;
  runs: ExpireJobRun[];
  /** Mean time of a run. */
  ms: number;
  /** What every run answered (the bench stops unless each processed and changed exactly `due`). */
  processed: number;
  changed: number;
  /** Per run (every run sends the same requests). Reads computed from what they returned (the reference), and as Local reports them. */
  readUnits: { computed: number; reported: number };
  /** As DynamoDB Local reports them (computing them needs before/after reads a timed run cannot afford). */
  writeUnits: { reported: number };
  /** Per run, by type; a Query by the index it reads. */
  requests: Record<string, number>;
  /** Per run: items the reads returned (for a due index Query, the entries it read). */
  itemsReturned: Record<string, number>;
  /** Median round trip by request type, over all runs. */
  requestMs: Record<string, number>;
}

export interface ExpireJobResult {
  method: string;
  config: ExpireJobConfig;
  small: ExpireJobWorld;
  big: ExpireJobWorld;
  /** big / small: time of all runs (and round by round), read units, requests. */
  ratio: {
    ms: number;
    msByRound: number[];
    readUnits: number;
    reportedReadUnits: number;
    requests: number;
  };
  target: { ratio: number; ms: boolean; readUnits: boolean; met: boolean };
}

const admin: Principal = { keyId: 'key_bench_admin', role: 'admin', partnerId: null, scopes: [] };
const NAMESPACE = 'bench-mart';

export async function measureExpireJob(
  endpoint: string,
  config: ExpireJobConfig,
  progress: (message: string) => void,
): Promise<ExpireJobResult> {
  const { due, rounds, smallMembers, bigMembers, warmupRuns } = config;
  if (due * rounds > smallMembers || smallMembers > bigMembers || rounds % 2 !== 0) {
    throw new Error(
      'expire job: needs due × rounds ≤ small members ≤ big members, and an even number of rounds',
    );
  }
  const now = new Date().toISOString();
  const program: ProgramRecord = { ...defaultProgram, updatedAt: now };
  // Run r of n runs as of the first day of the month n - 1 - r months ago (the last: this month's).
  const schedule = (n: number) =>
    Array.from({ length: n }, (_, r) => ({
      asOf: startOfMonthAfter(now, -(n - 1 - r)),
      monthsAgo: n - 1 - r,
    }));
  const member = memberFactory(now, program, Math.max(rounds, warmupRuns));
  const cohortsOf = (runs: ReturnType<typeof schedule>) =>
    runs.flatMap(({ monthsAgo }) => Array.from({ length: due }, () => member(monthsAgo)));
  const measured = schedule(rounds);
  const warmupSchedule = schedule(warmupRuns);
  const dueMembers = cohortsOf(measured);
  const warmupDue = cohortsOf(warmupSchedule);
  const notDue = Array.from({ length: bigMembers - dueMembers.length }, (_, n) => member(null, n));

  const worlds = {
    warmup: await createJobWorld(endpoint, 'warmup'),
    small: await createJobWorld(endpoint, 'small'),
    big: await createJobWorld(endpoint, 'big'),
  };
  try {
    progress(
      `expire job: seeding ${smallMembers} and ${bigMembers} members (${rounds} × ${due} due), and a warm-up world`,
    );
    await seed(worlds.warmup, [...warmupDue, ...notDue.slice(0, due)], config);
    const smallSeedS = await seed(
      worlds.small,
      [...dueMembers, ...notDue.slice(0, smallMembers - dueMembers.length)],
      config,
    );
    const bigSeedS = await seed(worlds.big, [...dueMembers, ...notDue], config);
    progress(
      `expire job: seeded (${smallSeedS} s and ${bigSeedS} s); ${warmupRuns} warm-up runs, then ${rounds} rounds, small and big alternating`,
    );

    for (const { asOf } of warmupSchedule) await runOnce(worlds.warmup, asOf, due);
    const runs = { small: [] as Observed[], big: [] as Observed[] };
    for (const [r, { asOf }] of measured.entries()) {
      const order = r % 2 === 0 ? (['small', 'big'] as const) : (['big', 'small'] as const);
      for (const name of order) runs[name].push(await runOnce(worlds[name], asOf, due));
    }

    const small = summarise(worlds.small, smallMembers, due, smallSeedS, runs.small);
    const big = summarise(worlds.big, bigMembers, due, bigSeedS, runs.big);
    const total = (world: ExpireJobWorld) => Object.values(world.requests).reduce((a, b) => a + b, 0);
    const totalMs = (observed: Observed[]) => observed.reduce((sum, run) => sum + run.ms, 0);
    const ratio = {
      ms: round(totalMs(runs.big) / totalMs(runs.small)),
      msByRound: runs.big.map((run, r) => round(run.ms / (runs.small[r] as Observed).ms)),
      readUnits: round(big.readUnits.computed / small.readUnits.computed),
      reportedReadUnits: round(big.readUnits.reported / small.readUnits.reported),
      requests: round(total(big) / total(small)),
    };
    // "Within 1.2× of each other": either way round.
    const within = (value: number) => Math.max(value, 1 / value) <= config.target;
    const target = { ratio: config.target, ms: within(ratio.ms), readUnits: within(ratio.readUnits) };
    return {
      method: [
        'runJob(expire-points) called directly and timed whole, rounds alternating which world goes first;',
        'time ratio of all runs; every request seen by a probe that adds ReturnConsumedCapacity=INDEXES',
        'and sends nothing of its own; read units computed from the items each read returned (DynamoDB',
        "rules), Local's reported units alongside; write units as DynamoDB Local reports them",
      ].join(' '),
      config,
      small,
      big,
      ratio,
      target: { ...target, met: target.ms && target.readUnits },
    };
  } finally {
    for (const world of Object.values(worlds)) world.store.db.destroy();
  }
}

interface JobWorld {
  store: Store;
  ctx: () => RequestContext;
}

/**
 * A table with the program configured. Every world is created (its first write, the program, made)
 * before any is seeded: DynamoDB Local's per-request stream lookup walks the stream records written
 * before the table's first one, which is then the same handful for each world.
 */
async function createJobWorld(endpoint: string, name: string): Promise<JobWorld> {
  const tableName = `bench-job-${name}-${randomUUID()}`;
  await ensureTable(endpoint, tableName);
  const store = createStore({ tableName, endpoint, region: 'us-east-1' });
  const ctx = (): RequestContext => ({ store, principal: admin, now: new Date().toISOString() });
  await replaceProgram(ctx(), defaultProgram);
  return { store, ctx };
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
    const ref = String(made).padStart(6, '0');
    return {
      id,
      status: 'active',
      version,
      points,
      email: `member${ref}@example.com`,
      name: 'Bench Member',
      channel: 'store',
      externalRefs: { [NAMESPACE]: `bench-${ref}` },
      enrolledAt,
      createdAt: enrolledAt,
      updatedAt: now,
      erasedAt: null,
      indexed: dueIndexAttributes(id, dueDates(points, now, program)),
    };
  };
}

/** BatchWriteItem, 25 items a call, `seedConcurrency` calls in flight; unprocessed items sent again. */
async function seed(world: JobWorld, members: MemberRecord[], config: ExpireJobConfig): Promise<number> {
  const started = performance.now();
  const { store } = world;
  const items = members.map((member) => putNewMember(store, member).Put?.Item as Record<string, unknown>);
  const batches = Array.from({ length: Math.ceil(items.length / 25) }, (_, i) =>
    items.slice(i * 25, i * 25 + 25),
  );
  const worker = async () => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      let pending = batch.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 5) throw new Error('seeding: DynamoDB Local keeps leaving items unprocessed');
        const result = await store.db.send(
          new BatchWriteCommand({ RequestItems: { [store.tableName]: pending } }),
        );
        pending = (result.UnprocessedItems?.[store.tableName] ?? []) as typeof pending;
      }
    }
  };
  await Promise.all(Array.from({ length: config.seedConcurrency }, worker));
  return round((performance.now() - started) / 1000, 1);
}

interface Observed extends ExpireJobRun {
  calls: ProbedCall[];
}

/** One run of the job as of `asOf`, which must process and change exactly the `due` members. */
async function runOnce(world: JobWorld, asOf: string, due: number): Promise<Observed> {
  const ctx = world.ctx();
  const probe = attachProbe(world.store);
  let ms: number;
  let answer: { processed: number; changed: number; complete: boolean };
  try {
    const started = performance.now();
    const response = await runJob(ctx, 'expire-points', { asOf });
    ms = performance.now() - started;
    if (response.status !== 200) throw new Error(`expire-points answered ${response.status}`);
    answer = JSON.parse(response.body);
  } finally {
    probe.detach();
  }
  // The bench measures the job doing exactly the due work: anything else is not what it claims.
  if (!answer.complete || answer.processed !== due || answer.changed !== due) {
    throw new Error(
      `expire-points as of ${asOf} on ${world.store.tableName} (${due} due) answered ${JSON.stringify(answer)}`,
    );
  }
  return { asOf, ms: round(ms), processed: answer.processed, changed: answer.changed, calls: probe.calls };
}

function summarise(
  world: JobWorld,
  members: number,
  due: number,
  seedS: number,
  runs: Observed[],
): ExpireJobWorld {
  const perRun = (value: number) => round(value / runs.length);
  const perRunEach = (record: Record<string, number>) =>
    Object.fromEntries(Object.entries(record).map(([name, value]) => [name, perRun(value)]));
  const calls = runs.flatMap((run) => run.calls);
  const capacity = callsCapacityOf(calls);
  const latencies = new Map<string, number[]>();
  for (const call of calls)
    latencies.set(requestType(call), [...(latencies.get(requestType(call)) ?? []), call.ms]);
  return {
    table: world.store.tableName,
    members,
    due,
    seedS,
    runs: runs.map(({ calls: _calls, ...run }) => run),
    ms: round(runs.reduce((sum, run) => sum + run.ms, 0) / runs.length),
    processed: due,
    changed: due,
    readUnits: {
      computed: perRun(capacity.computed.readUnits),
      reported: perRun(capacity.reported.readUnits),
    },
    writeUnits: { reported: perRun(capacity.reported.writeUnits) },
    requests: perRunEach(capacity.requests),
    itemsReturned: perRunEach(capacity.itemsReturned),
    requestMs: Object.fromEntries([...latencies].map(([type, samples]) => [type, round(median(samples))])),
  };
}
