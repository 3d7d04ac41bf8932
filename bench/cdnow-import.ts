/**
 * CDNOW_master (69,659 purchases of 23,570 customers, test/fixtures/cdnow) imported through the
 * local server, as a new user would send it: CSV parts of at most 6 MB to POST
 * /v1/imports/transactions, timed whole; then the same file again (a re-import changes nothing),
 * and the churn model fitted over the imported histories.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { ChurnModelView } from '../lambdas/schemas/analytics.ts';
import { MAX_IMPORT_BYTES } from '../lambdas/schemas/imports.ts';
import { ensureAdminKey } from '../lambdas/services/api-keys.ts';
import { createStore } from '../lambdas/store/client.ts';
import { ensureTable, LOCAL_CREDENTIALS } from '../local/dynamodb-local.ts';
import { startLocalServer } from '../local/server.ts';
import { cdnowCsv, cdnowPurchases } from '../test/support/cdnow.ts';
import { round } from './stats.ts';

export interface CdnowImportResult {
  method: string;
  purchases: number;
  customers: number;
  parts: number;
  bytes: number;
  importS: number;
  importCalls: number;
  /** Calls answered 503 (out of time mid-batch, work kept) and sent again: a loaded machine. */
  importCallsTimedOut: number;
  reimportS: number;
  imported: number;
  membersCreated: number;
  reimported: number;
  fitS: number;
  fit: { r: number; alpha: number; a: number; b: number; p: number; q: number; v: number };
  target: { importS: number; met: boolean };
}

/** Split a CSV body (header + rows) into parts of at most `max` bytes, each with the header. */
function parts(csv: string, max: number): string[] {
  const [header, ...rows] = csv.trimEnd().split('\n');
  const out: string[] = [];
  let current: string[] = [];
  let size = (header?.length ?? 0) + 1;
  for (const row of rows) {
    if (size + row.length + 1 > max && current.length > 0) {
      out.push(`${header}\n${current.join('\n')}\n`);
      current = [];
      size = (header?.length ?? 0) + 1;
    }
    current.push(row);
    size += row.length + 1;
  }
  if (current.length > 0) out.push(`${header}\n${current.join('\n')}\n`);
  return out;
}

export async function measureCdnowImport(
  endpoint: string,
  progress: (message: string) => void,
): Promise<CdnowImportResult> {
  const tableName = 'cdnow-import';
  await ensureTable(endpoint, tableName);
  process.env.TABLE_NAME = tableName;
  process.env.DYNAMODB_ENDPOINT = endpoint;
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_CREDENTIALS.secretAccessKey;
  process.env.AWS_REGION ??= 'us-east-1';
  const store = createStore({ tableName, endpoint });
  const adminKey = `lk_admin_${randomBytes(32).toString('base64url')}`;
  await ensureAdminKey(store, adminKey, new Date().toISOString());
  const server = await startLocalServer({ port: 0 });
  try {
    const call = async (method: string, path: string, body: string, contentType: string) => {
      const response = await fetch(server.url + path, {
        method,
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': contentType },
        body,
      });
      const json = (await response.json()) as Record<string, number | boolean>;
      // Out of time mid-batch on a loaded machine: what it did is kept; the same call continues.
      if (response.status === 503 && path === '/v1/imports/transactions')
        return { complete: false, timedOut: true };
      if (!response.ok)
        throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(json)}`);
      return json;
    };
    await call(
      'POST',
      '/v1/partners',
      JSON.stringify({
        id: 'cdnow',
        name: 'CDNOW',
        earnRule: { pointsPerUnit: 1, unitMinor: 100 },
        fundingRateMinor: 1,
        reimbursementRateMinor: 1,
      }),
      'application/json',
    );
    const purchases = cdnowPurchases('master');
    const csv = cdnowCsv(purchases, 'cdnow');
    const bodies = parts(csv, MAX_IMPORT_BYTES);
    const importAll = async () => {
      const totals = { imported: 0, membersCreated: 0, rejected: 0, calls: 0, timedOut: 0 };
      for (const body of bodies) {
        // A call that runs out of time answers complete: false; the same part again continues.
        for (let call_ = 0; call_ < 20; call_++) {
          const answer = await call('POST', '/v1/imports/transactions', body, 'text/csv');
          totals.imported += Number(answer.imported ?? 0);
          totals.membersCreated += Number(answer.membersCreated ?? 0);
          totals.calls += 1;
          if (answer.timedOut) totals.timedOut += 1;
          if (answer.complete) {
            totals.rejected += Number(answer.rejectedCount ?? 0);
            break;
          }
        }
      }
      if (totals.rejected > 0) throw new Error(`${totals.rejected} CDNOW lines were rejected`);
      return totals;
    };
    progress(`importing CDNOW_master: ${purchases.length} purchases in ${bodies.length} part(s)`);
    let started = performance.now();
    const first = await importAll();
    const importS = (performance.now() - started) / 1000;
    progress(`imported in ${importS.toFixed(1)} s; importing it again`);
    started = performance.now();
    const again = await importAll();
    const reimportS = (performance.now() - started) / 1000;

    progress('fitting the churn model through the API (calibration 1997-09-30)');
    started = performance.now();
    const fitted = (await call(
      'POST',
      '/v1/analytics/churn-model/fit',
      JSON.stringify({ calibrationEnd: '1997-09-30' }),
      'application/json',
    )) as unknown as ChurnModelView;
    const fitS = (performance.now() - started) / 1000;
    const { bgnbd, gammaGamma } = fitted;
    return {
      method:
        'CSV parts of ≤ 6 MB POSTed to the local server (the handlers npm start runs, in a process of its own) over DynamoDB Local; timed whole; then the same parts again; then POST /v1/analytics/churn-model/fit',
      purchases: purchases.length,
      customers: new Set(purchases.map((p) => p.customer)).size,
      parts: bodies.length,
      bytes: Buffer.byteLength(csv),
      importS: round(importS, 1),
      importCalls: first.calls,
      importCallsTimedOut: first.timedOut,
      reimportS: round(reimportS, 1),
      imported: first.imported,
      membersCreated: first.membersCreated,
      reimported: again.imported,
      fitS: round(fitS, 1),
      fit: {
        r: round(bgnbd.r, 4),
        alpha: round(bgnbd.alpha, 4),
        a: round(bgnbd.a, 4),
        b: round(bgnbd.b, 4),
        p: round(gammaGamma.p, 4),
        q: round(gammaGamma.q, 4),
        // Fitted on cents: in dollars, as published.
        v: round(gammaGamma.v / 100, 4),
      },
      target: { importS: 60, met: importS < 60 },
    };
  } finally {
    await server.close();
  }
}

/**
 * `node bench/cdnow-import.ts <endpoint>`: the measurement in a process of its own, the result as
 * JSON on stdout. run.ts starts it so: the handlers keep the store of their first request (one per
 * cold start), which in run.ts's own process is an earlier section's DynamoDB Local.
 */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const endpoint = process.argv[2];
  if (!endpoint) throw new Error('usage: node bench/cdnow-import.ts <DynamoDB Local endpoint>');
  const result = await measureCdnowImport(endpoint, (message) =>
    process.stderr.write(`[cdnow] ${message}\n`),
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
