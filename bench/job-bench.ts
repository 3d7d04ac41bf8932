/**
 * What the job benches (expire-job.ts, renewals-job.ts) share: a job must cost what is due, not
 * what exists, so the same due work is seeded in a small and a big world (each its own table on a
 * DynamoDB Local of the job's own), the job is run on both, and its time, read units and requests
 * are set side by side. Each bench says only what is its job's: which job, how its members (and
 * subscriptions) are built and which are due, and what it checks. Imported only after run.ts has
 * set the environment.
 *
 * Items are written directly (BatchWriteItem, 25 a call, a few calls in flight) as exactly the items
 * the app writes. The job runs `rounds` times on each world, small and big alternating which goes
 * first (S B, B S, …), after `warmupRuns` runs on a throwaway world: DynamoDB Local keeps getting
 * faster run after run, and alternating cancels what warming up left of that drift. Each round has
 * its own asOf and its own cohort of `due` items (the same ids and items in both worlds); every run
 * must process and change exactly its cohort, or the bench stops.
 */
import { randomUUID } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { dueDates } from '../lambdas/domain/due.ts';
import type { MemberPoints } from '../lambdas/domain/member-ledger.ts';
import type { JobName } from '../lambdas/schemas/jobs.ts';
import { defaultProgram } from '../lambdas/schemas/program.ts';
import type { RequestContext } from '../lambdas/services/context.ts';
import { runJob } from '../lambdas/services/jobs.ts';
import { createPartner } from '../lambdas/services/partners.ts';
import { replaceProgram } from '../lambdas/services/program.ts';
import type { Principal } from '../lambdas/store/api-key-store.ts';
import { createStore, type Store } from '../lambdas/store/client.ts';
import { dueIndexAttributes, type MemberRecord } from '../lambdas/store/member-store.ts';
import type { ProgramRecord } from '../lambdas/store/program-store.ts';
import { ensureTable } from '../local/dynamodb-local.ts';
import { callsCapacityOf, requestType } from './capacity.ts';
import { attachProbe, type ProbedCall } from './probe.ts';
import { median, round } from './stats.ts';

export interface JobBenchConfig {
  /** What each run's asOf finds due (members, subscriptions): the same ids and items in both worlds. */
  due: number;
  smallMembers: number;
  bigMembers: number;
  /** Runs of the job per world, each on its own cohort of `due` (even: each world goes first as often). */
  rounds: number;
  /** Runs on the throwaway world the job warms up on (each on its own cohort of `due`). */
  warmupRuns: number;
  /** BatchWriteItem calls in flight while seeding. */
  seedConcurrency: number;
  target: number;
}

export interface JobRun {
  asOf: string;
  ms: number;
  /** As the job answered. */
  processed: number;
  changed: number;
}

interface JobWorldFigures {
  table: string;
  members: number;
  /** Per run. */
  due: number;
  /** Seconds to write the world's items (BatchWriteItem). */
  seedS: number;
  runs: JobRun[];
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

/**
 * One world's figures. `Time` names the time of a run the bench compares (`ms` the mean, `msP50`
 * the median); `Extra` holds the bench's own figures of the world, shown after `members`.
 */
export type JobWorldResult<Time extends string, Extra extends object = object> = JobWorldFigures &
  Extra &
  Record<Time, number>;

/** big / small: the time of a run (and round by round), read units, requests. */
export type JobRatio<Time extends string> = Record<Time, number> & {
  msByRound: number[];
  readUnits: number;
  reportedReadUnits: number;
  requests: number;
};

export interface JobComparison<Time extends string, Extra extends object = object> {
  small: JobWorldResult<Time, Extra>;
  big: JobWorldResult<Time, Extra>;
  ratio: JobRatio<Time>;
  target: { ratio: number; ms: boolean; readUnits: boolean; met: boolean };
}

export interface JobWorld {
  store: Store;
  ctx: () => RequestContext;
}

/** A round: the instant its run is as of, and whatever the bench builds its cohort from. */
export interface JobRound {
  asOf: string;
}

/** What one job's bench says of itself; everything else is `measureJob`'s. */
export interface JobBench<Round extends JobRound, Seeded, Time extends string, Extra extends object> {
  job: JobName;
  /** Starts progress and error messages, e.g. `expire job`. */
  label: string;
  /** Tables are named `<tablePrefix>-<world>-<uuid>`. */
  tablePrefix: string;
  /** The rounds of `runs` runs, each its own asOf (the last: now). */
  schedule: (runs: number) => Round[];
  /** The i-th item of a round's cohort, due as of its asOf and not before. */
  due: (round: Round, i: number) => Seeded;
  /** The n-th member not due in any round. */
  notDue: (n: number) => Seeded;
  /** The items written for one seeded member, as the app stores them. */
  items: (store: Store, seeded: Seeded) => Record<string, unknown>[];
  /** The time of a run the two worlds are compared by (world figure and ratio). */
  time: { key: Time; of: (ms: number[]) => number };
  /** Writes each world makes after the program, before any world is seeded. */
  setUp?: (store: Store) => Promise<void>;
  /** Checks of what is about to be seeded, made before anything is written. */
  check?: (
    sets: Record<'warmup' | 'small' | 'big', Seeded[]>,
    schedules: Record<'warmup' | 'measured', Round[]>,
  ) => void;
  /** The bench's own figures of a world, from what it seeds. */
  extra?: (set: Seeded[]) => Extra;
  /** Said while seeding, before the rounds: e.g. `900 and 10400 subscriptions`. */
  describe?: (small: Extra, big: Extra) => string;
  /** After the rounds, untimed, on the small world then the big one: what the job left of the rounds' cohorts. */
  verify?: (world: JobWorld, due: Seeded[]) => Promise<void>;
}

export const admin: Principal = { keyId: 'key_bench_admin', role: 'admin', partnerId: null, scopes: [] };

/** The benches' partner, `bench-mart`: 1 point per 100 minor units, rates 1. */
export async function createBenchPartner(store: Store, now: string): Promise<void> {
  await createPartner(
    { store, principal: admin, now },
    {
      id: 'bench-mart',
      name: 'Bench Mart',
      earnRule: { pointsPerUnit: 1, unitMinor: 100 },
      fundingRateMinor: 1,
      reimbursementRateMinor: 1,
      status: 'active',
    },
  );
}
const NAMESPACE = 'bench-mart';

/** Seeds the worlds, runs the job on them round by round, and compares what the runs cost. */
export async function measureJob<Round extends JobRound, Seeded, Time extends string, Extra extends object>(
  endpoint: string,
  config: JobBenchConfig,
  bench: JobBench<Round, Seeded, Time, Extra>,
  progress: (message: string) => void,
): Promise<JobComparison<Time, Extra>> {
  const { due, rounds, smallMembers, bigMembers, warmupRuns } = config;
  const { label } = bench;
  if (due * rounds > smallMembers || smallMembers > bigMembers || rounds % 2 !== 0) {
    throw new Error(
      `${label}: needs due × rounds ≤ small members ≤ big members, and an even number of rounds`,
    );
  }
  const cohortsOf = (runs: Round[]) =>
    runs.flatMap((r) => Array.from({ length: due }, (_, i) => bench.due(r, i)));
  const schedules = { measured: bench.schedule(rounds), warmup: bench.schedule(warmupRuns) };
  const dueSeeded = cohortsOf(schedules.measured);
  const warmupDue = cohortsOf(schedules.warmup);
  const notDue = Array.from({ length: bigMembers - dueSeeded.length }, (_, n) => bench.notDue(n));
  const sets = {
    small: [...dueSeeded, ...notDue.slice(0, smallMembers - dueSeeded.length)],
    big: [...dueSeeded, ...notDue],
    warmup: [...warmupDue, ...notDue.slice(0, due)],
  };
  // The bench claims each run does exactly its cohort: the job's checks say so before timing.
  bench.check?.(sets, schedules);
  const extra = (set: Seeded[]) => bench.extra?.(set) ?? ({} as Extra);
  const extras = { small: extra(sets.small), big: extra(sets.big) };

  const worlds = {
    warmup: await createJobWorld(endpoint, bench, 'warmup'),
    small: await createJobWorld(endpoint, bench, 'small'),
    big: await createJobWorld(endpoint, bench, 'big'),
  };
  try {
    const described = bench.describe?.(extras.small, extras.big);
    progress(
      `${label}: seeding ${smallMembers} and ${bigMembers} members ` +
        `(${described ? `${described}, ` : ''}${rounds} × ${due} due), and a warm-up world`,
    );
    await seedWorld(worlds.warmup, sets.warmup, bench, config);
    const smallSeedS = await seedWorld(worlds.small, sets.small, bench, config);
    const bigSeedS = await seedWorld(worlds.big, sets.big, bench, config);
    progress(
      `${label}: seeded (${smallSeedS} s and ${bigSeedS} s); ${warmupRuns} warm-up runs, then ${rounds} rounds, small and big alternating`,
    );

    for (const { asOf } of schedules.warmup) await runOnce(worlds.warmup, bench.job, asOf, due);
    const runs = { small: [] as Observed[], big: [] as Observed[] };
    for (const [r, { asOf }] of schedules.measured.entries()) {
      const order = r % 2 === 0 ? (['small', 'big'] as const) : (['big', 'small'] as const);
      for (const name of order) runs[name].push(await runOnce(worlds[name], bench.job, asOf, due));
    }
    if (bench.verify)
      for (const name of ['small', 'big'] as const) await bench.verify(worlds[name], dueSeeded);

    const world = (name: 'small' | 'big', members: number, seedS: number) =>
      summarise(worlds[name], members, extras[name], due, seedS, runs[name], bench.time);
    const small = world('small', smallMembers, smallSeedS);
    const big = world('big', bigMembers, bigSeedS);
    const total = (w: JobWorldFigures) => Object.values(w.requests).reduce((a, b) => a + b, 0);
    const timeOf = (observed: Observed[]) => bench.time.of(observed.map((run) => run.ms));
    const msRatio = round(timeOf(runs.big) / timeOf(runs.small));
    const ratio = {
      [bench.time.key]: msRatio,
      msByRound: runs.big.map((run, r) => round(run.ms / (runs.small[r] as Observed).ms)),
      readUnits: round(big.readUnits.computed / small.readUnits.computed),
      reportedReadUnits: round(big.readUnits.reported / small.readUnits.reported),
      requests: round(total(big) / total(small)),
    } as JobRatio<Time>;
    // "Within 1.2× of each other": either way round.
    const within = (value: number) => Math.max(value, 1 / value) <= config.target;
    const target = { ratio: config.target, ms: within(msRatio), readUnits: within(ratio.readUnits) };
    return { small, big, ratio, target: { ...target, met: target.ms && target.readUnits } };
  } finally {
    for (const w of Object.values(worlds)) w.store.db.destroy();
  }
}

/**
 * A member item as the app stores it (`putNewMember`'s record): the `made`-th member seeded, its
 * points position as the bench built it with the domain, its due index attributes as every member
 * write keeps them.
 */
export function benchMember(member: {
  id: string;
  made: number;
  version: number;
  points: MemberPoints;
  enrolledAt: string;
  now: string;
  program: ProgramRecord;
}): MemberRecord {
  const { id, version, points, enrolledAt, now, program } = member;
  const ref = String(member.made).padStart(6, '0');
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
}

/**
 * A table with the program configured, then the bench's own first writes. Every world is created
 * (its first writes made) before any is seeded: DynamoDB Local's per-request stream lookup walks
 * the stream records written before the table's first one, which is then the same handful for
 * each world (see README).
 */
export async function createJobWorld(
  endpoint: string,
  bench: { tablePrefix: string; setUp?: (store: Store) => Promise<void> },
  name: string,
): Promise<JobWorld> {
  const tableName = `${bench.tablePrefix}-${name}-${randomUUID()}`;
  await ensureTable(endpoint, tableName);
  const store = createStore({ tableName, endpoint, region: 'us-east-1' });
  const ctx = (): RequestContext => ({ store, principal: admin, now: new Date().toISOString() });
  await replaceProgram(ctx(), defaultProgram);
  await bench.setUp?.(store);
  return { store, ctx };
}

/** BatchWriteItem, 25 items a call, `seedConcurrency` calls in flight; unprocessed items sent again. */
export async function seedWorld<Seeded>(
  world: JobWorld,
  set: Seeded[],
  bench: { items: (store: Store, seeded: Seeded) => Record<string, unknown>[] },
  config: Pick<JobBenchConfig, 'seedConcurrency'>,
): Promise<number> {
  const started = performance.now();
  const { store } = world;
  const items = set.flatMap((seeded) => bench.items(store, seeded));
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

interface Observed extends JobRun {
  calls: ProbedCall[];
}

/** One run of the job as of `asOf`, which must process and change exactly the `due` items. */
async function runOnce(world: JobWorld, job: JobName, asOf: string, due: number): Promise<Observed> {
  const ctx = world.ctx();
  const probe = attachProbe(world.store);
  let ms: number;
  let answer: { processed: number; changed: number; complete: boolean };
  try {
    const started = performance.now();
    const response = await runJob(ctx, job, { asOf });
    ms = performance.now() - started;
    if (response.status !== 200) throw new Error(`${job} answered ${response.status}`);
    answer = JSON.parse(response.body);
  } finally {
    probe.detach();
  }
  // The bench measures the job doing exactly the due work: anything else is not what it claims.
  if (!answer.complete || answer.processed !== due || answer.changed !== due) {
    throw new Error(
      `${job} as of ${asOf} on ${world.store.tableName} (${due} due) answered ${JSON.stringify(answer)}`,
    );
  }
  return { asOf, ms: round(ms), processed: answer.processed, changed: answer.changed, calls: probe.calls };
}

function summarise<Time extends string, Extra extends object>(
  world: JobWorld,
  members: number,
  extra: Extra,
  due: number,
  seedS: number,
  runs: Observed[],
  time: { key: Time; of: (ms: number[]) => number },
): JobWorldResult<Time, Extra> {
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
    ...extra,
    due,
    seedS,
    runs: runs.map(({ calls: _calls, ...run }) => run),
    [time.key]: round(time.of(runs.map((run) => run.ms))),
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
  } as JobWorldResult<Time, Extra>;
}
