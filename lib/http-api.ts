import * as cdk from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as integrations from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  type RouteGroupName,
  type RouteGroupSpec,
  type RouteSpec,
  routeGroups,
  routes,
} from '../lambdas/routes/manifest.ts';
import { siteFiles } from '../lambdas/site/files.ts';
import { keys } from '../lambdas/store/keys.ts';
import { HandlerFunction } from './handler-function.ts';
import { acknowledgeTableIndexWildcard, acknowledgeXRayWildcard } from './nag.ts';

/** Properties of {@link LoyaltyHttpApi}. */
export interface LoyaltyHttpApiProps {
  table: dynamodb.Table;
  /** What happens to log groups when the stack is deleted. @default RETAIN */
  logRemovalPolicy?: cdk.RemovalPolicy;
}

/** The partition of the API key records, whose `lastUsedAt` every authenticated request may set. */
const API_KEY_RECORDS = keys.apiKeysPartition();

/** `apiKeys` → `api-keys.ts`: the handler module of a route group. */
export const handlerFileOf = (group: RouteGroupName) =>
  `${group.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}.ts`;

/**
 * The HTTP API built from the route manifest: one function per route group, one route per
 * manifest entry and a `$default` route that answers 404/405 as problem+json. There is no Lambda
 * authorizer: each handler authenticates the API key itself (decisions §51).
 */
export class LoyaltyHttpApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  /** The function of each route group. */
  readonly groupFunctions: Record<RouteGroupName, lambda.IFunction>;
  readonly fallbackFunction: lambda.IFunction;

  constructor(scope: Construct, id: string, props: LoyaltyHttpApiProps) {
    super(scope, id);
    const { table } = props;
    const environment = { TABLE_NAME: table.tableName };
    const common = { environment, logRemovalPolicy: props.logRemovalPolicy };

    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: 'loyalty-api',
      description: 'Coalition loyalty rewards API',
      // The stage is created below, with access logs, which HttpApi's default stage cannot have.
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? cdk.RemovalPolicy.RETAIN,
    });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    // Read-only groups get read grants; `writes` groups read and write; health touches no data.
    const groupFunctions = {} as Record<RouteGroupName, lambda.IFunction>;
    for (const [group, spec] of Object.entries(routeGroups) as [RouteGroupName, RouteGroupSpec][]) {
      const handler = new HandlerFunction(this, pascal(group), {
        entry: handlerFileOf(group),
        description: `${spec.description} (route group ${group})`,
        ...(spec.timeoutSeconds ? { timeout: cdk.Duration.seconds(spec.timeoutSeconds) } : {}),
        // The pages and scripts of /docs and /console, and the OpenAPI document, travel next to
        // their functions' bundles (so neither bundles zod and the schemas to build them).
        ...(group === 'site' ? { copyFiles: siteFileSources() } : {}),
        ...(group === 'health' ? { copyFiles: { 'openapi.json': 'docs/openapi.json' } } : {}),
        ...common,
      });
      if (!('noData' in spec && spec.noData)) {
        if (spec.writes) table.grantReadWriteData(handler.function);
        else {
          table.grantReadData(handler.function);
          // A read-only group still records when a key was last used: UpdateItem on the key
          // records' partition only (the handlers authenticate, decisions §51).
          handler.role.addToPrincipalPolicy(
            new iam.PolicyStatement({
              actions: ['dynamodb:UpdateItem'],
              resources: [table.tableArn],
              conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [API_KEY_RECORDS] } },
            }),
          );
        }
        acknowledgeTableIndexWildcard(handler.role, table);
      }
      acknowledgeXRayWildcard(handler.role);
      groupFunctions[group] = handler.function;
    }
    this.groupFunctions = groupFunctions;

    const fallback = new HandlerFunction(this, 'Fallback', {
      entry: 'fallback.ts',
      description: 'The $default route: 404 or 405 as problem+json',
      // Its paths and methods (405's Allow) come from the OpenAPI document, not the manifest's schemas.
      copyFiles: { 'openapi.json': 'docs/openapi.json' },
      ...common,
    });
    acknowledgeXRayWildcard(fallback.role);
    this.fallbackFunction = fallback.function;

    const integrationOf = new Map<RouteGroupName, integrations.HttpLambdaIntegration>();
    for (const route of routes as readonly RouteSpec[]) {
      let integration = integrationOf.get(route.group);
      if (!integration) {
        integration = new integrations.HttpLambdaIntegration(
          `${pascal(route.group)}Integration`,
          groupFunctions[route.group],
        );
        integrationOf.set(route.group, integration);
      }
      const httpRoute = new apigwv2.HttpRoute(this, `Route${pascal(route.operationId)}`, {
        httpApi: this.api,
        routeKey: apigwv2.HttpRouteKey.with(route.path, apigwv2.HttpMethod[route.method]),
        integration,
      });
      cdk.Validations.of(httpRoute).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          route.access === 'public'
            ? `${route.method} ${route.path} is public by design (manifest access: 'public').`
            : `${route.method} ${route.path} is authenticated by its handler: the bearer API key's item is read strongly consistently on every request (no gateway authorizer, decisions §51).`,
      });
    }

    const defaultRoute = new apigwv2.HttpRoute(this, 'RouteDefault', {
      httpApi: this.api,
      routeKey: apigwv2.HttpRouteKey.DEFAULT,
      integration: new integrations.HttpLambdaIntegration('FallbackIntegration', fallback.function),
    });
    cdk.Validations.of(defaultRoute).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'The $default route only answers 404/405 for paths and methods outside the manifest; it reads no data.',
    });
  }
}

/** `site/<name>` in the bundle ← the file in the repository. */
function siteFileSources(): Record<string, string> {
  return Object.fromEntries(Object.entries(siteFiles).map(([name, file]) => [`site/${name}`, file.source]));
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
