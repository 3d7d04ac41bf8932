/**
 * The churn-scan job scores every purchaser every day, so unlike the lifecycle jobs its cost must
 * grow with the members, and no faster: linear. The same bench shape as job-bench.ts (a small and a
 * big world on a DynamoDB Local of its own, a throwaway world to warm up on, rounds alternating which
 * world goes first), but what is compared is the time and the units per member scored.
 *
 * The members are real: CDNOW_master's customers (test/fixtures/cdnow), the first 1,000 in the
 * small world and the first 20,000 in the big one, each member item as `putNewMember` writes it
 * with its purchase history folded purchase by purchase (`recordPurchase`, as an earn or an import
 * keeps it). The model is the one POST /v1/analytics/churn-model/fit makes of all 23,570 customers
 * as of 1997-09-30, stored on each world. Round r runs as of 1998-07-01 + r days (after the data's
 * last day): the first round scores every member from nothing (each one a band change, with its
 * event, in a transaction), the later ones rescore them (a band change now and then, otherwise one
 * conditional update). Imported only after run.ts has set the environment.
 */
import { fitChurnModel } from '../lambdas/domain/churn-model.ts';
import { emptyMemberPoints } from '../lambdas/domain/member-ledger.ts';
import { modelInputs, type PurchaseHistory, recordPurchase } from '../lambdas/domain/purchase-history.ts';
import { addDays } from '../lambdas/domain/time.ts';
import { defaultProgram } from '../lambdas/schemas/program.ts';
import { runJob } from '../lambdas/services/jobs.ts';
import { putChurnModel } from '../lambdas/store/churn-store.ts';
import { type MemberRecord, putNewMember } from '../lambdas/store/member-store.ts';
import { cdnowPurchases } from '../test/support/cdnow.ts';
import { callsCapacityOf } from './capacity.ts';
import { benchMember, createJobWorld, type JobWorld, seedWorld } from './job-bench.ts';
import { attachProbe } from './probe.ts';
import { median, round } from './stats.ts';

export interface ChurnScanConfig {
  smallMembers: number;
  bigMembers: number;
  /** Runs per world (even: each world goes first as often). */
  rounds: number;
  warmupMembers: number;
  seedConcurrency: number;
  /** Per member scored, big / small within this ratio either way round. */
  target: number;
}

export interface ChurnScanRun {
  asOf: string;
  ms: number;
  processed: number;
  changed: number;
}

export interface ChurnScanWorld {
  members: number;
  seedS: number;
  runs: ChurnScanRun[];
  /** Median over the runs of ms per member scored. */
  msPerMember: number;
  /** Per member scored, over all runs: write units as Local reports them, read units computed. */
  writeUnitsPerMember: number;
  readUnitsPerMember: number;
  /** Requests per member scored, by type, over all runs. */
  requestsPerMember: Record<string, number>;
}

export interface ChurnScanResult {
  method: string;
  note: string;
  config: ChurnScanConfig;
  model: { calibrationEnd: string; members: number; distinctHistories: number };
  small: ChurnScanWorld;
  big: ChurnScanWorld;
  /** big / small: per member scored (1 = linear), and the whole run (≈ members ratio). */
  ratio: { msPerMember: number; msPerMemberByRound: number[]; wholeRun: number; writeUnitsPerMember: number };
  target: { ratio: number; met: boolean };
}

const CALIBRATION_END = '1997-09-30';
const FIRST_AS_OF = '1998-07-01T06:00:00.000Z';

export async function measureChurnScan(
  endpoint: string,
  config: ChurnScanConfig,
  progress: (message: string) => void,
): Promise<ChurnScanResult> {
  const { smallMembers, bigMembers, rounds, warmupMembers } = config;
  if (smallMembers > bigMembers || rounds % 2 !== 0) {
    throw new Error('churn scan: needs small ≤ big members and an even number of rounds');
  }
  const histories = cdnowHistories();
  if (bigMembers > histories.length) throw new Error(`churn scan: CDNOW has ${histories.length} customers`);
  const fitted = fitChurnModel(
    histories.map((history) => history.inputs(CALIBRATION_END)).filter((inputs) => inputs !== null),
    CALIBRATION_END,
  );
  if ('refused' in fitted) throw new Error(`churn scan: the fit refused: ${fitted.refused}`);
  const model = { ...fitted.model, calibrationEnd: CALIBRATION_END, fittedAt: new Date().toISOString() };

  const now = new Date().toISOString();
  const bench = {
    tablePrefix: 'bench-churn',
    setUp: (store: JobWorld['store']) => putChurnModel(store, model),
    items: (store: JobWorld['store'], member: MemberRecord) => [
      putNewMember(store, member).Put?.Item as Record<string, unknown>,
    ],
  };
  const worlds = {
    warmup: await createJobWorld(endpoint, bench, 'warmup'),
    small: await createJobWorld(endpoint, bench, 'small'),
    big: await createJobWorld(endpoint, bench, 'big'),
  };
  try {
    const members = (count: number, offset = 0) =>
      histories.slice(offset, offset + count).map((h, i) => h.member(offset + i, now));
    progress(`churn scan: seeding ${smallMembers} and ${bigMembers} CDNOW customers, and a warm-up world`);
    // The warm-up world holds other customers than the measured ones (the last of the file).
    await seedWorld(worlds.warmup, members(warmupMembers, histories.length - warmupMembers), bench, config);
    const smallSeedS = await seedWorld(worlds.small, members(smallMembers), bench, config);
    const bigSeedS = await seedWorld(worlds.big, members(bigMembers), bench, config);
    progress(
      `churn scan: seeded (${smallSeedS} s and ${bigSeedS} s); ${rounds} rounds, small and big alternating`,
    );

    for (let r = 0; r < 2; r++) await scanOnce(worlds.warmup, asOfOf(r), warmupMembers);
    const observed = { small: [] as Observed[], big: [] as Observed[] };
    const sizes = { small: smallMembers, big: bigMembers };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['small', 'big'] as const) : (['big', 'small'] as const);
      for (const name of order) {
        const run = await scanOnce(worlds[name], asOfOf(r), sizes[name]);
        observed[name].push(run);
        progress(`churn scan: ${name} round ${r + 1}: ${run.ms} ms, ${run.changed} band changes`);
      }
    }
    const small = summarise(smallMembers, smallSeedS, observed.small);
    const big = summarise(bigMembers, bigSeedS, observed.big);
    const perMember = (run: Observed) => run.ms / run.processed;
    const msPerMember = round(big.msPerMember / small.msPerMember);
    const ratio = {
      msPerMember,
      msPerMemberByRound: observed.big.map((run, r) => round(perMember(run) / perMember(observed.small[r]!))),
      wholeRun: round(
        median(observed.big.map((run) => run.ms)) / median(observed.small.map((run) => run.ms)),
      ),
      writeUnitsPerMember: round(big.writeUnitsPerMember / small.writeUnitsPerMember),
    };
    const met = Math.max(msPerMember, 1 / msPerMember) <= config.target;
    return {
      method: [
        'runJob(churn-scan) called directly and timed whole, rounds alternating which world goes first,',
        'each round its own asOf day; every request seen by a probe that adds ReturnConsumedCapacity;',
        'per member scored: the median over the runs of ms / processed, write units as Local reports them,',
        'read units computed from what the Scan pages returned',
      ].join(' '),
      note: [
        'Linear is the target: every purchaser is scored daily, so the whole run grows with the members',
        '(about big/small members), and the cost of each member must not. Round 1 scores every member',
        'from nothing (a band change each: the scores, the event and the run counter in one transaction);',
        'later rounds rescore (mostly one conditional update). Each run must process every member and',
        "complete, or the bench stops. DynamoDB Local's timings are local only: compare the two worlds.",
      ].join(' '),
      config,
      model: {
        calibrationEnd: CALIBRATION_END,
        members: model.members,
        distinctHistories: model.distinctHistories,
      },
      small,
      big,
      ratio,
      target: { ratio: config.target, met },
    };
  } finally {
    for (const world of Object.values(worlds)) world.store.db.destroy();
  }
}

const asOfOf = (round: number) => addDays(FIRST_AS_OF, round);

/** Each CDNOW customer's purchase history, in the file's customer order. */
function cdnowHistories() {
  const byCustomer = new Map<string, PurchaseHistory>();
  for (const purchase of cdnowPurchases('master')) {
    const before = byCustomer.get(purchase.customer) ?? null;
    byCustomer.set(
      purchase.customer,
      recordPurchase(before, `${purchase.day}T12:00:00Z`, Math.round(purchase.dollars * 100)),
    );
  }
  return [...byCustomer.values()].map((purchases) => ({
    inputs: (calibrationEnd: string) => modelInputs(purchases, calibrationEnd),
    member: (made: number, now: string): MemberRecord => ({
      ...benchMember({
        id: `mem_churn${String(made).padStart(17, '0')}`,
        made,
        version: 1,
        points: emptyMemberPoints(defaultProgram.tiers[0]!.name, now),
        enrolledAt: `${purchases.firstDay}T12:00:00.000Z`,
        now,
        program: { ...defaultProgram, updatedAt: now },
      }),
      purchases,
    }),
  }));
}

interface Observed extends ChurnScanRun {
  calls: ReturnType<typeof attachProbe>['calls'];
}

async function scanOnce(world: JobWorld, asOf: string, members: number): Promise<Observed> {
  const probe = attachProbe(world.store);
  let ms: number;
  let answer: { processed: number; changed: number; complete: boolean };
  try {
    const started = performance.now();
    const response = await runJob(world.ctx(), 'churn-scan', { asOf });
    ms = performance.now() - started;
    if (response.status !== 200) throw new Error(`churn-scan answered ${response.status}: ${response.body}`);
    answer = JSON.parse(response.body);
  } finally {
    probe.detach();
  }
  if (!answer.complete || answer.processed !== members) {
    throw new Error(
      `churn-scan as of ${asOf} on ${world.store.tableName} (${members}) answered ${JSON.stringify(answer)}`,
    );
  }
  return { asOf, ms: round(ms), processed: answer.processed, changed: answer.changed, calls: probe.calls };
}

function summarise(members: number, seedS: number, runs: Observed[]): ChurnScanWorld {
  const scored = runs.reduce((sum, run) => sum + run.processed, 0);
  const capacity = callsCapacityOf(runs.flatMap((run) => run.calls));
  const perMember = (value: number) => round(value / scored, 4);
  return {
    members,
    seedS,
    runs: runs.map(({ calls: _calls, ...run }) => run),
    msPerMember: round(median(runs.map((run) => run.ms / run.processed)), 4),
    writeUnitsPerMember: perMember(capacity.reported.writeUnits),
    readUnitsPerMember: perMember(capacity.computed.readUnits),
    requestsPerMember: Object.fromEntries(
      Object.entries(capacity.requests).map(([type, count]) => [type, perMember(count)]),
    ),
  };
}
