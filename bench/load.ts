/**
 * Load: the local server (the handlers `npm start` runs, in this process) under autocannon at 1, 8
 * and 64 connections for earn, redeem and member reads, with the checkout's partner key; then 64
 * connections earning on one hot member vs on 64 members; then the ledger checked against the
 * answers. On a DynamoDB Local of its own (load-world.ts).
 *
 * The handlers keep the store of their first request (one per cold start): run this in a process
 * whose handlers have not served another DynamoDB Local, e.g. `node bench/load.ts`, which prints a
 * table and then the result as JSON on its last line.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  type CallApi,
  createLoadWorld,
  inParallel,
  type JavaCpu,
  javaCpuSeconds,
  type LoadWorld,
} from './load-world.ts';
import { round } from './stats.ts';

const MEMBERS = 64;
/** 50,000 points each: far more than the redeem runs take at 1 point a request. */
const SEED_AMOUNT_MINOR = 5_000_000;
/** 10 points at the entry tier (more once a member climbs a tier). */
const EARN_AMOUNT_MINOR = 1_000;
const REDEEM_POINTS = 1;
const SCENARIOS = ['earn', 'redeem', 'read'] as const;
/**
 * DynamoDB Local (Java) keeps getting faster for a few hundred requests (its JIT compiles for long,
 * see jit% in the table): unrecorded runs of each scenario first.
 */
const WARMUP = { seconds: 5, connections: 8 };
/** Past API Gateway's 29 s: a client timeout is then an answer the API would not have given at all. */
const CLIENT_TIMEOUT_S = 30;
/** After a run of reads (writes are waited for, see settlePending): its last requests finish first. */
const PAUSE_MS = 500;

// autocannon ships no types: the part of its API used here.
interface CannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}
type Context = { key?: string };
interface CannonRequestSpec extends CannonRequest {
  setupRequest: (request: CannonRequest, context: Context) => CannonRequest;
  onResponse: (status: number, body: string, context: Context) => void;
}
interface CannonHistogram {
  average: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
}
interface CannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  '4xx': number;
  '5xx': number;
  statusCodeStats: Record<string, { count: number }>;
  latency: CannonHistogram;
  requests: CannonHistogram & { total: number; sent: number };
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  timeout: number;
  requests: CannonRequestSpec[];
}) => Promise<CannonResult>;
const requireCjs = createRequire(import.meta.url);
const autocannon = requireCjs('autocannon') as Autocannon;
const AUTOCANNON_VERSION = (requireCjs('autocannon/package.json') as { version: string }).version;

export type LoadScenario = 'earn' | 'redeem' | 'read' | 'hot-member' | 'spread-members';

export interface LoadRun {
  scenario: LoadScenario;
  /** The members its requests go to, round-robin. */
  members: number;
  connections: number;
  durationSeconds: number;
  /** Answered requests. */
  requests: number;
  /** Answered requests per second, and of those the 2xx. */
  throughputRps: number;
  okRps: number;
  /** autocannon's latency (every answer, whatever its status). */
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  status: { '2xx': number; '4xx': number; '5xx': number; byCode: Record<string, number> };
  /** 429 Too Many Concurrent Updates: the member kept changing under the request, nothing written. */
  tooManyConcurrentUpdates: number;
  non2xx: number;
  /** Connection errors (timeouts included) and timeouts, as autocannon counts them. */
  errors: number;
  timeouts: number;
  /** Writes whose answer autocannon did not read (in flight when it stopped): settled after the run. */
  unanswered: number;
  /**
   * CPU used during the run in % of one core (the machine may have several): this process (server
   * and autocannon); DynamoDB Local's Java process, of which its one SQLite thread and its JIT
   * compilers; and Local's CPU ms per answered request. Null where /proc cannot be read.
   */
  cpu: {
    nodePercent: number;
    dynamoDbLocalPercent: number | null;
    sqliteThreadPercent: number | null;
    jitPercent: number | null;
    dynamoDbLocalMsPerRequest: number | null;
  };
}

export interface LedgerCheck {
  members: number;
  /** Earns and redemptions answered 2xx (the seed purchases and the replays included)… */
  earnsAnswered: number;
  redemptionsAnswered: number;
  /** …and the entries the members' ledgers hold: equal, or something was credited twice or lost. */
  earnEntries: number;
  redeemEntries: number;
  /** Points in the 2xx answers, against the members' balances and lifetime totals. */
  pointsEarned: number;
  pointsRedeemed: number;
  lifetimeEarned: number;
  lifetimeRedeemed: number;
  expectedAvailable: number;
  available: number;
  /**
   * Requests autocannon sent without reading their answer (in flight when a run stopped, timed out,
   * or 5xx): sent again with their Idempotency-Key, they tell whether they had been applied.
   */
  unanswered: {
    count: number;
    alreadyApplied: number;
    appliedOnReplay: number;
    refused: number;
    /** Still in progress or refused with 429 a minute later: their outcome is unknown. */
    unresolved: number;
  };
  /** The first members whose figures differ (empty when consistent). */
  mismatches: string[];
  consistent: boolean;
}

export interface LoadBound {
  text: string;
  /** 2xx per second (and earn's p99) at each connection count, 64 members round-robin. */
  byConnections: Array<{
    connections: number;
    earnRps: number;
    redeemRps: number;
    readRps: number;
    earnP99Ms: number;
  }>;
  /** The highest 2xx rate of earn or redeem at any connection count. */
  writePlateauRps: number;
  readPeakRps: number;
  /**
   * CPU ms per 2xx earn at the most connections over 64 members (the spread run, the most warmed
   * up): DynamoDB Local's, of it its SQLite thread's, and this process's. Null without /proc.
   */
  perEarnCpuMs: { dynamoDbLocal: number; sqliteThread: number; node: number } | null;
  /** Earns/s with the SQLite thread busy all the time: the serial ceiling, whatever the cores. */
  sqliteCeilingRps: number | null;
  /** Earns/s with every CPU of the machine running only Local and this process. */
  cpuCeilingRps: number | null;
}

export interface LoadResult {
  method: string;
  autocannon: string;
  config: {
    durationSeconds: number;
    connections: number[];
    members: number;
    earnAmountMinor: number;
    redeemPoints: number;
    warmup: { seconds: number; connections: number };
  };
  /** Other work on the machine takes CPU from both processes: the 1-minute load before and after. */
  machine: { cpus: number; loadAverage: { before: number; after: number } };
  runs: LoadRun[];
  hotMember: {
    connections: number;
    hot: { okRps: number; p99Ms: number; tooManyConcurrentUpdates: number; share429: number };
    spread: { okRps: number; p99Ms: number; tooManyConcurrentUpdates: number };
    /** Hot 2xx/s over spread 2xx/s. */
    ratio: number;
  };
  ledger: LedgerCheck;
  bound: LoadBound;
  /** Every 5xx answer, with the first few requests that got one: the target is none. */
  serverErrors: { total: number; samples: Array<{ request: string; status: number; body: string }> };
  target: { max5xx: number; met: boolean };
  durationS: number;
}

export interface LoadOptions {
  durationSeconds: number;
  connections: number[];
  progress?: (message: string) => void;
}

type Movement = 'earn' | 'redeem';

interface Sent {
  movement: Movement;
  memberId: string;
  path: string;
  body: string;
}

interface MemberTally {
  earns: number;
  earned: number;
  redemptions: number;
  redeemed: number;
}

/** What the API answered for every earn and redemption: what the ledger must hold afterwards. */
class Tally {
  readonly members = new Map<string, MemberTally>();
  /** Sent and not answered for sure (no answer read, or a 5xx): by Idempotency-Key. */
  readonly pending = new Map<string, Sent>();
  readonly serverErrors: LoadResult['serverErrors'] = { total: 0, samples: [] };
  readonly settled: LedgerCheck['unanswered'] = {
    count: 0,
    alreadyApplied: 0,
    appliedOnReplay: 0,
    refused: 0,
    unresolved: 0,
  };

  constructor(seedPoints: Map<string, number>) {
    for (const [memberId, points] of seedPoints)
      this.members.set(memberId, { earns: 1, earned: points, redemptions: 0, redeemed: 0 });
  }

  sent(key: string, sent: Sent): void {
    this.pending.set(key, sent);
  }

  /** An answer read: a 2xx counts its points; a 4xx wrote nothing; a 5xx stays unknown. */
  answered(key: string, status: number, body: unknown): void {
    const sent = this.pending.get(key);
    if (!sent || status >= 500) return;
    this.pending.delete(key);
    if (status < 200 || status >= 300) return;
    const tally = this.members.get(sent.memberId);
    if (!tally) throw new Error(`no tally for ${sent.memberId}`);
    if (sent.movement === 'earn') {
      tally.earns += 1;
      tally.earned += (body as { transaction: { points: number } }).transaction.points;
    } else {
      tally.redemptions += 1;
      tally.redeemed += (body as { redemption: { points: number } }).redemption.points;
    }
  }

  serverError(request: string, status: number, body: string): void {
    this.serverErrors.total += 1;
    if (this.serverErrors.samples.length < 5)
      this.serverErrors.samples.push({ request, status, body: body.slice(0, 500) });
  }
}

interface ScenarioSpec {
  scenario: LoadScenario;
  members: string[];
  connections: number;
  seconds: number;
}

/** Unique per measurement, so two runs on one table could never share an Idempotency-Key. */
const KEY_PREFIX = `load-${randomBytes(4).toString('hex')}`;
let sequence = 0;

/** The request of one call: the next member round-robin, a fresh Idempotency-Key for writes. */
function requestSpec(world: LoadWorld, tally: Tally, spec: ScenarioSpec): CannonRequestSpec {
  const movement: Movement | undefined =
    spec.scenario === 'read' ? undefined : spec.scenario === 'redeem' ? 'redeem' : 'earn';
  let next = 0;
  const authorization = `Bearer ${world.partnerKey}`;
  return {
    setupRequest: (request, context) => {
      const memberId = spec.members[next++ % spec.members.length] as string;
      if (!movement)
        return { ...request, method: 'GET', path: `/v1/members/${memberId}`, headers: { authorization } };
      const key = `${KEY_PREFIX}-${++sequence}`;
      const path = `/v1/members/${memberId}/${movement === 'earn' ? 'earn' : 'redemptions'}`;
      const body = JSON.stringify(
        movement === 'earn'
          ? { amountMinor: EARN_AMOUNT_MINOR, currency: 'USD', orderRef: key, channel: 'store' }
          : { points: REDEEM_POINTS, orderRef: key },
      );
      context.key = key;
      tally.sent(key, { movement, memberId, path, body });
      const headers = { authorization, 'content-type': 'application/json', 'idempotency-key': key };
      return { ...request, method: 'POST', path, headers, body };
    },
    onResponse: (status, body, context) => {
      if (status >= 500) tally.serverError(`${spec.scenario} ${context.key ?? 'GET'}`, status, body);
      // Only a write's 2xx is parsed (its points): a read's body would cost CPU in the measured process.
      if (context.key) tally.answered(context.key, status, status < 300 ? JSON.parse(body) : undefined);
    },
  };
}

/** CPU used from now until the returned function is called. */
function cpuMeter(dynamoPid: number | undefined): (requests: number) => LoadRun['cpu'] {
  const started = performance.now();
  const node = process.cpuUsage();
  const java = javaCpuSeconds(dynamoPid);
  return (requests) => {
    const wallS = (performance.now() - started) / 1000;
    const nodeUsed = process.cpuUsage(node);
    const javaNow = javaCpuSeconds(dynamoPid);
    const percent = (seconds: number) => round((100 * seconds) / wallS, 1);
    const javaPercent = (part: keyof JavaCpu) =>
      java && javaNow ? percent(javaNow[part] - java[part]) : null;
    return {
      nodePercent: percent((nodeUsed.user + nodeUsed.system) / 1e6),
      dynamoDbLocalPercent: javaPercent('total'),
      sqliteThreadPercent: javaPercent('sqliteQueue'),
      jitPercent: javaPercent('compiler'),
      dynamoDbLocalMsPerRequest:
        java && javaNow ? round((1000 * (javaNow.total - java.total)) / Math.max(1, requests), 1) : null,
    };
  };
}

async function runScenario(world: LoadWorld, tally: Tally, spec: ScenarioSpec): Promise<LoadRun> {
  const meter = cpuMeter(world.dynamoPid);
  const result = await autocannon({
    url: world.url,
    connections: spec.connections,
    duration: spec.seconds,
    timeout: CLIENT_TIMEOUT_S,
    requests: [requestSpec(world, tally, spec)],
  });
  const cpu = meter(result.requests.total);
  const unanswered = tally.pending.size;
  await settlePending(world, tally);
  // Reads have no key to wait on: the last ones finish within their latency.
  if (unanswered === 0) await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
  const byCode = Object.fromEntries(
    Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, Number(count)]),
  );
  return {
    scenario: spec.scenario,
    members: spec.members.length,
    connections: spec.connections,
    durationSeconds: result.duration,
    requests: result.requests.total,
    throughputRps: round(result.requests.total / result.duration, 1),
    okRps: round(result['2xx'] / result.duration, 1),
    latencyMs: {
      mean: result.latency.average,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    status: { '2xx': result['2xx'], '4xx': result['4xx'], '5xx': result['5xx'], byCode },
    tooManyConcurrentUpdates: byCode['429'] ?? 0,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    unanswered,
    cpu,
  };
}

/** How long a request sent again may keep answering "in progress" or 429 before it is left unknown. */
const SETTLE_DEADLINE_MS = 60_000;

/**
 * Sends every request whose answer was not read again, with its Idempotency-Key, once the run is
 * over: it waits out those still in progress (so the next run starts on an idle server), and a
 * replay tells it was applied, a first answer that it is applied only now.
 */
async function settlePending(world: LoadWorld, tally: Tally): Promise<void> {
  const outcome = tally.settled;
  for (const [key, sent] of [...tally.pending]) {
    outcome.count += 1;
    const deadline = Date.now() + SETTLE_DEADLINE_MS;
    for (;;) {
      const answer = await world.call('POST', sent.path, {
        key: world.partnerKey,
        idempotencyKey: key,
        body: JSON.parse(sent.body),
      });
      // Still in progress (409), member busy (429), or a 5xx again: the same key, a moment later.
      if (answer.status >= 500 || answer.headers.has('retry-after')) {
        if (Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          continue;
        }
        outcome.unresolved += 1;
        break;
      }
      tally.answered(key, answer.status, answer.json);
      if (answer.status >= 300) outcome.refused += 1;
      else if (answer.headers.get('idempotent-replayed') === 'true') outcome.alreadyApplied += 1;
      else outcome.appliedOnReplay += 1;
      break;
    }
  }
}

/** How many entries of a type a member's ledger holds (every page of GET …/transactions). */
async function countEntries(call: CallApi, key: string, memberId: string, type: string): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const query: string = `type=${type}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const answer = await call('GET', `/v1/members/${memberId}/transactions?${query}`, { key });
    if (answer.status !== 200)
      throw new Error(`listing ${memberId}'s ${type} entries answered ${answer.status}`);
    const page = answer.json as { items: unknown[]; nextCursor: string | null };
    count += page.items.length;
    cursor = page.nextCursor;
  } while (cursor);
  return count;
}

interface Balances {
  available: number;
  pending: number;
  reserved: number;
  lifetimeEarned: number;
  lifetimeRedeemed: number;
}

/** Every member's balances and ledger entries against what the 2xx answers said. */
async function checkLedger(world: LoadWorld, tally: Tally): Promise<LedgerCheck> {
  const ids = [...tally.members.keys()];
  const read = await inParallel(ids.length, 4, async (index) => {
    const memberId = ids[index] as string;
    const member = await world.call('GET', `/v1/members/${memberId}`, { key: world.partnerKey });
    if (member.status !== 200) throw new Error(`GET /v1/members/${memberId} answered ${member.status}`);
    return {
      memberId,
      balances: (member.json as { balances: Balances }).balances,
      earnEntries: await countEntries(world.call, world.partnerKey, memberId, 'earn'),
      redeemEntries: await countEntries(world.call, world.partnerKey, memberId, 'redeem'),
    };
  });
  const check: LedgerCheck = {
    members: ids.length,
    earnsAnswered: 0,
    redemptionsAnswered: 0,
    earnEntries: 0,
    redeemEntries: 0,
    pointsEarned: 0,
    pointsRedeemed: 0,
    lifetimeEarned: 0,
    lifetimeRedeemed: 0,
    expectedAvailable: 0,
    available: 0,
    unanswered: tally.settled,
    mismatches: [],
    consistent: false,
  };
  let mismatched = 0;
  for (const { memberId, balances, earnEntries, redeemEntries } of read) {
    const expected = tally.members.get(memberId) as MemberTally;
    const figures = [
      ['earn entries', earnEntries, expected.earns],
      ['redeem entries', redeemEntries, expected.redemptions],
      ['lifetimeEarned', balances.lifetimeEarned, expected.earned],
      ['lifetimeRedeemed', balances.lifetimeRedeemed, expected.redeemed],
      ['available', balances.available, expected.earned - expected.redeemed],
      ['pending + reserved', balances.pending + balances.reserved, 0],
    ] as const;
    const differ = figures.filter(([, actual, wanted]) => actual !== wanted);
    if (differ.length > 0) mismatched += 1;
    if (differ.length > 0 && check.mismatches.length < 5)
      check.mismatches.push(
        `${memberId}: ${differ.map(([name, a, w]) => `${name} ${a} (answers: ${w})`).join(', ')}`,
      );
    check.earnsAnswered += expected.earns;
    check.redemptionsAnswered += expected.redemptions;
    check.earnEntries += earnEntries;
    check.redeemEntries += redeemEntries;
    check.pointsEarned += expected.earned;
    check.pointsRedeemed += expected.redeemed;
    check.lifetimeEarned += balances.lifetimeEarned;
    check.lifetimeRedeemed += balances.lifetimeRedeemed;
    check.expectedAvailable += expected.earned - expected.redeemed;
    check.available += balances.available;
  }
  check.consistent = mismatched === 0 && tally.settled.unresolved === 0;
  return check;
}

function findRun(runs: LoadRun[], scenario: LoadScenario, connections: number): LoadRun | undefined {
  return runs.find((run) => run.scenario === scenario && run.connections === connections);
}

/** CPU ms per 2xx of a run, from its CPU percentages (of its wall time) and its 2xx rate. */
function perOkCpuMs(run: LoadRun): LoadBound['perEarnCpuMs'] {
  const { dynamoDbLocalPercent, sqliteThreadPercent, nodePercent } = run.cpu;
  if (dynamoDbLocalPercent === null || sqliteThreadPercent === null || run.okRps === 0) return null;
  const ms = (percent: number) => round((10 * percent) / run.okRps, 1);
  return {
    dynamoDbLocal: ms(dynamoDbLocalPercent),
    sqliteThread: ms(sqliteThreadPercent),
    node: ms(nodePercent),
  };
}

/** What the figures say about DynamoDB Local's one-transaction-at-a-time bound. */
function describeBound(
  runs: LoadRun[],
  connections: number[],
  hot: LoadResult['hotMember'],
  cpuCount: number,
): LoadBound {
  const byConnections = connections.map((c) => ({
    connections: c,
    earnRps: findRun(runs, 'earn', c)?.okRps ?? 0,
    redeemRps: findRun(runs, 'redeem', c)?.okRps ?? 0,
    readRps: findRun(runs, 'read', c)?.okRps ?? 0,
    earnP99Ms: findRun(runs, 'earn', c)?.latencyMs.p99 ?? 0,
  }));
  const writePlateauRps = Math.max(...byConnections.flatMap((row) => [row.earnRps, row.redeemRps]));
  const readPeakRps = Math.max(...byConnections.map((row) => row.readRps));
  const spread = findRun(runs, 'spread-members', hot.connections);
  const perEarn = spread ? perOkCpuMs(spread) : null;
  const sqliteCeilingRps = perEarn ? Math.round(1000 / perEarn.sqliteThread) : null;
  const cpuCeilingRps = perEarn
    ? Math.round((1000 * cpuCount) / (perEarn.dynamoDbLocal + perEarn.node))
    : null;
  const reads = findRun(runs, 'read', hot.connections);
  const readCpu = reads ? perOkCpuMs(reads) : null;
  // Reads run no transaction: whichever of this process and the SQLite thread is busier bounds them.
  const readBound =
    reads && readCpu
      ? ` Reads at ${hot.connections} connections: this process at ${reads.cpu.nodePercent}% of a core ` +
        `(${readCpu.node} ms a read), the SQLite thread at ${reads.cpu.sqliteThreadPercent}% (${readCpu.sqliteThread} ms): ` +
        `${reads.cpu.nodePercent >= (reads.cpu.sqliteThreadPercent ?? 0) ? "this process's one event loop" : "Local's SQLite thread"} bounds them.`
      : '';
  const series = (pick: (row: (typeof byConnections)[number]) => number) =>
    byConnections.map((row) => Math.round(pick(row))).join(' → ');
  const cpu =
    spread && perEarn
      ? ` Earning at ${hot.connections} connections over ${MEMBERS} members, an earn cost DynamoDB Local ` +
        `${perEarn.dynamoDbLocal} ms of CPU, ${perEarn.sqliteThread} ms of it on the SQLite thread (then ` +
        `${spread.cpu.sqliteThreadPercent}% busy, the JIT ${spread.cpu.jitPercent}%), and this process (server and ` +
        `autocannon, one event loop) ${perEarn.node} ms: the serial SQLite thread allows ${sqliteCeilingRps} ` +
        `earns/s with any number of cores, this machine's ${cpuCount} CPUs ${cpuCeilingRps}/s for both processes; ` +
        `the lower of the two bounds the plateau (other work on the machine takes its share).${readBound}`
      : '';
  return {
    text:
      "DynamoDB Local runs every SQLite call on one thread (sqlite4java's SQLiteQueue), so one transaction at a " +
      'time per process; every earn and redemption is a BatchGet then one TransactWriteItems, so writes queue ' +
      `behind each other whatever the connections. 2xx/s at ` +
      `${connections.join('/')} connections: earn ${series((r) => r.earnRps)}, redeem ${series((r) => r.redeemRps)} ` +
      `(plateau ${Math.round(writePlateauRps)}/s), while earn's p99 grows ${series((r) => r.earnP99Ms)} ms: once the ` +
      `rate is flat, latency ≈ connections / rate (Little's law), time in the queue, not in the handler. Member ` +
      `reads (no transaction) ${series((r) => r.readRps)}/s.${cpu} One hot member: ` +
      `${Math.round(hot.hot.okRps)} 2xx/s and ${hot.hot.tooManyConcurrentUpdates} × 429 vs ` +
      `${Math.round(hot.spread.okRps)}/s over ${MEMBERS} members: its writers conflict on the member's version and ` +
      "retry (up to 40 attempts within the request's deadline, then 429), so one commit costs many attempts. Local " +
      'figures only: DynamoDB runs transactions on different items in parallel.',
    byConnections,
    writePlateauRps,
    readPeakRps,
    perEarnCpuMs: perEarn,
    sqliteCeilingRps,
    cpuCeilingRps,
  };
}

function hotMemberSummary(runs: LoadRun[], connections: number): LoadResult['hotMember'] {
  const hot = findRun(runs, 'hot-member', connections) as LoadRun;
  const spread = findRun(runs, 'spread-members', connections) as LoadRun;
  return {
    connections,
    hot: {
      okRps: hot.okRps,
      p99Ms: hot.latencyMs.p99,
      tooManyConcurrentUpdates: hot.tooManyConcurrentUpdates,
      share429: round(hot.tooManyConcurrentUpdates / Math.max(1, hot.requests), 3),
    },
    spread: {
      okRps: spread.okRps,
      p99Ms: spread.latencyMs.p99,
      tooManyConcurrentUpdates: spread.tooManyConcurrentUpdates,
    },
    ratio: round(hot.okRps / Math.max(1, spread.okRps), 3),
  };
}

export async function measureLoad(options: LoadOptions): Promise<LoadResult> {
  const progress = options.progress ?? (() => {});
  const startedAt = performance.now();
  const loadBefore = loadavg()[0] ?? 0;
  const connections = [...new Set(options.connections)].sort((a, b) => a - b);
  const most = connections.at(-1) ?? 64;
  progress(`starting DynamoDB Local and the local server; enrolling ${MEMBERS + 1} members`);
  const world = await createLoadWorld({ members: MEMBERS, seedAmountMinor: SEED_AMOUNT_MINOR });
  try {
    const tally = new Tally(world.seedPoints);
    const run = (
      scenario: LoadScenario,
      c: number,
      members = world.members,
      seconds = options.durationSeconds,
    ) => runScenario(world, tally, { scenario, members, connections: c, seconds });
    progress(`warming up (${WARMUP.seconds} s of each scenario at ${WARMUP.connections} connections)`);
    for (const scenario of SCENARIOS) await run(scenario, WARMUP.connections, world.members, WARMUP.seconds);
    const runs: LoadRun[] = [];
    for (const c of connections) {
      for (const scenario of SCENARIOS) {
        progress(`${scenario} at ${c} connection(s) for ${options.durationSeconds} s`);
        runs.push(await run(scenario, c));
      }
    }
    // Back to back, so both see the same table and the same machine.
    progress(`${most} connections earning on one member, then on ${MEMBERS}`);
    runs.push(await run('hot-member', most, [world.hotMember]));
    runs.push(await run('spread-members', most));
    progress('checking the ledger');
    const ledger = await checkLedger(world, tally);
    const hotMember = hotMemberSummary(runs, most);
    return {
      method:
        'autocannon against the local server (in-process, the handlers npm start runs) over a DynamoDB Local of its own; ' +
        `the checkout's partner key; ${MEMBERS} members round-robin (earn ${EARN_AMOUNT_MINOR} cents, redeem ${REDEEM_POINTS} point, GET /v1/members/{id}); ` +
        'every write with a fresh Idempotency-Key; afterwards every member read back and its ledger counted',
      autocannon: AUTOCANNON_VERSION,
      config: {
        durationSeconds: options.durationSeconds,
        connections,
        members: MEMBERS,
        earnAmountMinor: EARN_AMOUNT_MINOR,
        redeemPoints: REDEEM_POINTS,
        warmup: WARMUP,
      },
      machine: {
        cpus: cpus().length,
        loadAverage: { before: round(loadBefore), after: round(loadavg()[0] ?? 0) },
      },
      runs,
      hotMember,
      ledger,
      bound: describeBound(runs, connections, hotMember, cpus().length),
      serverErrors: tally.serverErrors,
      target: { max5xx: 0, met: tally.serverErrors.total === 0 },
      durationS: round((performance.now() - startedAt) / 1000, 1),
    };
  } finally {
    await world.close();
  }
}

const pad = (value: string | number, width: number) => String(value).padStart(width);
const orDash = (value: number | null) => (value === null ? '–' : String(Math.round(value)));

export function formatLoad(result: LoadResult): string {
  const header = [
    'scenario'.padEnd(15),
    pad('mbrs', 4),
    pad('conn', 4),
    pad('req/s', 7),
    pad('2xx/s', 7),
    pad('p50', 6),
    pad('p90', 6),
    pad('p99', 6),
    pad('max', 6),
    pad('2xx', 7),
    pad('429', 6),
    pad('4xx', 5),
    pad('5xx', 4),
    pad('err', 4),
    pad('unans', 5),
    pad('node%', 6),
    pad('ddb%', 6),
    pad('sqlite%', 7),
    pad('jit%', 5),
    pad('ddb ms', 7),
  ].join(' ');
  const rows = result.runs.map((run) =>
    [
      run.scenario.padEnd(15),
      pad(run.members, 4),
      pad(run.connections, 4),
      pad(run.throughputRps.toFixed(0), 7),
      pad(run.okRps.toFixed(0), 7),
      pad(run.latencyMs.p50, 6),
      pad(run.latencyMs.p90, 6),
      pad(run.latencyMs.p99, 6),
      pad(run.latencyMs.max, 6),
      pad(run.status['2xx'], 7),
      pad(run.tooManyConcurrentUpdates, 6),
      pad(run.status['4xx'] - run.tooManyConcurrentUpdates, 5),
      pad(run.status['5xx'], 4),
      pad(run.errors, 4),
      pad(run.unanswered, 5),
      pad(Math.round(run.cpu.nodePercent), 6),
      pad(orDash(run.cpu.dynamoDbLocalPercent), 6),
      pad(orDash(run.cpu.sqliteThreadPercent), 7),
      pad(orDash(run.cpu.jitPercent), 5),
      pad(run.cpu.dynamoDbLocalMsPerRequest ?? '–', 7),
    ].join(' '),
  );
  const { ledger, hotMember, serverErrors } = result;
  const lines = [
    `Load (autocannon ${result.autocannon}, ${result.config.durationSeconds} s a run; ${result.machine.cpus} CPUs, ` +
      `load average ${result.machine.loadAverage.before} → ${result.machine.loadAverage.after}). Latency in ms; ` +
      'unans: writes unanswered when the run stopped (settled after it); CPU in % of one core: node (server + ' +
      'autocannon), ddb (DynamoDB Local), sqlite (its one SQLite thread), jit (its compilers); ddb ms: Local CPU per request',
    header,
    ...rows,
    '',
    `Hot member at ${hotMember.connections} connections: ${hotMember.hot.okRps} 2xx/s, p99 ${hotMember.hot.p99Ms} ms, ` +
      `${hotMember.hot.tooManyConcurrentUpdates} × 429 (${(100 * hotMember.hot.share429).toFixed(1)}% of answers) vs ` +
      `${hotMember.spread.okRps} 2xx/s, p99 ${hotMember.spread.p99Ms} ms over ${result.config.members} members ` +
      `(ratio ${hotMember.ratio})`,
    `Ledger ${ledger.consistent ? 'consistent' : 'INCONSISTENT'}: ${ledger.earnEntries} earn entries for ` +
      `${ledger.earnsAnswered} earns answered 2xx, ${ledger.redeemEntries} redeem entries for ` +
      `${ledger.redemptionsAnswered}; available ${ledger.available} (answers: ${ledger.expectedAvailable}), ` +
      `lifetime earned ${ledger.lifetimeEarned} (${ledger.pointsEarned}), redeemed ${ledger.lifetimeRedeemed} ` +
      `(${ledger.pointsRedeemed}); ${ledger.unanswered.count} unanswered sent again: ` +
      `${ledger.unanswered.alreadyApplied} already applied, ${ledger.unanswered.appliedOnReplay} applied then, ` +
      `${ledger.unanswered.refused} refused, ${ledger.unanswered.unresolved} unresolved`,
    ...ledger.mismatches.map((line) => `  ${line}`),
    `5xx: ${serverErrors.total}${serverErrors.total > 0 ? ' (target: none)' : ''}`,
    ...serverErrors.samples.map((sample) => `  ${sample.status} ${sample.request}: ${sample.body}`),
    '',
    `Bound: ${result.bound.text}`,
  ];
  return lines.join('\n');
}

function connectionsFromEnv(): number[] {
  const raw = process.env.BENCH_LOAD_CONNECTIONS ?? '1,8,64';
  const values = raw.split(',').map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((value) => !Number.isInteger(value) || value < 1))
    throw new Error('BENCH_LOAD_CONNECTIONS must be a comma-separated list of positive integers');
  return values;
}

function secondsFromEnv(): number {
  const value = Number(process.env.BENCH_LOAD_SECONDS ?? 10);
  if (!Number.isInteger(value) || value < 1) throw new Error('BENCH_LOAD_SECONDS must be a positive integer');
  return value;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await measureLoad({
    durationSeconds: secondsFromEnv(),
    connections: connectionsFromEnv(),
    progress: (message) => process.stderr.write(`[load] ${message}\n`),
  });
  process.stdout.write(`${formatLoad(result)}\n\n${JSON.stringify(result)}\n`);
}
