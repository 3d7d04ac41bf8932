/**
 * The finance reports must cost the same at a thousand members as at fifty thousand: a small and a
 * big world (each its own table) with the same daily activity, the reports read on both, side by
 * side. Imported only after run.ts has set the environment.
 *
 * Each world: its members written directly (BatchWriteItem, as the app stores a member), then the
 * same three months of activity through the real use cases on the same 100 active members (earns,
 * redemptions, surveys, a day at a time on the request clock), then the daily reconcile (which closes
 * the months that are over, as on AWS). Each report is read `rounds` times per world, the worlds
 * alternating which goes first; every request is seen by a probe that adds ReturnConsumedCapacity.
 */
import { randomUUID } from 'node:crypto';
import { newId } from '../lambdas/domain/ids.ts';
import { emptyMemberPoints } from '../lambdas/domain/member-ledger.ts';
import { addDays } from '../lambdas/domain/time.ts';
import { defaultProgram } from '../lambdas/schemas/program.ts';
import { recordActivity } from '../lambdas/services/activities.ts';
import { idempotencyScope, type RequestContext, type UseCaseResponse } from '../lambdas/services/context.ts';
import { earnPoints } from '../lambdas/services/earn.ts';
import {
  deferredRevenueReport,
  liabilityReport,
  rollForwardReport,
} from '../lambdas/services/finance-reports.ts';
import { runJob } from '../lambdas/services/jobs.ts';
import { kpiReport } from '../lambdas/services/kpi-report.ts';
import { redeemPoints } from '../lambdas/services/redeem.ts';
import { putNewMember } from '../lambdas/store/member-store.ts';
import type { ProgramRecord } from '../lambdas/store/program-store.ts';
import { callsCapacityOf } from './capacity.ts';
import {
  admin,
  benchMember,
  createBenchPartner,
  createJobWorld,
  type JobWorld,
  seedWorld,
} from './job-bench.ts';
import { attachProbe, type ProbedCall } from './probe.ts';
import { median, round } from './stats.ts';

export interface ReportsBenchConfig {
  smallMembers: number;
  bigMembers: number;
  /** Members who buy, redeem and answer surveys (the same in both worlds). */
  activeMembers: number;
  /** Days of activity, from the first of a month, and the earns per day. */
  days: number;
  earnsPerDay: number;
  /** Reads of each report per world. */
  rounds: number;
  seedConcurrency: number;
  target: number;
}

const REPORTS = ['liability', 'rollForward', 'deferredRevenue', 'kpis'] as const;
type ReportName = (typeof REPORTS)[number];

const START = '2027-01-01T09:00:00.000Z';

interface ReportFigures {
  msP50: number;
  readUnits: number;
  requests: number;
}

export interface ReportsBenchResult {
  method: string;
  config: ReportsBenchConfig;
  small: { members: number; seedS: number; activityS: number; reports: Record<ReportName, ReportFigures> };
  big: { members: number; seedS: number; activityS: number; reports: Record<ReportName, ReportFigures> };
  ratio: Record<ReportName, { msP50: number; readUnits: number; requests: number }>;
  target: { ratio: number; met: boolean };
}

export async function measureReports(
  endpoint: string,
  config: ReportsBenchConfig,
  progress: (message: string) => void,
): Promise<ReportsBenchResult> {
  const program: ProgramRecord = { ...defaultProgram, updatedAt: START };
  const end = addDays(START, config.days);
  const setUp = (store: JobWorld['store']) => createBenchPartner(store, START);
  const worlds = {
    small: await createJobWorld(endpoint, { tablePrefix: 'bench-reports', setUp }, 'small'),
    big: await createJobWorld(endpoint, { tablePrefix: 'bench-reports', setUp }, 'big'),
  };
  const member = (made: number) =>
    benchMember({
      id: newId('mem', Date.parse(START) - 86_400_000 + made),
      made,
      version: 0,
      points: emptyMemberPoints('member', START),
      enrolledAt: START,
      now: START,
      program,
    });
  const members = Array.from({ length: config.bigMembers }, (_, i) => member(i));
  const active = members.slice(0, config.activeMembers).map((m) => m.id);
  try {
    const seeded = { small: 0, big: 0 };
    const activity = { small: 0, big: 0 };
    for (const name of ['small', 'big'] as const) {
      const count = name === 'small' ? config.smallMembers : config.bigMembers;
      progress(`reports: seeding ${count} members, then ${config.days} days of activity on ${active.length}`);
      seeded[name] = await seedWorld(
        worlds[name],
        members.slice(0, count),
        { items: (store, m) => [putNewMember(store, m).Put?.Item as Record<string, unknown>] },
        config,
      );
      const started = performance.now();
      await playActivity(worlds[name], active, config);
      // The daily control closes the months that are over: what reports read on AWS.
      await runJob({ store: worlds[name].store, principal: admin, now: end }, 'reconcile', {});
      activity[name] = round((performance.now() - started) / 1000, 1);
    }
    const day = end.slice(0, 10);
    const reads: Record<ReportName, (ctx: RequestContext) => Promise<UseCaseResponse>> = {
      liability: (ctx) => liabilityReport(ctx, { asOf: day, format: 'json' }),
      rollForward: (ctx) => rollForwardReport(ctx, { from: '2027-01-01', to: day, format: 'json' }),
      deferredRevenue: (ctx) => deferredRevenueReport(ctx, { from: '2027-01-01', to: day, format: 'json' }),
      kpis: (ctx) =>
        kpiReport(ctx, { from: '2027-01', to: day.slice(0, 7), groupBy: 'partner', format: 'json' }),
    };
    progress(`reports: reading each report ${config.rounds} times per world, alternating`);
    const observed = { small: emptyObserved(), big: emptyObserved() };
    for (let r = 0; r < config.rounds; r++) {
      for (const report of REPORTS) {
        const order = r % 2 === 0 ? (['small', 'big'] as const) : (['big', 'small'] as const);
        for (const name of order)
          observed[name][report].push(await readOnce(worlds[name], end, reads[report]));
      }
    }
    const figures = (name: 'small' | 'big') =>
      Object.fromEntries(REPORTS.map((report) => [report, summarise(observed[name][report])])) as Record<
        ReportName,
        ReportFigures
      >;
    const small = figures('small');
    const big = figures('big');
    const ratio = Object.fromEntries(
      REPORTS.map((report) => [
        report,
        {
          msP50: round(big[report].msP50 / small[report].msP50),
          readUnits: round(big[report].readUnits / small[report].readUnits),
          requests: round(big[report].requests / small[report].requests),
        },
      ]),
    ) as ReportsBenchResult['ratio'];
    const within = (value: number) => Math.max(value, 1 / value) <= config.target;
    return {
      method: [
        'each report called through its use case on a small and a big world with the same activity,',
        `${config.rounds} reads per world alternating which goes first; median time; read units computed`,
        'from the items each read returned (DynamoDB rules); requests as sent',
      ].join(' '),
      config,
      small: { members: config.smallMembers, seedS: seeded.small, activityS: activity.small, reports: small },
      big: { members: config.bigMembers, seedS: seeded.big, activityS: activity.big, reports: big },
      ratio,
      target: {
        ratio: config.target,
        met: Object.values(ratio).every((r) => within(r.msP50) && within(r.readUnits)),
      },
    };
  } finally {
    for (const world of Object.values(worlds)) world.store.db.destroy();
  }
}

/** The same activity in every world: earns every day, a redemption every 4th, a survey every 10th. */
async function playActivity(world: JobWorld, active: string[], config: ReportsBenchConfig): Promise<void> {
  for (let d = 0; d < config.days; d++) {
    const now = addDays(START, d);
    // Each request its own Idempotency-Key, as a till sends (the hash only has to be stable per key).
    const ctx = (): RequestContext => ({
      store: world.store,
      principal: admin,
      now,
      idempotency: { scope: idempotencyScope(admin), key: randomUUID(), requestHash: randomUUID() },
    });
    await Promise.all(
      Array.from({ length: config.earnsPerDay }, async (_, i) => {
        const memberId = active[(d * config.earnsPerDay + i) % active.length] as string;
        const body = {
          partnerId: 'bench-mart',
          amountMinor: 1_000 + ((d * 37 + i * 11) % 9_000),
          currency: 'USD',
          orderRef: `o-${d}-${i}`,
          channel: i % 2 === 0 ? ('store' as const) : ('app' as const),
        };
        await earnPoints(ctx(), memberId, body);
      }),
    );
    if (d % 4 === 3) {
      for (const memberId of active.slice(0, 10)) {
        await redeemPoints(ctx(), memberId, { points: 5, partnerId: 'bench-mart' }).catch(() => undefined);
      }
    }
    if (d % 10 === 9) {
      for (const [i, memberId] of active.slice(0, 10).entries()) {
        await recordActivity(ctx(), memberId, { type: 'survey', ref: `d${d}`, score: i });
      }
    }
  }
}

type Observed = Record<ReportName, { ms: number; calls: ProbedCall[] }[]>;
const emptyObserved = (): Observed => ({ liability: [], rollForward: [], deferredRevenue: [], kpis: [] });

async function readOnce(
  world: JobWorld,
  now: string,
  read: (ctx: RequestContext) => Promise<UseCaseResponse>,
): Promise<{ ms: number; calls: ProbedCall[] }> {
  const probe = attachProbe(world.store);
  try {
    const started = performance.now();
    const response = await read({ store: world.store, principal: admin, now: addDays(now, 0.5) });
    const ms = performance.now() - started;
    if (response.status !== 200) throw new Error(`a report answered ${response.status}: ${response.body}`);
    return { ms, calls: probe.calls };
  } finally {
    probe.detach();
  }
}

function summarise(runs: { ms: number; calls: ProbedCall[] }[]): ReportFigures {
  const capacity = callsCapacityOf(runs.flatMap((run) => run.calls));
  const requests = Object.values(capacity.requests).reduce((sum, n) => sum + n, 0);
  return {
    msP50: round(median(runs.map((run) => run.ms))),
    readUnits: round(capacity.computed.readUnits / runs.length),
    requests: round(requests / runs.length),
  };
}
