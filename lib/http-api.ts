import * as cdk from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as authorizers from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
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
import { HandlerFunction } from './handler-function.ts';
import { acknowledgeTableIndexWildcard, acknowledgeXRayWildcard } from './nag.ts';

/** Properties of {@link LoyaltyHttpApi}. */
export interface LoyaltyHttpApiProps {
  table: dynamodb.Table;
  /** What happens to log groups when the stack is deleted. @default RETAIN */
  logRemovalPolicy?: cdk.RemovalPolicy;
}

/** `apiKeys` → `api-keys.ts`: the handler module of a route group. */
export const handlerFileOf = (group: RouteGroupName) =>
  `${group.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}.ts`;

/**
 * The HTTP API built from the route manifest: one function per route group, one route per
 * manifest entry, a Lambda authorizer on every non-public route and a `$default` route that
 * answers 404/405 as problem+json.
 */
export class LoyaltyHttpApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  /** The function of each route group. */
  readonly groupFunctions: Record<RouteGroupName, lambda.IFunction>;
  readonly authorizerFunction: lambda.IFunction;
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
            authorizerError: '$context.authorizer.error',
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
        else table.grantReadData(handler.function);
        acknowledgeTableIndexWildcard(handler.role, table);
      }
      acknowledgeXRayWildcard(handler.role);
      groupFunctions[group] = handler.function;
    }
    this.groupFunctions = groupFunctions;

    // The authorizer reads the key item and records its last use: exactly GetItem and UpdateItem on
    // the table itself (no index access, so no `index/*` wildcard).
    const authorizer = new HandlerFunction(this, 'Authorizer', {
      entry: 'authorizer.ts',
      description: 'Lambda authorizer: resolves the bearer API key to a principal',
      ...common,
    });
    authorizer.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [table.tableArn],
      }),
    );
    acknowledgeXRayWildcard(authorizer.role);
    this.authorizerFunction = authorizer.function;

    const fallback = new HandlerFunction(this, 'Fallback', {
      entry: 'fallback.ts',
      description: 'The $default route: 404 or 405 as problem+json',
      ...common,
    });
    acknowledgeXRayWildcard(fallback.role);
    this.fallbackFunction = fallback.function;

    // No result cache (TTL 0): a revoked key must fail on its very next request. No identity
    // source either: with one, API Gateway itself answers 401 with a fixed body when the header is
    // missing, while we want the handlers' problem+json. API Gateway allows an empty identity
    // source only when caching is off, and CDK passes `[]` through unchanged.
    const lambdaAuthorizer = new authorizers.HttpLambdaAuthorizer('ApiKeyAuthorizer', authorizer.function, {
      authorizerName: 'api-key',
      responseTypes: [authorizers.HttpLambdaResponseType.SIMPLE],
      resultsCacheTtl: cdk.Duration.seconds(0),
      identitySource: [],
    });

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
        ...(route.access === 'public' ? {} : { authorizer: lambdaAuthorizer }),
      });
      if (route.access === 'public') {
        cdk.Validations.of(httpRoute).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${route.method} ${route.path} is public by design (manifest access: 'public').`,
        });
      }
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
