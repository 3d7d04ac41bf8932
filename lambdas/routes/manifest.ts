/**
 * The route manifest: the one list of every HTTP route, assembled from one module per route group
 * (`routes/<group>.ts`, so a group's function bundles only its own schemas). CDK builds API
 * Gateway routes and one Lambda function per group from it; the local server routes with it; the
 * OpenAPI document is generated from its schemas. Handlers only supply the implementation of each
 * operationId.
 */

import { analyticsRoutes } from './analytics.ts';
import { apiKeysRoutes } from './api-keys.ts';
import { campaignsRoutes } from './campaigns.ts';
import { eventsRoutes } from './events.ts';
import type { RouteGroupName } from './groups.ts';
import { healthRoutes } from './health.ts';
import { importsRoutes } from './imports.ts';
import { jobsRoutes } from './jobs.ts';
import { matchRoutes } from './match.ts';
import { membersRoutes } from './members.ts';
import { partnersRoutes } from './partners.ts';
import { pointsRoutes } from './points.ts';
import { programRoutes } from './program.ts';
import { reportsRoutes } from './reports.ts';
import { rewardsRoutes } from './rewards.ts';
import { siteRoutes } from './site.ts';
import type { RouteSpec } from './spec.ts';
import { subscriptionsRoutes } from './subscriptions.ts';

export { type RouteGroupName, type RouteGroupSpec, routeGroups } from './groups.ts';
export { type HttpMethod, type RouteAccess, type RouteSpec, routeKeyOf } from './spec.ts';

export const routes = [
  ...healthRoutes,
  ...siteRoutes,
  ...programRoutes,
  ...partnersRoutes,
  ...apiKeysRoutes,
  ...membersRoutes,
  ...pointsRoutes,
  ...rewardsRoutes,
  ...reportsRoutes,
  ...subscriptionsRoutes,
  ...eventsRoutes,
  ...importsRoutes,
  ...jobsRoutes,
  ...analyticsRoutes,
  ...campaignsRoutes,
] as const satisfies readonly RouteSpec[];

export type OperationsOf<G extends RouteGroupName> = Extract<
  (typeof routes)[number],
  { group: G }
>['operationId'];

export function routesOfGroup(group: RouteGroupName): RouteSpec[] {
  return routes.filter((route) => route.group === group);
}

/** Match a concrete path against the manifest: the route and its path parameters, if any. */
export function matchPath(path: string): { route: RouteSpec; params: Record<string, string> }[] {
  return matchRoutes(routes as readonly RouteSpec[], path);
}
