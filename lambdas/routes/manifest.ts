/**
 * The route manifest: the one list of every HTTP route. CDK builds API Gateway routes and one
 * Lambda function per group from it; the local server routes with it; the OpenAPI document is
 * generated from its schemas. Handlers only supply the implementation of each operationId.
 */
import * as z from 'zod';
import * as analytics from '../schemas/analytics.ts';
import * as apiKeys from '../schemas/api-keys.ts';
import * as campaigns from '../schemas/campaigns.ts';
import type { Role, Scope } from '../schemas/common.ts';
import { listOf } from '../schemas/common.ts';
import * as events from '../schemas/events.ts';
import * as imports from '../schemas/imports.ts';
import * as jobs from '../schemas/jobs.ts';
import * as members from '../schemas/members.ts';
import * as partners from '../schemas/partners.ts';
import * as points from '../schemas/points.ts';
import * as program from '../schemas/program.ts';
import * as reports from '../schemas/reports.ts';
import * as rewards from '../schemas/rewards.ts';
import * as subscriptions from '../schemas/subscriptions.ts';
import { assetNames } from '../site/files.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteAccess {
  roles: readonly Role[];
  /** A partner key must hold this scope (admin keys hold every scope). */
  scope?: Scope;
}

export interface RouteSpec {
  operationId: string;
  method: HttpMethod;
  path: string;
  group: RouteGroupName;
  summary: string;
  /** `public` routes skip the authorizer. */
  access: RouteAccess | 'public';
  idempotency?: 'required' | 'optional';
  successStatus: number;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /**
   * A body taken as UTF-8 text (validated by `body`, a string schema) in one of these media types,
   * up to `maxBytes`, instead of JSON (bulk imports).
   */
  textBody?: { mediaTypes: readonly string[]; maxBytes: number };
  response?: z.ZodType;
  /**
   * The media type of a success that is not JSON (the pages and assets of `/docs` and `/console`):
   * served as is, with no input validation.
   */
  produces?: string;
  /** A request body that works (shown in /docs; a unit test parses it with `body`). */
  example?: unknown;
  /**
   * It recognises a duplicate by its body (a PSP's paymentRef), not by Idempotency-Key, and answers
   * it as a replay (`Idempotent-Replayed: true`).
   */
  replaysDuplicates?: boolean;
  /** Error statuses it answers besides those its shape implies (the OpenAPI document lists both). */
  alsoAnswers?: readonly string[];
}

/** What CDK needs to build a route group's function. */
export interface RouteGroupSpec {
  entry: string;
  /** Decides the DynamoDB grant (read-only otherwise). */
  writes: boolean;
  /** The group reads no data at all: its function gets no table grant. */
  noData?: boolean;
  description: string;
  /**
   * Lambda timeout, for groups whose calls may use all the time API Gateway gives them (it gives up
   * after 30 s). @default the function's (10 s): a stuck request fails fast.
   */
  timeoutSeconds?: number;
}

/** One Lambda function per group, its code in `lambdas/handlers/<entry>.ts`. */
export const routeGroups = {
  health: { entry: 'health', writes: false, noData: true, description: 'Liveness and the OpenAPI document' },
  site: {
    entry: 'site',
    writes: false,
    noData: true,
    description: 'The interactive reference (/docs) and the finance console (/console)',
  },
  program: { entry: 'program', writes: true, description: 'Program configuration' },
  partners: { entry: 'partners', writes: true, description: 'Coalition partners' },
  apiKeys: { entry: 'api-keys', writes: true, description: 'API keys' },
  members: { entry: 'members', writes: true, description: 'Member enrolment and lookup' },
  points: {
    entry: 'points',
    writes: true,
    description: 'Points ledger: earn, redeem, holds, refunds, returns, adjustments, transfers, history',
  },
  rewards: { entry: 'rewards', writes: true, description: 'Rewards catalogue' },
  campaigns: {
    entry: 'campaigns',
    writes: true,
    description: 'Campaigns: targeted earn boosts with budgets',
  },
  subscriptions: {
    entry: 'subscriptions',
    writes: true,
    description: 'Paid membership: plans, subscriptions, payments, cancellations',
  },
  reports: { entry: 'reports', writes: false, description: 'Finance reports' },
  events: { entry: 'events', writes: false, description: 'The events feed' },
  imports: {
    entry: 'imports',
    writes: true,
    description: 'Bulk imports of historical purchases',
    // A large part (a few MB of lines) takes seconds: the call may use what API Gateway allows.
    timeoutSeconds: 29,
  },
  jobs: {
    entry: 'jobs',
    writes: true,
    description: 'Lifecycle jobs: expiry, maturation, holds, subscription renewals, tier review',
    // A run stops at its deadline (remaining time − 2 s) and answers `complete: false`: the longer
    // the call, the fewer calls a large run takes.
    timeoutSeconds: 29,
  },
  analytics: {
    entry: 'analytics',
    writes: true,
    description: 'Churn model (BG/NBD, Gamma-Gamma): fit, read, score a member; segments and at-risk members',
    // A fit reads every member's purchase history (a parallel Scan) before it fits.
    timeoutSeconds: 29,
  },
} as const satisfies Record<string, RouteGroupSpec>;
export type RouteGroupName = keyof typeof routeGroups;

const ADMIN = ['admin'] as const;
const ANY_ROLE = ['admin', 'partner', 'finance'] as const;
const ADMIN_PARTNER = ['admin', 'partner'] as const;
const REPORT_READERS = ['admin', 'finance', 'partner'] as const;
const FINANCE = ['admin', 'finance'] as const;

export const routes = [
  {
    operationId: 'getHealth',
    method: 'GET',
    path: '/v1/health',
    group: 'health',
    summary: 'Liveness check',
    access: 'public',
    successStatus: 200,
  },
  {
    operationId: 'getOpenApi',
    method: 'GET',
    path: '/openapi.json',
    group: 'health',
    summary: 'This API described as OpenAPI 3.1',
    access: 'public',
    successStatus: 200,
  },
  {
    operationId: 'getDocs',
    method: 'GET',
    path: '/docs',
    group: 'site',
    summary: 'The interactive API reference (Scalar) over /openapi.json',
    access: 'public',
    successStatus: 200,
    produces: 'text/html',
  },
  {
    operationId: 'getConsole',
    method: 'GET',
    path: '/console',
    group: 'site',
    summary: 'The read-only finance console: paste a finance or admin key (kept only in the page)',
    access: 'public',
    successStatus: 200,
    produces: 'text/html',
  },
  {
    operationId: 'getAsset',
    method: 'GET',
    path: '/assets/{file}',
    group: 'site',
    summary: 'A script or style of /docs and /console',
    access: 'public',
    successStatus: 200,
    params: z.strictObject({ file: z.enum(assetNames) }),
    produces: 'text/javascript',
    alsoAnswers: ['404'],
  },
  {
    operationId: 'getProgram',
    method: 'GET',
    path: '/v1/program',
    group: 'program',
    summary: 'Read the program configuration',
    access: { roles: ANY_ROLE },
    successStatus: 200,
    response: program.programResponse,
  },
  {
    operationId: 'putProgram',
    method: 'PUT',
    path: '/v1/program',
    group: 'program',
    summary: 'Replace the program configuration',
    access: { roles: ADMIN },
    successStatus: 200,
    body: program.programSchema,
    response: program.programResponse,
  },
  {
    operationId: 'createRedemptionEstimate',
    method: 'POST',
    path: '/v1/program/redemption-estimates',
    group: 'program',
    summary: 'Revise the expected redemption rate (IFRS 15) from a day on',
    access: { roles: ADMIN },
    idempotency: 'optional',
    successStatus: 201,
    body: reports.redemptionEstimateBody,
    response: reports.redemptionEstimateResponse,
  },
  {
    operationId: 'listRedemptionEstimates',
    method: 'GET',
    path: '/v1/program/redemption-estimates',
    group: 'program',
    summary: 'Every revision of the expected redemption rate, oldest first',
    access: { roles: FINANCE },
    successStatus: 200,
    response: listOf(reports.redemptionEstimateResponse),
  },
  {
    operationId: 'createPartner',
    method: 'POST',
    path: '/v1/partners',
    group: 'partners',
    summary: 'Add a partner brand to the coalition',
    access: { roles: ADMIN },
    idempotency: 'optional',
    successStatus: 201,
    body: partners.createPartnerBody,
    example: {
      id: 'acme-grocer',
      name: 'ACME Grocer',
      earnRule: { pointsPerUnit: 1, unitMinor: 100 },
      categoryMultipliers: { fresh: 2 },
      fundingRateMinor: 1,
      reimbursementRateMinor: 1,
    },
    response: partners.partnerResponse,
  },
  {
    operationId: 'listPartners',
    method: 'GET',
    path: '/v1/partners',
    group: 'partners',
    summary: 'List partners (a partner key sees only itself)',
    access: { roles: ADMIN_PARTNER },
    successStatus: 200,
    query: members.transactionsQuery.pick({ limit: true, cursor: true }),
    response: listOf(partners.partnerResponse),
  },
  {
    operationId: 'getPartner',
    method: 'GET',
    path: '/v1/partners/{partnerId}',
    group: 'partners',
    summary: 'Read a partner',
    access: { roles: ADMIN_PARTNER },
    successStatus: 200,
    params: partners.partnerParams,
    response: partners.partnerResponse,
  },
  {
    operationId: 'updatePartner',
    method: 'PATCH',
    path: '/v1/partners/{partnerId}',
    group: 'partners',
    summary: 'Change a partner',
    access: { roles: ADMIN },
    successStatus: 200,
    params: partners.partnerParams,
    body: partners.updatePartnerBody,
    response: partners.partnerResponse,
  },
  {
    operationId: 'createApiKey',
    method: 'POST',
    path: '/v1/api-keys',
    group: 'apiKeys',
    summary: 'Create an API key (the secret is shown once)',
    access: { roles: ADMIN },
    idempotency: 'optional',
    successStatus: 201,
    body: apiKeys.createApiKeyBody,
    example: {
      name: 'ACME checkout',
      role: 'partner',
      partnerId: 'acme-grocer',
      scopes: ['members:write', 'points:earn', 'points:redeem'],
    },
    response: apiKeys.createdApiKeyResponse,
  },
  {
    operationId: 'listApiKeys',
    method: 'GET',
    path: '/v1/api-keys',
    group: 'apiKeys',
    summary: 'List API keys (never their secrets)',
    access: { roles: ADMIN },
    successStatus: 200,
    query: members.transactionsQuery.pick({ limit: true, cursor: true }),
    response: listOf(apiKeys.apiKeyResponse),
  },
  {
    operationId: 'revokeApiKey',
    method: 'DELETE',
    path: '/v1/api-keys/{keyId}',
    group: 'apiKeys',
    summary: 'Revoke an API key; it fails with 401 from the next request on',
    access: { roles: ADMIN },
    successStatus: 200,
    params: apiKeys.apiKeyParams,
    response: apiKeys.apiKeyResponse,
  },
  {
    operationId: 'createMember',
    method: 'POST',
    path: '/v1/members',
    group: 'members',
    summary: 'Enrol a member',
    access: { roles: ADMIN_PARTNER, scope: 'members:write' },
    idempotency: 'optional',
    successStatus: 201,
    body: members.createMemberBody,
    example: { externalRef: 'cust-42', email: 'ada@example.com' },
    response: members.memberResponse,
  },
  {
    operationId: 'findMembers',
    method: 'GET',
    path: '/v1/members',
    group: 'members',
    summary: "Look a member up by the caller's externalRef",
    access: { roles: ADMIN_PARTNER },
    successStatus: 200,
    query: members.findMembersQuery,
    response: listOf(members.memberResponse),
  },
  {
    operationId: 'getMember',
    method: 'GET',
    path: '/v1/members/{memberId}',
    group: 'members',
    summary: 'Read a member with balances and tier',
    access: { roles: ADMIN_PARTNER },
    successStatus: 200,
    params: members.memberParams,
    response: members.memberResponse,
  },
  {
    operationId: 'updateMember',
    method: 'PATCH',
    path: '/v1/members/{memberId}',
    group: 'members',
    summary: "Change a member's profile (email, name, channel; null clears)",
    access: { roles: ADMIN_PARTNER, scope: 'members:write' },
    successStatus: 200,
    params: members.memberParams,
    body: members.updateMemberBody,
    response: members.memberResponse,
  },
  {
    operationId: 'eraseMember',
    method: 'DELETE',
    path: '/v1/members/{memberId}',
    group: 'members',
    summary: 'Erase a member: profile removed, remaining points forfeited, ledger kept pseudonymously',
    access: { roles: ADMIN },
    successStatus: 200,
    params: members.memberParams,
    response: members.memberResponse,
  },
  {
    operationId: 'earnPoints',
    method: 'POST',
    path: '/v1/members/{memberId}/earn',
    group: 'points',
    summary: 'Earn points for a purchase',
    access: { roles: ADMIN_PARTNER, scope: 'points:earn' },
    idempotency: 'required',
    successStatus: 201,
    params: members.memberParams,
    body: points.earnBody,
    example: {
      amountMinor: 4250,
      currency: 'USD',
      orderRef: 'order-1001',
      category: 'fresh',
      channel: 'store',
    },
    response: points.earnResponse,
  },
  {
    operationId: 'redeemPoints',
    method: 'POST',
    path: '/v1/members/{memberId}/redemptions',
    group: 'points',
    summary: 'Redeem points',
    access: { roles: ADMIN_PARTNER, scope: 'points:redeem' },
    idempotency: 'required',
    successStatus: 201,
    params: members.memberParams,
    body: points.redemptionBody,
    example: { points: 50, orderRef: 'order-1002' },
    response: points.redemptionResponse,
  },
  {
    operationId: 'getRedemption',
    method: 'GET',
    path: '/v1/redemptions/{redemptionId}',
    group: 'points',
    summary: 'Read a redemption (a partner key sees those made at its partner)',
    access: { roles: ADMIN_PARTNER },
    successStatus: 200,
    params: points.redemptionParams,
    response: points.redemptionView,
  },
  {
    operationId: 'captureRedemption',
    method: 'POST',
    path: '/v1/redemptions/{redemptionId}/capture',
    group: 'points',
    summary: 'Capture a held redemption, in full or in part (the rest is released)',
    access: { roles: ADMIN_PARTNER, scope: 'points:redeem' },
    idempotency: 'required',
    successStatus: 200,
    params: points.redemptionParams,
    body: points.captureBody,
    response: points.redemptionResponse,
  },
  {
    operationId: 'releaseRedemption',
    method: 'POST',
    path: '/v1/redemptions/{redemptionId}/release',
    group: 'points',
    summary: 'Release a held redemption: its points (and reward unit) go back',
    access: { roles: ADMIN_PARTNER, scope: 'points:redeem' },
    idempotency: 'required',
    successStatus: 200,
    params: points.redemptionParams,
    body: points.releaseBody,
    response: points.redemptionResponse,
  },
  {
    operationId: 'refundRedemption',
    method: 'POST',
    path: '/v1/redemptions/{redemptionId}/refund',
    group: 'points',
    summary: 'Refund captured points of a redemption, in full or in part',
    access: { roles: ADMIN_PARTNER, scope: 'points:reverse' },
    idempotency: 'required',
    successStatus: 201,
    params: points.redemptionParams,
    body: points.refundBody,
    response: points.refundResponse,
  },
  {
    operationId: 'reverseTransaction',
    method: 'POST',
    path: '/v1/transactions/{transactionId}/reverse',
    group: 'points',
    summary: 'Reverse an earn (a return): in full, by points, or by the amount returned',
    access: { roles: ADMIN_PARTNER, scope: 'points:reverse' },
    idempotency: 'required',
    successStatus: 201,
    params: points.transactionParams,
    body: points.reverseBody,
    response: points.reversalResponse,
  },
  {
    operationId: 'reverseOrder',
    method: 'POST',
    path: '/v1/orders/{orderRef}/reverse',
    group: 'points',
    summary: "Reverse the earn of the caller's order reference (a return at the till)",
    access: { roles: ADMIN_PARTNER, scope: 'points:reverse' },
    idempotency: 'required',
    successStatus: 201,
    params: points.orderParams,
    body: points.orderReverseBody,
    response: points.reversalResponse,
  },
  {
    operationId: 'adjustPoints',
    method: 'POST',
    path: '/v1/members/{memberId}/adjustments',
    group: 'points',
    summary: "Correct a member's points (±, with a reason)",
    access: { roles: ADMIN },
    idempotency: 'required',
    successStatus: 201,
    params: members.memberParams,
    body: points.adjustmentBody,
    example: { points: 100, reason: 'goodwill: late delivery' },
    response: points.earnResponse,
  },
  {
    operationId: 'transferPoints',
    method: 'POST',
    path: '/v1/members/{memberId}/transfers',
    group: 'points',
    summary: 'Transfer points to another member (both sides in one transaction)',
    access: { roles: ADMIN_PARTNER, scope: 'points:redeem' },
    idempotency: 'required',
    successStatus: 201,
    params: members.memberParams,
    body: points.transferBody,
    example: { toMemberId: 'mem_01JH2Z8Q4V6X9KX6M3Y5B7C8D9', points: 200, reason: 'family pooling' },
    response: points.transferResponse,
  },
  {
    operationId: 'recordActivity',
    method: 'POST',
    path: '/v1/members/{memberId}/activities',
    group: 'points',
    summary: "Award points for an activity (referral, review, survey…) by the program's activityRules",
    access: { roles: ADMIN_PARTNER, scope: 'points:earn' },
    idempotency: 'required',
    successStatus: 201,
    params: members.memberParams,
    body: points.activityBody,
    example: { type: 'survey', ref: 'survey-2026-11-ada', score: 9 },
    response: points.earnResponse,
  },
  {
    operationId: 'listTransactions',
    method: 'GET',
    path: '/v1/members/{memberId}/transactions',
    group: 'points',
    summary: "A member's ledger, newest first (a partner key sees its own entries)",
    access: { roles: ADMIN_PARTNER },
    successStatus: 200,
    params: members.memberParams,
    query: members.transactionsQuery,
    response: listOf(points.transactionView),
  },
  {
    operationId: 'createReward',
    method: 'POST',
    path: '/v1/rewards',
    group: 'rewards',
    summary: "Add a reward to a partner's catalogue",
    access: { roles: ADMIN_PARTNER, scope: 'rewards:write' },
    idempotency: 'optional',
    successStatus: 201,
    body: rewards.createRewardBody,
    example: { name: 'Free coffee', costPoints: 150, valueMinor: 350, inventory: 500 },
    response: rewards.rewardResponse,
  },
  {
    operationId: 'listRewards',
    method: 'GET',
    path: '/v1/rewards',
    group: 'rewards',
    summary: 'List rewards (a partner key sees its own catalogue)',
    access: { roles: ADMIN_PARTNER, scope: 'rewards:read' },
    successStatus: 200,
    query: rewards.listRewardsQuery,
    response: listOf(rewards.rewardResponse),
  },
  {
    operationId: 'getReward',
    method: 'GET',
    path: '/v1/rewards/{rewardId}',
    group: 'rewards',
    summary: 'Read a reward',
    access: { roles: ADMIN_PARTNER, scope: 'rewards:read' },
    successStatus: 200,
    params: rewards.rewardParams,
    response: rewards.rewardResponse,
  },
  {
    operationId: 'updateReward',
    method: 'PATCH',
    path: '/v1/rewards/{rewardId}',
    group: 'rewards',
    summary: 'Change a reward (price, stock, active)',
    access: { roles: ADMIN_PARTNER, scope: 'rewards:write' },
    successStatus: 200,
    params: rewards.rewardParams,
    body: rewards.updateRewardBody,
    response: rewards.rewardResponse,
  },
  {
    operationId: 'getSettlementReport',
    method: 'GET',
    path: '/v1/reports/settlement',
    group: 'reports',
    summary: 'Partner settlement: funding owed, reimbursement owed, net (JSON or CSV)',
    access: { roles: REPORT_READERS, scope: 'reports:read' },
    successStatus: 200,
    query: reports.settlementQuery,
    response: reports.settlementResponse,
    // An unknown partnerId is a 404, not an empty report.
    alsoAnswers: ['404'],
  },
  {
    operationId: 'getLiabilityReport',
    method: 'GET',
    path: '/v1/reports/liability',
    group: 'reports',
    summary:
      'Points liability at the end of a day: outstanding, pending and held points, value, net of breakage, by partner (FIFO) and expiry month (JSON or CSV)',
    access: { roles: REPORT_READERS, scope: 'reports:read' },
    successStatus: 200,
    query: reports.liabilityQuery,
    response: reports.liabilityResponse,
    // An unknown partnerId is a 404, not an empty report.
    alsoAnswers: ['404'],
  },
  {
    operationId: 'getRollForwardReport',
    method: 'GET',
    path: '/v1/reports/roll-forward',
    group: 'reports',
    summary:
      'Points roll-forward: opening, every movement, closing, for a period and each of its months (JSON or CSV)',
    access: { roles: FINANCE },
    successStatus: 200,
    query: reports.rollForwardQuery,
    response: reports.rollForwardResponse,
  },
  {
    operationId: 'getDeferredRevenueReport',
    method: 'GET',
    path: '/v1/reports/deferred-revenue',
    group: 'reports',
    summary:
      'IFRS 15 deferred revenue of points: allocation per monthly cohort, revenue recognised on redemption, deferred balance (JSON or CSV)',
    access: { roles: FINANCE },
    successStatus: 200,
    query: reports.deferredRevenueQuery,
    response: reports.deferredRevenueResponse,
  },
  {
    operationId: 'getKpiReport',
    method: 'GET',
    path: '/v1/reports/kpis',
    group: 'reports',
    summary:
      'Monthly KPIs: active, new, retained and repeat members, redemption rate, NPS, CLV, paid membership, by partner or channel (JSON or CSV)',
    access: { roles: REPORT_READERS, scope: 'reports:read' },
    successStatus: 200,
    query: reports.kpiQuery,
    response: reports.kpiResponse,
  },
  {
    operationId: 'getSubscriptionReport',
    method: 'GET',
    path: '/v1/reports/subscriptions',
    group: 'reports',
    summary: 'Paid membership figures: states and MRR at the end of a period, its transitions and revenue',
    access: { roles: FINANCE },
    successStatus: 200,
    query: reports.subscriptionReportQuery,
    response: reports.subscriptionReportResponse,
  },
  {
    operationId: 'createPlan',
    method: 'POST',
    path: '/v1/plans',
    group: 'subscriptions',
    summary: 'Create a paid membership plan',
    access: { roles: ADMIN },
    idempotency: 'optional',
    successStatus: 201,
    body: subscriptions.createPlanBody,
    response: subscriptions.planResponse,
  },
  {
    operationId: 'listPlans',
    method: 'GET',
    path: '/v1/plans',
    group: 'subscriptions',
    summary: 'List plans (retired ones included)',
    access: { roles: ADMIN },
    successStatus: 200,
    query: subscriptions.listPlansQuery,
    response: listOf(subscriptions.planResponse),
  },
  {
    operationId: 'getPlan',
    method: 'GET',
    path: '/v1/plans/{planId}',
    group: 'subscriptions',
    summary: 'Read a plan',
    access: { roles: ADMIN },
    successStatus: 200,
    params: subscriptions.planParams,
    response: subscriptions.planResponse,
  },
  {
    operationId: 'updatePlan',
    method: 'PATCH',
    path: '/v1/plans/{planId}',
    group: 'subscriptions',
    summary: 'Change a plan (subscribers get a new price or benefits from their next period) or retire it',
    access: { roles: ADMIN },
    successStatus: 200,
    params: subscriptions.planParams,
    body: subscriptions.updatePlanBody,
    response: subscriptions.planResponse,
  },
  {
    operationId: 'createSubscription',
    method: 'POST',
    path: '/v1/members/{memberId}/subscriptions',
    group: 'subscriptions',
    summary: 'Subscribe a member to a plan (trialing, or active with its first payment)',
    access: { roles: ADMIN_PARTNER, scope: 'subscriptions:write' },
    idempotency: 'optional',
    successStatus: 201,
    params: members.memberParams,
    body: subscriptions.subscribeBody,
    response: subscriptions.subscriptionResponse,
  },
  {
    operationId: 'getMemberSubscription',
    method: 'GET',
    path: '/v1/members/{memberId}/subscription',
    group: 'subscriptions',
    summary: "A member's latest subscription",
    access: { roles: ADMIN_PARTNER, scope: 'subscriptions:read' },
    successStatus: 200,
    params: members.memberParams,
    response: subscriptions.subscriptionView,
  },
  {
    operationId: 'getSubscription',
    method: 'GET',
    path: '/v1/subscriptions/{subscriptionId}',
    group: 'subscriptions',
    summary: 'Read a subscription',
    access: { roles: ADMIN_PARTNER, scope: 'subscriptions:read' },
    successStatus: 200,
    params: subscriptions.subscriptionParams,
    response: subscriptions.subscriptionView,
  },
  {
    operationId: 'updateSubscription',
    method: 'PATCH',
    path: '/v1/subscriptions/{subscriptionId}',
    group: 'subscriptions',
    summary:
      'Change plan (a dearer one now, a cheaper one at the period end) or undo a scheduled cancellation',
    access: { roles: ADMIN_PARTNER, scope: 'subscriptions:write' },
    successStatus: 200,
    params: subscriptions.subscriptionParams,
    body: subscriptions.updateSubscriptionBody,
    response: subscriptions.subscriptionResponse,
  },
  {
    operationId: 'recordSubscriptionPayment',
    method: 'POST',
    path: '/v1/subscriptions/{subscriptionId}/payments',
    group: 'subscriptions',
    summary: 'Record a payment the PSP reports (idempotent per paymentRef and status)',
    access: { roles: ADMIN_PARTNER, scope: 'subscriptions:write' },
    successStatus: 201,
    params: subscriptions.subscriptionParams,
    body: subscriptions.paymentBody,
    response: subscriptions.paymentResponse,
    replaysDuplicates: true,
  },
  {
    operationId: 'cancelSubscription',
    method: 'POST',
    path: '/v1/subscriptions/{subscriptionId}/cancel',
    group: 'subscriptions',
    summary: 'Cancel a subscription at the end of its period (default) or now',
    access: { roles: ADMIN_PARTNER, scope: 'subscriptions:write' },
    idempotency: 'optional',
    successStatus: 200,
    params: subscriptions.subscriptionParams,
    body: subscriptions.cancelBody,
    response: subscriptions.subscriptionResponse,
  },
  {
    operationId: 'listEvents',
    method: 'GET',
    path: '/v1/events',
    group: 'events',
    summary: 'Replay the events feed in order, after a cursor (a partner key reads its own events)',
    access: { roles: ADMIN_PARTNER, scope: 'events:read' },
    successStatus: 200,
    query: events.eventsQuery,
    response: events.eventsResponse,
  },
  {
    operationId: 'importTransactions',
    method: 'POST',
    path: '/v1/imports/transactions',
    group: 'imports',
    summary:
      'Import historical purchases (NDJSON or CSV, ≤ 6 MB a request): members created on first sight, each line validated, a re-import changes nothing',
    access: { roles: ADMIN },
    successStatus: 200,
    query: imports.importQuery,
    body: imports.importBody,
    textBody: { mediaTypes: imports.IMPORT_MEDIA_TYPES, maxBytes: imports.MAX_IMPORT_BYTES },
    response: imports.importResponse,
  },
  {
    operationId: 'runJob',
    method: 'POST',
    path: '/v1/jobs/{name}',
    group: 'jobs',
    summary: 'Run a lifecycle job as of an instant (idempotent per job and asOf day, resumable)',
    access: { roles: ADMIN },
    successStatus: 200,
    params: jobs.jobParams,
    body: jobs.jobBody,
    example: {},
    response: jobs.jobResponse,
  },
  {
    operationId: 'fitChurnModel',
    method: 'POST',
    path: '/v1/analytics/churn-model/fit',
    group: 'analytics',
    summary:
      "Fit the churn model (BG/NBD, Gamma-Gamma) on every active member's purchases up to calibrationEnd, and use it from now on",
    access: { roles: ADMIN },
    successStatus: 200,
    body: analytics.fitChurnModelBody,
    response: analytics.churnModelResponse,
  },
  {
    operationId: 'getChurnModel',
    method: 'GET',
    path: '/v1/analytics/churn-model',
    group: 'analytics',
    summary: 'The churn model in use',
    access: { roles: ADMIN },
    successStatus: 200,
    // Before the first fit.
    alsoAnswers: ['404'],
    response: analytics.churnModelResponse,
  },
  {
    operationId: 'getMemberAnalytics',
    method: 'GET',
    path: '/v1/analytics/members/{memberId}',
    group: 'analytics',
    summary:
      "A member's model inputs, its churn and lifetime value scores computed now, and the last stored scores",
    access: { roles: ADMIN },
    successStatus: 200,
    params: members.memberParams,
    response: analytics.memberAnalyticsResponse,
  },
  {
    operationId: 'getSegments',
    method: 'GET',
    path: '/v1/analytics/segments',
    group: 'analytics',
    summary: 'Members, mean CLV and available points per churn band × tier, from the latest churn scan',
    // Aggregates only (no member ids): finance reads them beside the KPIs, as /console does.
    access: { roles: FINANCE },
    successStatus: 200,
    query: analytics.segmentsQuery,
    response: analytics.segmentsResponse,
  },
  {
    operationId: 'listAtRiskMembers',
    method: 'GET',
    path: '/v1/analytics/members',
    group: 'analytics',
    summary: "One churn band's scored members, highest CLV first, from an index (a campaign's audience)",
    access: { roles: ADMIN },
    successStatus: 200,
    query: analytics.atRiskMembersQuery,
    response: listOf(analytics.atRiskMemberView),
  },
  {
    operationId: 'createCampaign',
    method: 'POST',
    path: '/v1/campaigns',
    group: 'campaigns',
    summary: "Create a campaign: a partner's own (partner key) or coalition-wide (admin, no partnerId)",
    access: { roles: ADMIN_PARTNER, scope: 'campaigns:write' },
    idempotency: 'optional',
    successStatus: 201,
    body: campaigns.createCampaignBody,
    response: campaigns.campaignResponse,
  },
  {
    operationId: 'listCampaigns',
    method: 'GET',
    path: '/v1/campaigns',
    group: 'campaigns',
    summary: 'List campaigns, newest first (a partner key sees its own)',
    access: { roles: ADMIN_PARTNER, scope: 'campaigns:write' },
    successStatus: 200,
    query: campaigns.listCampaignsQuery,
    response: listOf(campaigns.campaignResponse),
  },
  {
    operationId: 'getCampaign',
    method: 'GET',
    path: '/v1/campaigns/{campaignId}',
    group: 'campaigns',
    summary: 'Read a campaign and what its budget has given',
    access: { roles: ADMIN_PARTNER, scope: 'campaigns:write' },
    successStatus: 200,
    params: campaigns.campaignParams,
    response: campaigns.campaignResponse,
  },
  {
    operationId: 'updateCampaign',
    method: 'PATCH',
    path: '/v1/campaigns/{campaignId}',
    group: 'campaigns',
    summary: 'Change a campaign (name, window, target, reward, active); its budget is fixed',
    access: { roles: ADMIN_PARTNER, scope: 'campaigns:write' },
    successStatus: 200,
    params: campaigns.campaignParams,
    body: campaigns.updateCampaignBody,
    response: campaigns.campaignResponse,
  },
] as const satisfies readonly RouteSpec[];

export type OperationsOf<G extends RouteGroupName> = Extract<
  (typeof routes)[number],
  { group: G }
>['operationId'];

/** `GET /v1/members/{memberId}` → the API Gateway route key. */
export const routeKeyOf = (route: Pick<RouteSpec, 'method' | 'path'>) => `${route.method} ${route.path}`;

export function routesOfGroup(group: RouteGroupName): RouteSpec[] {
  return routes.filter((route) => route.group === group);
}

/** Match a concrete path against the manifest: the route and its path parameters, if any. */
export function matchPath(path: string): { route: RouteSpec; params: Record<string, string> }[] {
  const matches: { route: RouteSpec; params: Record<string, string> }[] = [];
  const segments = path.split('/');
  for (const route of routes as readonly RouteSpec[]) {
    const template = route.path.split('/');
    if (template.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = template.every((part, i) => {
      const actual = segments[i] ?? '';
      if (part.startsWith('{') && part.endsWith('}')) {
        const value = safeDecode(actual);
        if (value === undefined || value === '') return false;
        params[part.slice(1, -1)] = value;
        return true;
      }
      return part === actual;
    });
    if (ok) matches.push({ route, params });
  }
  return matches;
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined; // a malformed %-escape matches nothing: 404, never a 500
  }
}
