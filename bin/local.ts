/**
 * `npm start`: DynamoDB Local persisted in .data/, the table and an admin key created on first
 * start, and the API served on http://localhost:$PORT through the same handlers as on AWS.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { currentTime, startClockAt } from '../lambdas/config/clock.ts';
import { ensureAdminKey } from '../lambdas/services/api-keys.ts';
import { createStore } from '../lambdas/store/client.ts';
import {
  type DynamoDbLocal,
  ensureTable,
  isPortFree,
  JavaMissingError,
  LOCAL_CREDENTIALS,
  startDynamoDbLocal,
} from '../local/dynamodb-local.ts';
import { type LocalServer, startLocalServer } from '../local/server.ts';

const dataDir = resolve(process.env.LOYALTY_DATA_DIR ?? '.data');
const port = Number(process.env.PORT ?? 3000);
const tableName = process.env.TABLE_NAME ?? 'loyalty';

function fail(message: string): never {
  console.error(`\n✖ ${message}\n`);
  process.exit(1);
}

/** The admin key: LOYALTY_BOOTSTRAP_ADMIN_KEY, else the one generated on first start (kept in .data/). */
function adminKey(): { key: string; source: string } {
  const fromEnv = process.env.LOYALTY_BOOTSTRAP_ADMIN_KEY?.trim();
  if (fromEnv) {
    // The same floor as the AWS bootstrap secret: an admin key must not be guessable.
    if (fromEnv.length < 32 || /\s/.test(fromEnv)) {
      fail(
        'LOYALTY_BOOTSTRAP_ADMIN_KEY must be at least 32 characters without spaces (try: openssl rand -hex 24).',
      );
    }
    return { key: fromEnv, source: 'LOYALTY_BOOTSTRAP_ADMIN_KEY' };
  }
  const file = resolve(dataDir, 'admin-key');
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), source: `${file}` };
  const key = `lk_admin_${randomBytes(32).toString('base64url')}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, source: `generated, saved in ${file}` };
}

async function main() {
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`PORT=${process.env.PORT} is not a port number.`);
  if (port !== 0 && !(await isPortFree(port))) {
    fail(
      `Port ${port} is already in use (another \`npm start\`?). Stop it, or run with PORT=3001 npm start.`,
    );
  }
  mkdirSync(dataDir, { recursive: true });
  // LOYALTY_CLOCK starts the API's clock at another instant (never set on AWS): see the README.
  const clock = process.env.LOYALTY_CLOCK?.trim();
  if (clock) {
    try {
      startClockAt(clock);
    } catch (error) {
      fail(error instanceof Error ? error.message : String(error));
    }
  }

  let dynamo: DynamoDbLocal | undefined;
  let server: LocalServer | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the API and DynamoDB Local…`);
    await server?.close();
    await dynamo?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    dynamo = await startDynamoDbLocal({
      dataDir: resolve(dataDir, 'dynamodb'),
      ...(process.env.DYNAMODB_PORT ? { port: Number(process.env.DYNAMODB_PORT) } : {}),
    });
  } catch (error) {
    if (error instanceof JavaMissingError) fail(error.message);
    fail(`DynamoDB Local did not start: ${error instanceof Error ? error.message : String(error)}`);
  }

  // The handlers read their configuration from the environment, as on Lambda.
  process.env.TABLE_NAME = tableName;
  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_CREDENTIALS.secretAccessKey;
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

  const created = await ensureTable(dynamo.endpoint, tableName);
  const admin = adminKey();
  const store = createStore({ tableName, endpoint: dynamo.endpoint });
  const keyState = await ensureAdminKey(store, admin.key, currentTime().toISOString());
  store.db.destroy();

  try {
    server = await startLocalServer({ port, onRequest: (line) => console.log(line) });
  } catch (error) {
    await dynamo.stop();
    fail(`Could not listen on port ${port}: ${error instanceof Error ? error.message : String(error)}`);
  }

  console.log(`
Loyalty API listening on ${server.url}
  DynamoDB Local  ${dynamo.endpoint} (table "${tableName}" ${created ? 'created' : 'reused'}, data in ${dataDir})
  Clock           ${clock ? `${currentTime().toISOString()} (LOYALTY_CLOCK=${clock}, running on)` : 'system time'}
  Admin key       ${admin.key}
                  (${admin.source}${keyState === 'revoked' ? '; WARNING: this key was revoked and will get 401' : ''})

Try it:
  curl -s ${server.url}/v1/program -H "Authorization: Bearer ${admin.key}"

Ctrl-C stops the API and DynamoDB Local.
`);
}

await main();
