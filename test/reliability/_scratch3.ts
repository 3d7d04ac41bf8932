import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureAdminKey } from '../../lambdas/services/api-keys.ts';
import { storeFromEnv } from '../../lambdas/store/client.ts';
import { ensureTable, freePort, startDynamoDbLocal } from '../../local/dynamodb-local.ts';
import { startLocalServer } from '../../local/server.ts';

process.env.AWS_ACCESS_KEY_ID = 'local';
process.env.AWS_SECRET_ACCESS_KEY = 'local';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
const dir = mkdtempSync(join(tmpdir(), 'rel-'));
const port = await freePort();
let ddb = await startDynamoDbLocal({ dataDir: dir, port });
process.env.TABLE_NAME = 'scratch';
process.env.DYNAMODB_ENDPOINT = ddb.endpoint;
await ensureTable(ddb.endpoint, 'scratch', { stream: false });
const store = storeFromEnv();
const writes: string[] = [];
store.db.middlewareStack.add(
  (next, context) => async (args) => {
    writes.push(String((context as { commandName?: string }).commandName));
    return next(args);
  },
  { step: 'initialize', name: 'probe' },
);
const adminKey = 'lk_admin_' + 'a'.repeat(43);
await ensureAdminKey(store, adminKey, new Date().toISOString());
const server = await startLocalServer({ port: 0 });
const req = async (
  method: string,
  path: string,
  body?: unknown,
  key = adminKey,
  extra: Record<string, string> = {},
) => {
  const headers: Record<string, string> = { authorization: `Bearer ${key}`, ...extra };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && !headers['idempotency-key']) headers['idempotency-key'] = randomUUID();
  const t0 = Date.now();
  const r = await fetch(server.url + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const t = await r.text();
  return { status: r.status, text: t, ms: Date.now() - t0, replay: r.headers.get('idempotent-replayed') };
};
console.log(
  await req('POST', '/v1/partners', {
    id: 'shop',
    name: 'Shop',
    earnRule: { pointsPerUnit: 1, unitMinor: 100 },
    fundingRateMinor: 1,
    reimbursementRateMinor: 1,
  }),
);
console.log('commands', writes.splice(0).join(','));
const m = JSON.parse((await req('POST', '/v1/members', {})).text).id;
console.log('commands', writes.splice(0).join(','));
await req('GET', `/v1/members/${m}`);
const pid = Number(readFileSync(join(dir, 'dynamodb-local.pid'), 'utf8'));
process.kill(pid, 'SIGKILL');
await new Promise((r) => setTimeout(r, 300));
const key = randomUUID();
{
  const r = await req(
    'POST',
    `/v1/members/${m}/earn`,
    { amountMinor: 100, currency: 'USD', orderRef: 'o1', partnerId: 'shop' },
    adminKey,
    { 'idempotency-key': key },
  );
  console.log('earn down', r.status, r.ms, r.replay, r.text.slice(0, 250));
}
{
  const r = await req('GET', `/v1/members/${m}`);
  console.log('get down', r.status, r.ms, r.replay, r.text.slice(0, 250));
}
{
  const r = await req('POST', `/v1/members`, {});
  console.log('enrol down', r.status, r.ms, r.replay, r.text.slice(0, 250));
}
{
  const r = await req('GET', `/v1/health`);
  console.log('health down', r.status, r.ms, r.replay, r.text.slice(0, 250));
}
{
  const r = await req('GET', `/v1/program`);
  console.log('program down', r.status, r.ms, r.replay, r.text.slice(0, 250));
}
{
  const r = await req('GET', `/v1/partners`);
  console.log('partners down', r.status, r.ms, r.replay, r.text.slice(0, 250));
}
ddb = await startDynamoDbLocal({ dataDir: dir, port });
{
  const r = await req(
    'POST',
    `/v1/members/${m}/earn`,
    { amountMinor: 100, currency: 'USD', orderRef: 'o1', partnerId: 'shop' },
    adminKey,
    { 'idempotency-key': key },
  );
  console.log('earn up', r.status, r.ms, r.replay, r.text.slice(0, 250));
}
{
  const r = await req(
    'POST',
    `/v1/members/${m}/earn`,
    { amountMinor: 100, currency: 'USD', orderRef: 'o1', partnerId: 'shop' },
    adminKey,
    { 'idempotency-key': key },
  );
  console.log('earn up again', r.status, r.ms, r.replay, r.text.slice(0, 250));
}
{
  const r = await req('GET', `/v1/members/${m}`);
  console.log('get up', r.status, r.ms, r.replay, r.text.slice(0, 250));
}
await server.close();
await ddb.stop();
