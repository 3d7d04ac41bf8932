/**
 * The data the benchmark runs against, created through the services (as the API would): the
 * program, a partner, its POS API key (which every earn and redeem authenticates), an admin key, and
 * a pool of members for each series. Imported only after run.ts has set the environment.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { HttpEvent, HttpResult } from '../lambdas/http/types.ts';
import { scopes } from '../lambdas/schemas/common.ts';
import { createPartnerBody } from '../lambdas/schemas/partners.ts';
import type { EarnBody, RedemptionBody } from '../lambdas/schemas/points.ts';
import { defaultProgram } from '../lambdas/schemas/program.ts';
import { ensureAdminKey, generateApiKey, newApiKeyRecord } from '../lambdas/services/api-keys.ts';
import type { RequestContext } from '../lambdas/services/context.ts';
import { enrolMember } from '../lambdas/services/members.ts';
import { createPartner } from '../lambdas/services/partners.ts';
import { replaceProgram } from '../lambdas/services/program.ts';
import { createApiKey, type Principal } from '../lambdas/store/api-key-store.ts';
import { type Store, storeFromEnv } from '../lambdas/store/client.ts';
import { buildHttpEvent, lambdaContext } from '../local/api-gateway.ts';

export const PARTNER_ID = 'bench-mart';

export interface World {
  /** The handlers' own store (storeFromEnv's singleton), so middlewares added to it see their calls. */
  store: Store;
  /** The caller of earn/redeem: a partner POS key, the common production caller. */
  principal: Principal;
  /** That key's secret, sent as `Authorization: Bearer` (the handler reads its item). */
  partnerKey: string;
  adminKey: string;
  /** Members for the handler's calls, and others for the raw transactions (which track versions). */
  handlerMembers: string[];
  rawMembers: string[];
  /** The member whose earn/redeem is captured and weighed in capacity units. */
  probeMember: string;
}

const admin: Principal = { keyId: 'key_bench_admin', role: 'admin', partnerId: null, scopes: [] };

export async function createWorld(membersPerSeries: number): Promise<World> {
  const store = storeFromEnv();
  const ctx = (): RequestContext => ({ store, principal: admin, now: new Date().toISOString() });
  // A configured program, as in production: the hot path's BatchGet then reads a real program item.
  await replaceProgram(ctx(), defaultProgram);
  const partner = createPartnerBody.parse({
    id: PARTNER_ID,
    name: 'Bench Mart',
    earnRule: { pointsPerUnit: 1, unitMinor: 100 },
    categoryMultipliers: { grocery: 2 },
    fundingRateMinor: 1,
    reimbursementRateMinor: 1,
  });
  const created = await createPartner(ctx(), partner);
  if (created.status !== 201) throw new Error(`createPartner answered ${created.status}`);

  const adminKey = `lk_${randomBytes(32).toString('base64url')}`;
  await ensureAdminKey(store, adminKey, new Date().toISOString());
  const partnerKey = generateApiKey();
  const keyRecord = newApiKeyRecord(
    partnerKey,
    { name: 'Bench Mart POS', role: 'partner', partnerId: PARTNER_ID, scopes: [...scopes] },
    new Date().toISOString(),
  );
  await createApiKey(store, keyRecord);

  let enrolled = 0;
  const enrol = async () => {
    const n = enrolled++;
    const response = await enrolMember(ctx(), {
      externalRef: `bench-${String(n).padStart(6, '0')}`,
      email: `member${String(n).padStart(6, '0')}@example.com`,
      name: 'Bench Member',
      channel: 'store',
    });
    return JSON.parse(response.body).id as string;
  };
  const members = await inParallel(2 * membersPerSeries + 1, 8, enrol);
  return {
    store,
    principal: { keyId: keyRecord.id, role: 'partner', partnerId: PARTNER_ID, scopes: keyRecord.scopes },
    partnerKey,
    adminKey,
    handlerMembers: members.slice(0, membersPerSeries),
    rawMembers: members.slice(membersPerSeries, 2 * membersPerSeries),
    probeMember: members[2 * membersPerSeries] as string,
  };
}

/** Run `count` tasks, at most `width` at a time (enrolling hundreds of members one by one is slow). */
async function inParallel<T>(count: number, width: number, task: () => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

/** Bodies shaped like a real POS purchase: the category multiplier and channel are exercised too. */
export const earnBodyFor = (orderRef: string): EarnBody => ({
  amountMinor: 12_345,
  currency: 'USD',
  orderRef,
  category: 'grocery',
  channel: 'store',
});

export const redeemBody: RedemptionBody = { points: 1 };

/** The API Gateway v2 event of a point-moving POST by the partner's POS key, as the gateway hands it over. */
export function pointsEvent(
  world: World,
  memberId: string,
  action: 'earn' | 'redemptions',
  body: unknown,
  idempotencyKey: string = randomUUID(),
): HttpEvent {
  const path = `/v1/members/${memberId}/${action}`;
  const payload = Buffer.from(JSON.stringify(body));
  return buildHttpEvent(
    {
      method: 'POST',
      url: path,
      headers: {
        host: 'api.example.com',
        authorization: `Bearer ${world.partnerKey}`,
        'content-type': 'application/json',
        'content-length': String(payload.length),
        'idempotency-key': idempotencyKey,
        'user-agent': 'loyalty-bench',
      },
      body: payload,
      sourceIp: '127.0.0.1',
    },
    `POST /v1/members/{memberId}/${action}`,
    { memberId },
  );
}

export function invocationContext(functionName: string): Context {
  return lambdaContext(functionName, randomUUID());
}

/** The bench measures successes only: any other answer means it is not measuring what it claims. */
export function expectCreated(result: HttpResult | undefined, what: string): HttpResult {
  if (result?.statusCode !== 201) {
    throw new Error(`${what} answered ${result?.statusCode}: ${result?.body}`);
  }
  return result;
}
