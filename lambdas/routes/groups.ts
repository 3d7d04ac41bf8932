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
