/**
 * `npm start`: DynamoDB Local persisted in .data/, the table and an admin key created on first
 * start, and the API served on http://localhost:$PORT through the same handlers as on AWS. The
 * table's stream is polled by the same event publisher, into .data/events.ndjson (and, with
 * LOYALTY_EVENTS_WEBHOOK, POSTed to that URL).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { currentTime, startClockAt } from '../lambdas/config/clock.ts';
import { ensureAdminKey } from '../lambdas/services/api-keys.ts';
import { createStore } from '../lambdas/store/client.ts';
import { ensureProgramCopies } from '../lambdas/store/program-store.ts';
import {
  type DynamoDbLocal,
  ensureTable,
  isPortFree,
  JavaMissingError,
  LOCAL_CREDENTIALS,
  startDynamoDbLocal,
} from '../local/dynamodb-local.ts';
import { type LocalServer, startLocalServer } from '../local/server.ts';
import { type StreamPoller, startStreamPoller } from '../local/stream-poller.ts';
import { startWebhookDeliverer, type WebhookDeliverer } from '../local/webhook.ts';

const dataDir = resolve(process.env.LOYALTY_DATA_DIR ?? '.data');
const port = Number(process.env.PORT ?? 3000);
const tableName = process.env.TABLE_NAME ?? 'loyalty';
const webhook = process.env.LOYALTY_EVENTS_WEBHOOK?.trim() || undefined;

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
  if (webhook && !/^https?:\/\/[^/]/i.test(webhook)) {
    fail(`LOYALTY_EVENTS_WEBHOOK=${webhook} is not an http:// or https:// URL.`);
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
  let poller: StreamPoller | undefined;
  let deliverer: WebhookDeliverer | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the API, the event publisher and DynamoDB Local…`);
    await server?.close();
    // Both keep their place on disk (checkpoint, webhook offset): the next start carries on from it.
    await deliverer?.stop();
    await poller?.stop();
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
  // CloudWatch metrics (EMF lines) mean nothing on a laptop: POWERTOOLS_METRICS_DISABLED=false shows them.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_CREDENTIALS.secretAccessKey;
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

  const created = await ensureTable(dynamo.endpoint, tableName);
  const admin = adminKey();
  const store = createStore({ tableName, endpoint: dynamo.endpoint });
  const keyState = await ensureAdminKey(store, admin.key, currentTime().toISOString());
  // Data kept in .data/ from before the program had copies (decisions §52) gets them now.
  await ensureProgramCopies(store);
  store.db.destroy();

  try {
    server = await startLocalServer({ port, onRequest: (line) => console.log(line) });
  } catch (error) {
    await dynamo.stop();
    fail(`Could not listen on port ${port}: ${error instanceof Error ? error.message : String(error)}`);
  }

  // Events: the table's stream, polled by the same publisher as on AWS, into events.ndjson; the
  // webhook is fed from that file, so neither a slow webhook nor the poller ever holds up the API.
  let events: string;
  try {
    poller = await startStreamPoller({ endpoint: dynamo.endpoint, tableName, dataDir });
    if (webhook) deliverer = startWebhookDeliverer({ url: webhook, dataDir });
    events = `${displayPath(poller.file)} (webhook: ${webhook ?? 'none'})`;
  } catch (error) {
    events = `not published: ${error instanceof Error ? error.message : String(error)}`;
  }

  console.log(`
Loyalty API listening on ${server.url}
  DynamoDB Local  ${dynamo.endpoint} (table "${tableName}" ${created ? 'created' : 'reused'}, data in ${dataDir})
  Events          ${events}
  Clock           ${clock ? `${currentTime().toISOString()} (LOYALTY_CLOCK=${clock}, running on)` : 'system time'}
  Admin key       ${admin.key}
                  (${admin.source}${keyState === 'revoked' ? '; WARNING: this key was revoked and will get 401' : ''})

Try it:
  curl -s ${server.url}/v1/program -H "Authorization: Bearer ${admin.key}"

Ctrl-C stops the API and DynamoDB Local.
`);
}

/** A path under the working directory as a relative one (`.data/events.ndjson`), else as it is. */
function displayPath(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}

await main();
