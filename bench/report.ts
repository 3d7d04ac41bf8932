/** The shape of bench/results.json, and its rendering as plain-text tables. */

import type { CampaignsBenchResult } from './campaigns.ts';
import type { OperationCapacity } from './capacity.ts';
import type { CdnowImportResult } from './cdnow-import.ts';
import type { ChurnScanResult, ChurnScanWorld } from './churn-scan.ts';
import type { CostResult } from './cost.ts';
import type { ExpireJobResult } from './expire-job.ts';
import type { JobBenchConfig, JobComparison, JobWorldResult } from './job-bench.ts';
import type { Breakdown, PairResult } from './latency.ts';
import { formatLoad, type LoadResult } from './load.ts';
import type { RenewalsJobResult } from './renewals-job.ts';
import type { ReportsBenchResult } from './reports.ts';
import type { Summary } from './stats.ts';

export interface FunctionResult {
  name: string;
  kb: number;
  gzipKb: number;
  sourceMapKb: number;
  largestParts: { name: string; kb: number }[];
  /** Median import time with NODE_OPTIONS=--enable-source-maps, as lib/handler-function.ts deploys it. */
  coldInitMs: number;
  coldInitWithoutSourceMapsMs: number;
  /** coldInitMs / the bare DynamoDB-client function's (same options, same runs). */
  coldInitVsBare: number;
  /** coldInitVsBare ≤ the target (1.15). */
  coldInitTargetMet: boolean;
  coldInitSamplesMs: { withSourceMaps: number[]; withoutSourceMaps: number[] };
}

export interface Results {
  machine: Record<string, string | number>;
  config: {
    warmup: number;
    iterations: number;
    membersPerSeries: number;
    breakdownCalls: number;
    coldInitRuns: number;
  };
  target: {
    ratio: number;
    met: boolean;
    earn: { p50: boolean; p99: boolean };
    redeem: { p50: boolean; p99: boolean };
    earnItemsPerTransaction: { max: number; met: boolean };
  };
  latencyMs: { earn: PairResult; redeem: PairResult };
  breakdownMs: Breakdown;
  capacity: {
    method: string;
    earn: OperationCapacity;
    redeem: OperationCapacity;
  };
  /** The expire-points job on a small and a big world with the same members due. */
  expireJob: ExpireJobResult;
  /** The subscription-renewals job on a small and a big world with the same subscriptions due. */
  renewalsJob: RenewalsJobResult;
  /** CDNOW_master imported through the local server, again, and the churn model fitted on it. */
  cdnowImport: CdnowImportResult;
  /** The churn-scan job on 1,000 and 20,000 CDNOW customers: linear, per member scored. */
  churnScan: ChurnScanResult;
  /** The finance reports on 1,000 and 50,000 members with the same activity. */
  reports: ReportsBenchResult;
  /** Earn latency with 0 vs 20 active campaigns. */
  campaigns: CampaignsBenchResult;
  functions: FunctionResult[];
  /** The local server under autocannon: earn, redeem, reads at 1/8/64 connections; one hot member. */
  load: LoadResult;
  /** A million earns on AWS, from the measured units and time and list prices (cost.ts). */
  cost: CostResult;
  durationS: number;
}

export function renderReport(results: Results): string {
  return [
    header(results),
    latencySection(results),
    breakdownSection(results.breakdownMs),
    capacitySection(results.capacity, results.target),
    expireJobSection(results.expireJob),
    renewalsJobSection(results.renewalsJob),
    cdnowImportSection(results.cdnowImport),
    churnScanSection(results.churnScan),
    reportsSection(results.reports),
    campaignsSection(results.campaigns),
    functionsSection(results.functions),
    formatLoad(results.load),
    costSection(results.cost),
  ].join('\n\n');
}

function header({ machine, config, durationS }: Results): string {
  return [
    `Loyalty API benchmark — ${machine.date}`,
    `${machine.cpu} ×${machine.cpus}, Node ${machine.node}, ${machine.os}; DynamoDB Local from ${machine.dynamoDbLocal}`,
    `${config.iterations} measured cycles after ${config.warmup} warm-up, handler and raw interleaved; ran ${durationS} s`,
  ].join('\n');
}

function latencySection({ latencyMs, target }: Results): string {
  const row = (name: string, s: Summary) => [name, s.p50, s.p99, s.mean, s.n];
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const ratioRow = (pair: PairResult, met: { p50: boolean; p99: boolean }) => [
    '  handler / raw',
    `${pair.ratio.p50} (${verdict(met.p50)})`,
    `${pair.ratio.p99} (${verdict(met.p99)})`,
    '',
    '',
  ];
  return [
    `Latency, ms (target: handler/raw ≤ ${target.ratio} — ${target.met ? 'MET' : 'NOT MET'})`,
    table(
      ['series', 'p50', 'p99', 'mean', 'n'],
      [
        row('earn    handler (full pipeline)', latencyMs.earn.handler),
        row('earn    raw BatchGetItem + TransactWriteItems', latencyMs.earn.raw),
        ratioRow(latencyMs.earn, target.earn),
        row('redeem  handler (full pipeline)', latencyMs.redeem.handler),
        row('redeem  raw BatchGetItem + TransactWriteItems', latencyMs.redeem.raw),
        ratioRow(latencyMs.redeem, target.redeem),
      ],
    ),
  ].join('\n');
}

function breakdownSection(b: Breakdown): string {
  return [
    `Where an earn's time goes, ms (medians of ${b.calls} calls; each DynamoDB send timed whole)`,
    table(
      ['part', 'ms'],
      [
        ['handler total', b.handler.total],
        ['  BatchGetItem (member, program, partner, API key)', b.handler.batchGet],
        ['  TransactWriteItems', b.handler.transactWrite],
        ['  everything else', b.handler.other],
        ['earnPoints() called directly, total', b.service.total],
        ['  everything but DynamoDB (domain, items)', b.service.other],
        ['≈ HTTP pipeline (middy, JSON, zod, hashing, logs)', b.pipeline],
      ],
    ),
  ].join('\n');
}

function capacitySection(capacity: Results['capacity'], target: Results['target']): string {
  const operations = { earn: capacity.earn, redeem: capacity.redeem };
  const summary = table(
    ['operation', 'requests', 'items/txn', 'RCU', 'WCU (table + index)', 'Local reports RCU/WCU'],
    Object.entries(operations).map(([name, op]) => [
      name,
      op.requests.join(' + '),
      op.itemsPerTransaction ?? '-',
      op.computed.readUnits,
      `${op.computed.writeUnits} (${op.computed.tableWriteUnits} + ${op.computed.indexWriteUnits})`,
      `${op.reported.readUnits} / ${op.reported.writeUnits}`,
    ]),
  );
  const perItem = table(
    ['operation', 'op', 'item', 'bytes', 'RCU', 'WCU', 'index WCU'],
    Object.entries(operations).flatMap(([name, op]) =>
      op.items.map((item) => [
        name,
        item.op,
        item.item,
        item.bytes,
        item.readUnits,
        item.writeUnits,
        item.indexWriteUnits,
      ]),
    ),
  );
  const items = target.earnItemsPerTransaction;
  return [
    `Capacity units per operation (${capacity.method})`,
    summary,
    `earn items per transaction: ${capacity.earn.itemsPerTransaction} (target ≤ ${items.max}: ${items.met ? 'met' : 'NOT met'})`,
    '',
    perItem,
  ].join('\n');
}

function expireJobSection(job: ExpireJobResult): string {
  return jobSection(job, {
    title: 'expire-points job, same due members',
    time: { key: 'ms', header: 'ms (mean)' },
    perRun: 'Per run (RCU computed from what each read returned; WCU as DynamoDB Local reports it).',
    cohorts: 'cohort of due members',
    timeRatio: 'all runs',
  });
}

function renewalsJobSection(job: RenewalsJobResult): string {
  const cohort = Object.entries(job.cohort)
    .map(([kind, count]) => `${count} ${kind}`)
    .join(', ');
  return jobSection(job, {
    title: 'subscription-renewals job, same due subscriptions',
    time: { key: 'msP50', header: 'ms (p50)' },
    columns: [['subscriptions', (w) => w.subscriptions]],
    perRun: 'Per run.',
    cohorts: `asOf day and cohort (${cohort})`,
    timeRatio: 'the median runs',
    notes: [job.note],
  });
}

function cdnowImportSection(run: CdnowImportResult): string {
  const fit = run.fit;
  return [
    `CDNOW_master import through the local server (${run.purchases.toLocaleString('en-US')} purchases, ${run.customers.toLocaleString('en-US')} customers, ${run.parts} part(s), ${(run.bytes / 1e6).toFixed(1)} MB)`,
    `  import ${run.importS} s in ${run.importCalls} call(s) (target < ${run.target.importS} s: ${run.target.met ? 'met' : 'NOT met'}), ${run.membersCreated} members created`,
    `  the same file again: ${run.reimportS} s, ${run.reimported} imported`,
    `  fit over the imported histories (calibration 1997-09-30): ${run.fitS} s; BG/NBD r ${fit.r}, α ${fit.alpha}, a ${fit.a}, b ${fit.b}; Gamma-Gamma p ${fit.p}, q ${fit.q}, v ${fit.v}`,
  ].join('\n');
}

function churnScanSection(scan: ChurnScanResult): string {
  const { small, big, ratio, target } = scan;
  const world = (name: string, w: ChurnScanWorld) =>
    `  ${name.padEnd(6)} ${String(w.members).padStart(6)} members: runs ${w.runs.map((run) => `${run.ms} ms (${run.changed} changes)`).join(', ')}; ` +
    `${w.msPerMember} ms, ${w.writeUnitsPerMember} WCU, ${w.readUnitsPerMember} RCU per member`;
  return [
    `churn-scan job, every purchaser scored (model: ${scan.model.members} CDNOW customers as of ${scan.model.calibrationEnd}, ${scan.model.distinctHistories} distinct histories)`,
    world('small', small),
    world('big', big),
    `  big / small per member: ${ratio.msPerMember} (by round ${ratio.msPerMemberByRound.join(', ')}; target within ${target.ratio}×: ${target.met ? 'met' : 'NOT met'}); whole run ${ratio.wholeRun}; WCU per member ${ratio.writeUnitsPerMember}`,
    `  ${scan.note}`,
  ].join('\n');
}

function campaignsSection(c: CampaignsBenchResult): string {
  const line = (name: string, s: { p50: number; p99: number }) =>
    `  ${name.padEnd(28)} p50 ${s.p50} ms, p99 ${s.p99} ms`;
  return [
    'earn with campaigns (the use case, three tables interleaved)',
    line('no campaign', c.none),
    line('20 active campaigns', c.twenty),
    line('20, one applying budget', c.twentyWithBudget),
    `  ratio 20 / 0: p50 ${c.ratio.p50}, p99 ${c.ratio.p99} (with a budget: ${c.ratioWithBudget.p50}, ${c.ratioWithBudget.p99})`,
    `  target: within ${c.target.ratio}×: ${c.target.met ? 'met' : 'NOT met'}`,
  ].join('\n');
}

function reportsSection(reports: ReportsBenchResult): string {
  const { small, big, ratio, target } = reports;
  const rows = (Object.keys(ratio) as (keyof typeof ratio)[]).map((name) => {
    const s = small.reports[name];
    const b = big.reports[name];
    const r = ratio[name];
    return `  ${name.padEnd(16)} ${`${s.msP50} ms, ${s.readUnits} RCU, ${s.requests} req`.padEnd(30)} ${`${b.msP50} ms, ${b.readUnits} RCU, ${b.requests} req`.padEnd(30)} ${r.msP50} / ${r.readUnits} / ${r.requests}`;
  });
  return [
    `finance reports, the same ${reports.config.days} days of activity on ${small.members} and ${big.members} members`,
    `  ${'report'.padEnd(16)} ${'small'.padEnd(30)} ${'big'.padEnd(30)} big/small ms / RCU / requests`,
    ...rows,
    `  target: within ${target.ratio}× (time and read units): ${target.met ? 'met' : 'NOT met'}`,
  ].join('\n');
}

/** A job's small and big worlds side by side, big / small below, then its requests by type. */
function jobSection<Time extends string, Extra extends object>(
  job: JobComparison<Time, Extra> & { config: JobBenchConfig },
  view: {
    /** What is compared: `<job> job, same due <what>`. */
    title: string;
    /** The time of a run the worlds are compared by. */
    time: { key: Time; header: string };
    /** The job's own columns, after `members`. */
    columns?: [string, (w: JobWorldResult<Time, Extra>) => string | number][];
    /** Opens the line under the table. */
    perRun: string;
    /** Each round is on its own …. */
    cohorts: string;
    /** The time ratio is of …. */
    timeRatio: string;
    notes?: string[];
  },
): string {
  const { small, big, ratio, target } = job;
  const columns = view.columns ?? [];
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const world = (name: string, w: JobWorldResult<Time, Extra>) => [
    name,
    w.members,
    ...columns.map(([, cell]) => cell(w)),
    w.due,
    `${w.processed} / ${w.changed}`,
    w[view.time.key],
    w.runs.map((run) => run.ms).join(', '),
    w.readUnits.computed,
    w.readUnits.reported,
    w.writeUnits.reported,
    Object.values(w.requests).reduce((a, b) => a + b, 0),
  ];
  const types = [...new Set([...Object.keys(small.requests), ...Object.keys(big.requests)])];
  return [
    `${view.title} in a small and a big world (target: within ${target.ratio}× of each other in time ` +
      `and read units — ${target.met ? 'MET' : 'NOT MET'})`,
    table(
      [
        'world',
        'members',
        ...columns.map(([header]) => header),
        'due/run',
        'processed / changed',
        view.time.header,
        'ms by round',
        'RCU',
        'RCU (Local)',
        'WCU (Local)',
        'requests',
      ],
      [
        world('small', small),
        world('big', big),
        [
          '  big / small',
          '',
          ...columns.map(() => ''),
          '',
          '',
          `${ratio[view.time.key]} (${verdict(target.ms)})`,
          ratio.msByRound.join(', '),
          `${ratio.readUnits} (${verdict(target.readUnits)})`,
          ratio.reportedReadUnits,
          '',
          ratio.requests,
        ],
      ],
    ),
    `${view.perRun} ${job.config.rounds} rounds after ${job.config.warmupRuns} warm-up runs, alternating ` +
      `which world goes first, each on its own ${view.cohorts}; the time ratio is of ${view.timeRatio}.`,
    ...(view.notes ?? []),
    '',
    table(
      ['request', 'small n', 'big n', 'small items read', 'big items read', 'small ms p50', 'big ms p50'],
      types.map((type) => [
        type,
        small.requests[type] ?? 0,
        big.requests[type] ?? 0,
        small.itemsReturned[type] ?? '-',
        big.itemsReturned[type] ?? '-',
        small.requestMs[type] ?? '-',
        big.requestMs[type] ?? '-',
      ]),
    ),
  ].join('\n');
}

function functionsSection(functions: FunctionResult[]): string {
  return [
    'Bundles (esbuild as CDK NodejsFunction: ESM, minified, AWS SDK bundled) and cold import, ms',
    table(
      [
        'function',
        'KB',
        'gzip KB',
        'map KB',
        'import (source maps on)',
        'import (off)',
        '/ bare (≤ 1.15)',
        'largest parts, KB',
      ],
      functions.map((f) => [
        f.name,
        f.kb,
        f.gzipKb,
        f.sourceMapKb,
        f.coldInitMs,
        f.coldInitWithoutSourceMapsMs,
        `${f.coldInitVsBare} ${f.coldInitTargetMet ? 'met' : 'NOT met'}`,
        f.largestParts.map((part) => `${part.name} ${part.kb}`).join(', '),
      ]),
    ),
  ].join('\n');
}

function costSection(cost: CostResult): string {
  return [
    `Cost per million earns, USD (${cost.prices.region} list prices of ${cost.prices.asOf}; target ≤ ${cost.target.maxUsd}: ${cost.target.met ? 'met' : 'NOT met'})`,
    table(
      ['item', 'USD', 'basis'],
      [
        ...cost.perMillionEarns.map((line) => [line.item, line.usd, line.basis]),
        ['total', cost.totalUsd, ''],
      ],
    ),
  ].join('\n');
}

/** Columns padded to their widest cell; numbers right-aligned. */
function table(headers: string[], rows: (string | number)[][]): string {
  const widths = headers.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => String(row[i] ?? '').length)),
  );
  const line = (cells: (string | number)[]) =>
    cells
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        return typeof cell === 'number' ? String(cell).padStart(width) : String(cell).padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}
