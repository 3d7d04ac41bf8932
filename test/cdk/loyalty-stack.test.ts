import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type RouteGroupName,
  type RouteGroupSpec,
  type RouteSpec,
  routeGroups,
  routes,
} from '../../lambdas/routes/manifest.ts';
import { churnScanWorkerErrors, jobNames } from '../../lambdas/schemas/jobs.ts';
import { siteFiles } from '../../lambdas/site/files.ts';
import { keyAttributes, tableDefinition } from '../../lambdas/store/table-definition.ts';
import { CHURN_SCAN_WORKER_ACTIONS, ChurnScanFanOut } from '../../lib/churn-scan.ts';
import { EVENT_BUS_NAME } from '../../lib/events.ts';
import { LedgerTable } from '../../lib/ledger-table.ts';
import { LoyaltyStack } from '../../lib/loyalty-stack.ts';

type Resource = { Type: string; Properties: Record<string, unknown> } & Record<string, unknown>;
interface Statement {
  Action: string | string[];
  Resource: unknown;
}

const groups = Object.keys(routeGroups) as RouteGroupName[];
const noDataGroups = groups.filter((group) => (routeGroups[group] as RouteGroupSpec).noData);
const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
] as const;

// One synthesis (with esbuild bundling of every function) for the whole file: it is the slow part.
let stack: LoyaltyStack;
let appOutdir: string;
let template: Template;
let resources: Record<string, Resource>;
let nagViolations: {
  ruleName: string;
  severity?: string;
  violatingResources: { constructPath?: string }[];
}[];

beforeAll(() => {
  const app = new cdk.App();
  stack = new LoyaltyStack(app, 'TestStack');
  appOutdir = app.outdir;
  // cdk-nag 3 is a policy-validation plugin: findings are not annotations. `validateScope` runs the
  // same rules over the construct tree and returns them (bin/app.ts registers it for `cdk synth`).
  nagViolations = new AwsSolutionsChecks().validateScope(app).violations;
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
}, 180_000);

const logicalId = (construct: IConstruct) =>
  stack.resolve(stack.getLogicalId(construct.node.defaultChild as cdk.CfnElement)) as string;

const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);

/** Every statement of the inline policies attached to a role. */
function statementsOfRole(roleId: string): Statement[] {
  return ofType('AWS::IAM::Policy')
    .filter(([, policy]) => (policy.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === roleId))
    .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** Every statement of the inline policies attached to a function's role. */
function statementsOf(functionId: string): Statement[] {
  const roleArn = resources[functionId]!.Properties.Role as { 'Fn::GetAtt': [string, string] };
  return statementsOfRole(roleArn['Fn::GetAtt'][0]);
}

const actionsOf = (functionId: string) =>
  statementsOf(functionId).flatMap((statement) => [statement.Action].flat());

/** The custom resource provider framework's own function (CDK's code, not ours). */
const providerFunctionId = () =>
  (stack.resolve(stack.bootstrapAdminKey.provider.serviceToken) as { 'Fn::GetAtt': [string, string] })[
    'Fn::GetAtt'
  ][0];

describe('ledger table', () => {
  it('matches the shared table definition', () => {
    const gsis = tableDefinition.globalSecondaryIndexes;
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' },
        { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: gsis.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection:
          typeof index.projection === 'string'
            ? { ProjectionType: index.projection }
            : { ProjectionType: 'INCLUDE', NonKeyAttributes: index.projection.include },
      })),
      StreamSpecification: { StreamViewType: tableDefinition.stream },
      TimeToLiveSpecification: { AttributeName: tableDefinition.timeToLiveAttribute, Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('has the eleven GSIs: history and lookups, the due indexes of the jobs (keys only), the events feed, the at-risk index', () => {
    // Literal, unlike the test above: dropping an index from the shared definition must fail here.
    const [[, table]] = ofType('AWS::DynamoDB::Table') as [[string, Resource]];
    const indexes = table.Properties.GlobalSecondaryIndexes as {
      IndexName: string;
      KeySchema: { AttributeName: string }[];
      Projection: { ProjectionType: string; NonKeyAttributes?: string[] };
    }[];
    expect(indexes.map((index) => [index.IndexName, index.Projection])).toEqual([
      ['gsi1', { ProjectionType: 'INCLUDE', NonKeyAttributes: ['txn', 'type', 'reward'] }],
      ['gsi2', { ProjectionType: 'KEYS_ONLY' }],
      ['gsi3', { ProjectionType: 'INCLUDE', NonKeyAttributes: ['txn', 'type'] }],
      ['gsi4', { ProjectionType: 'KEYS_ONLY' }],
      ['gsi5', { ProjectionType: 'KEYS_ONLY' }],
      ['gsi6', { ProjectionType: 'KEYS_ONLY' }],
      ['gsi7', { ProjectionType: 'KEYS_ONLY' }],
      ['gsi8', { ProjectionType: 'KEYS_ONLY' }],
      ...['gsi9', 'gsi10'].map((name) => [
        name,
        {
          ProjectionType: 'INCLUDE',
          NonKeyAttributes: [
            'entity',
            'txn',
            'event',
            'id',
            'createdAt',
            'enrolledAt',
            'enrolledBy',
            'enrolledVia',
          ],
        },
      ]),
      ['gsi11', { ProjectionType: 'INCLUDE', NonKeyAttributes: ['id', 'churn'] }],
    ]);
    for (const index of indexes) {
      expect(index.KeySchema.map((key) => key.AttributeName)).toEqual([
        `${index.IndexName}pk`,
        `${index.IndexName}sk`,
      ]);
    }
    const attributes = table.Properties.AttributeDefinitions as {
      AttributeName: string;
      AttributeType: string;
    }[];
    expect(attributes.map((attribute) => attribute.AttributeName).sort()).toEqual([...keyAttributes].sort());
    for (const attribute of attributes) expect(attribute.AttributeType).toBe('S');
  });

  it('can be made deletable for throw-away stacks', () => {
    // No bundling here: only the table matters.
    const app = new cdk.App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const scratch = Template.fromStack(new LoyaltyStack(app, 'Scratch', { deletionProtection: false }));
    scratch.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
    scratch.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    scratch.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Delete' });
  });
});

describe('functions', () => {
  it('has one function per route group plus fallback, publisher, job runner, churn scan worker and bootstrap (+ its provider), and no authorizer', () => {
    template.resourceCountIs('AWS::Lambda::Function', groups.length + 6);
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    const ids = new Set([
      ...groups.map((group) => logicalId(stack.httpApi.groupFunctions[group])),
      logicalId(stack.httpApi.fallbackFunction),
      logicalId(stack.events.publisher),
      logicalId(stack.jobs.runner),
      logicalId(stack.jobs.churnScan.worker),
      logicalId(stack.bootstrapAdminKey.function),
      providerFunctionId(),
    ]);
    expect(ids.size).toBe(groups.length + 6);
    for (const id of ids) expect(resources[id]?.Type).toBe('AWS::Lambda::Function');
  });

  it('gives every function of ours the same shard and copy counts, which a stage may raise', () => {
    const capacityOf = (t: Template) =>
      Object.entries(t.findResources('AWS::Lambda::Function'))
        .filter(([id]) => id !== providerFunctionId())
        .map(([, fn]) => {
          const variables = (fn.Properties.Environment?.Variables ?? {}) as Record<string, string>;
          return [
            variables.LOYALTY_COUNTER_SHARDS,
            variables.LOYALTY_COUNTER_PARTITIONS,
            variables.LOYALTY_CONFIG_COPIES,
          ];
        });
    expect(new Set(capacityOf(template).map((values) => values.join()))).toEqual(new Set(['64,8,8']));
    const raised = new LoyaltyStack(new cdk.App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Raised', {
      capacity: { counterShards: 128, counterPartitions: 16, configCopies: 16 },
    });
    const raisedValues = Object.values(Template.fromStack(raised).findResources('AWS::Lambda::Function'))
      .map((fn) => (fn.Properties.Environment?.Variables ?? {}) as Record<string, string>)
      .filter((variables) => variables.LOYALTY_COUNTER_SHARDS !== undefined);
    expect(raisedValues.length).toBeGreaterThan(10);
    for (const variables of raisedValues) {
      expect([
        variables.LOYALTY_COUNTER_SHARDS,
        variables.LOYALTY_COUNTER_PARTITIONS,
        variables.LOYALTY_CONFIG_COPIES,
      ]).toEqual(['128', '16', '16']);
    }
    const app = () => new cdk.App({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(() => new LoyaltyStack(app(), 'Bad', { capacity: { counterShards: 0 } })).toThrow(/counterShards/);
    expect(
      () => new LoyaltyStack(app(), 'Bad', { capacity: { counterShards: 4, counterPartitions: 8 } }),
    ).toThrow(/counterPartitions/);
  });

  it('runs every function of ours on arm64 with Node 22 or 24, traced, with its own log group', () => {
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      if (id === providerFunctionId()) continue; // CDK's code: its runtime and architecture are CDK's
      expect(fn.Properties.Architectures, id).toEqual(['arm64']);
      expect(fn.Properties.Runtime, id).toMatch(/^nodejs2[24]\.x$/);
      expect(fn.Properties.TracingConfig, id).toEqual({ Mode: 'Active' });
      expect(fn.Properties.LoggingConfig, id).toEqual({ LogGroup: { Ref: expect.any(String) } });
      expect(fn.Properties.Handler, id).toBe('index.handler');
    }
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it("gives each route group the timeout of its manifest entry, the jobs group up to API Gateway's limit", () => {
    expect(routeGroups.jobs.timeoutSeconds).toBe(29); // API Gateway gives up after 30 s
    for (const group of groups) {
      const spec: RouteGroupSpec = routeGroups[group];
      const timeout = resources[logicalId(stack.httpApi.groupFunctions[group])]!.Properties.Timeout;
      expect(timeout, group).toBe(spec.timeoutSeconds ?? 10);
    }
  });

  it("gives the provider framework's function a log group of ours", () => {
    const fn = resources[providerFunctionId()]!;
    const logGroup = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    expect(resources[logGroup]?.Type).toBe('AWS::Logs::LogGroup');
  });

  it('uses no AWS managed policies', () => {
    for (const [id, role] of ofType('AWS::IAM::Role'))
      expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
  });
});

describe('routes', () => {
  const apiRoutes = () => ofType('AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties);

  it('has one route per manifest entry plus $default', () => {
    const keys = apiRoutes().map((route) => route.RouteKey);
    expect(keys.sort()).toEqual(
      [...routes.map((route) => `${route.method} ${route.path}`), '$default'].sort(),
    );
  });

  it("sends each route to its group's function", () => {
    for (const route of routes as readonly RouteSpec[]) {
      const properties = apiRoutes().find((r) => r.RouteKey === `${route.method} ${route.path}`)!;
      const target = (properties.Target as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      const integrationId = (target[1] as { Ref: string }).Ref;
      const uri = resources[integrationId]?.Properties.IntegrationUri as { 'Fn::GetAtt': [string, string] };
      expect(uri['Fn::GetAtt'][0], route.operationId).toBe(
        logicalId(stack.httpApi.groupFunctions[route.group]),
      );
    }
  });

  it('puts no gateway authorizer on any route: the handlers authenticate the key themselves', () => {
    for (const properties of apiRoutes()) {
      expect(properties.AuthorizerId, String(properties.RouteKey)).toBeUndefined();
      expect(properties.AuthorizationType ?? 'NONE', String(properties.RouteKey)).toBe('NONE');
    }
  });

  it('writes access logs from the $default stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
  });
});

describe('events', () => {
  it('creates the loyalty-events bus', () => {
    expect(EVENT_BUS_NAME).toBe('loyalty-events');
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'loyalty-events' });
  });

  it('feeds the publisher from the stream, filtered to ledger, outbox and member inserts, with retries and a DLQ', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(stack.events.publisher) },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(stack.events.deadLetterQueue), 'Arn'] } },
      },
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ['INSERT'],
              dynamodb: { NewImage: { entity: { S: ['ledger', 'event', 'member'] } } },
            }),
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('least privilege', () => {
  it('gives the groups that read no data (health, site) and the fallback no table access', () => {
    expect(noDataGroups).toEqual(['health', 'site']);
    for (const fn of [
      ...noDataGroups.map((g) => stack.httpApi.groupFunctions[g]),
      stack.httpApi.fallbackFunction,
    ]) {
      expect(actionsOf(logicalId(fn)).filter((action) => action.startsWith('dynamodb:'))).toEqual([]);
    }
  });

  it('grants write actions only to groups that write; the others may only record a key use', () => {
    const table = { 'Fn::GetAtt': [logicalId(stack.table.table), 'Arn'] };
    for (const group of groups.filter((g) => !noDataGroups.includes(g))) {
      const statements = statementsOf(logicalId(stack.httpApi.groupFunctions[group]));
      const actions = statements.flatMap((statement) => [statement.Action].flat());
      expect(actions, group).toContain('dynamodb:Query');
      expect(actions, group).toContain('dynamodb:GetItem');
      if (routeGroups[group].writes) {
        for (const write of WRITE_ACTIONS) expect(actions, group).toContain(write);
        continue;
      }
      const writes = statements.filter((statement) =>
        [statement.Action].flat().some((action) => (WRITE_ACTIONS as readonly string[]).includes(action)),
      );
      expect(writes, group).toEqual([
        expect.objectContaining({
          Action: 'dynamodb:UpdateItem',
          Resource: table,
          Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['APIKEYS'] } },
        }),
      ]);
    }
  });

  it('lets only the publisher put events, and only on the bus', () => {
    const publisher = logicalId(stack.events.publisher);
    for (const [id] of ofType('AWS::Lambda::Function')) {
      const puts = statementsOf(id).filter((statement) =>
        [statement.Action].flat().includes('events:PutEvents'),
      );
      if (id === publisher) {
        expect(puts.map((statement) => statement.Resource)).toEqual([
          { 'Fn::GetAtt': [logicalId(stack.events.bus), 'Arn'] },
        ]);
      } else {
        expect(puts, id).toEqual([]);
      }
    }
  });
});

describe('lifecycle jobs', () => {
  const runnerId = () => logicalId(stack.jobs.runner);
  const dlqId = () => logicalId(stack.jobs.deadLetterQueue);
  const roleId = () => logicalId(stack.jobs.schedulerRole);
  const groupId = () => logicalId(stack.jobs.scheduleGroup);
  const stateMachineId = () => logicalId(stack.jobs.churnScan.stateMachine);
  const scheduleResources = () => ofType('AWS::Scheduler::Schedule').map(([, schedule]) => schedule);
  const schedules = () => scheduleResources().map((schedule) => schedule.Properties);

  it('runs the job runner for up to 15 minutes with read/write access to the table', () => {
    const runner = resources[runnerId()]!.Properties;
    expect(runner.Timeout).toBe(900);
    expect(runner.Environment).toEqual({
      Variables: expect.objectContaining({ TABLE_NAME: { Ref: logicalId(stack.table.table) } }),
    });
    const actions = actionsOf(runnerId());
    expect(actions).toContain('dynamodb:Query');
    for (const write of WRITE_ACTIONS) expect(actions).toContain(write);
  });

  it('schedules each job once, in UTC: the daily jobs just after midnight, renewals hourly, holds every 5 minutes', () => {
    const expressionOf = Object.fromEntries(
      schedules().map((schedule) => {
        const target = schedule.Target as { Input: string };
        return [(JSON.parse(target.Input) as { job: string }).job, schedule.ScheduleExpression];
      }),
    );
    expect(expressionOf).toEqual({
      'expire-points': 'cron(5 0 * * ? *)',
      'mature-pending': 'cron(10 0 * * ? *)',
      'tier-review': 'cron(15 0 * * ? *)',
      'churn-scan': 'cron(30 0 * * ? *)',
      reconcile: 'cron(45 0 * * ? *)',
      'release-expired-holds': 'rate(5 minutes)',
      'subscription-renewals': 'rate(1 hour)',
    });
    expect(Object.keys(expressionOf).sort()).toEqual([...jobNames].sort());
    for (const schedule of schedules()) {
      expect(schedule).toMatchObject({
        ScheduleExpressionTimezone: 'Etc/UTC',
        State: 'ENABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
        GroupName: resources[groupId()]!.Properties.Name,
      });
      const target = schedule.Target as { Arn: unknown; RoleArn: unknown; Input: string };
      // The churn scan starts its fan-out (a state machine); every other job is the runner's.
      const job = (JSON.parse(target.Input) as { job: string }).job;
      expect(target.Arn).toEqual(
        job === 'churn-scan' ? { Ref: stateMachineId() } : { 'Fn::GetAtt': [runnerId(), 'Arn'] },
      );
      expect(target.RoleArn).toEqual({ 'Fn::GetAtt': [roleId(), 'Arn'] });
      // job-runner.ts accepts nothing else; the state machine reads only `asOf` (absent: its start).
      expect(Object.keys(JSON.parse(target.Input))).toEqual(['job']);
    }
    // The group name is a literal, not a reference: only DependsOn orders the group first.
    expect(resources[groupId()]!.Properties.Name).toEqual(expect.any(String));
    for (const schedule of scheduleResources()) expect(schedule.DependsOn).toContain(groupId());
  });

  it('retries failed deliveries and failed runs, then keeps them in the DLQ', () => {
    for (const schedule of schedules()) {
      const target = schedule.Target as Record<string, unknown>;
      // A run outdated by the next one is not worth delivering: daily and hourly runs keep an hour.
      const expression = String(schedule.ScheduleExpression);
      const keptHour = expression.startsWith('cron') || expression === 'rate(1 hour)';
      expect(target.RetryPolicy).toEqual({
        MaximumRetryAttempts: 10,
        MaximumEventAgeInSeconds: keptHour ? 3600 : 300,
      });
      expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [dlqId(), 'Arn'] } });
    }
    // Scheduler invokes asynchronously: errors and timeouts of a run are retried by Lambda.
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: runnerId() },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlqId(), 'Arn'] } } },
    });
  });

  it('lets the scheduler role only invoke the runner, start the churn scan and record failures in the DLQ', () => {
    const runnerArn = { 'Fn::GetAtt': [runnerId(), 'Arn'] };
    expect(statementsOfRole(roleId())).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        Effect: 'Allow',
        // The function and its versions/aliases (`:*`), no other function.
        Resource: [runnerArn, { 'Fn::Join': ['', [runnerArn, ':*']] }],
      },
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [dlqId(), 'Arn'] } },
      { Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: stateMachineId() } },
    ]);
    const role = resources[roleId()]!.Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    // Only Scheduler, on behalf of this account and the schedules of this group, may assume it.
    expect(role.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: {
            StringEquals: {
              'aws:SourceAccount': { Ref: 'AWS::AccountId' },
              'aws:SourceArn': { 'Fn::GetAtt': [groupId(), 'Arn'] },
            },
          },
        },
      ],
    });
    // No other role may invoke the runner, and no resource policy opens it to anyone.
    for (const [id, policy] of ofType('AWS::IAM::Policy')) {
      if ((policy.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === roleId())) continue;
      const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
      for (const statement of statements) {
        if ([statement.Action].flat().some((action) => action.startsWith('lambda:Invoke'))) {
          expect(JSON.stringify(statement.Resource), id).not.toContain(runnerId());
        }
      }
    }
    for (const [id, permission] of ofType('AWS::Lambda::Permission')) {
      expect(JSON.stringify(permission.Properties.FunctionName), id).not.toContain(runnerId());
    }
  });

  it('encrypts the DLQ, refuses it plain HTTP, and alarms on its first message', () => {
    expect(resources[dlqId()]!.Properties).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlqId() }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId(), 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });
});

describe('reconciliation control', () => {
  it('counts the differences the runner logs and alarms on the first', () => {
    const runnerLogs = logicalId(stack.jobs.node.findChild('Runner').node.findChild('Logs'));
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: runnerLogs },
      FilterPattern: '{ $.message = "reconciliation difference" }',
      MetricTransformations: [
        {
          MetricNamespace: 'LoyaltyApi',
          MetricName: 'ReconciliationDifferences',
          MetricValue: '1',
          DefaultValue: 0,
        },
      ],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'LoyaltyApi',
      MetricName: 'ReconciliationDifferences',
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });
});

describe('bootstrap admin key', () => {
  const secretId = () => logicalId(stack.bootstrapAdminKey.secret);
  const bootstrapId = () => logicalId(stack.bootstrapAdminKey.function);

  it('generates a 48-character secret without punctuation, kept when the stack is deleted', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
    });
    template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
    expect(template.findResources('AWS::SecretsManager::RotationSchedule')).toEqual({});
  });

  it('runs the custom resource through the provider framework, keyed on the secret ARN only', () => {
    template.resourceCountIs('Custom::BootstrapAdminKey', 1);
    const [[, resource]] = ofType('Custom::BootstrapAdminKey') as [[string, Resource]];
    // Only the ARN: the secret's value must never be in the template or the event.
    expect(resource.Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [providerFunctionId(), 'Arn'] },
      SecretArn: { Ref: secretId() },
    });
    expect(JSON.stringify(template.toJSON())).not.toMatch(/resolve:secretsmanager/);
    const provider = resources[providerFunctionId()]!;
    expect(provider.Properties.Environment).toEqual({
      Variables: { USER_ON_EVENT_FUNCTION_ARN: { 'Fn::GetAtt': [bootstrapId(), 'Arn'] } },
    });
    expect(resources[bootstrapId()]!.Properties.Environment).toEqual({
      Variables: expect.objectContaining({
        TABLE_NAME: { Ref: logicalId(stack.table.table) },
        ADMIN_KEY_SECRET_ARN: { Ref: secretId() },
      }),
    });
  });

  it('outputs the secret ARN with the command that reads it', () => {
    template.hasOutput('AdminKeySecretArn', {
      Value: { Ref: secretId() },
      Description: Match.stringLikeRegexp(
        'aws secretsmanager get-secret-value --secret-id .* --query SecretString --output text',
      ),
    });
  });

  it('lets the bootstrap function read only its secret and get/put items of the table itself', () => {
    const statements = statementsOf(bootstrapId());
    const actions = actionsOf(bootstrapId());
    for (const forbidden of [
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
    ]) {
      expect(actions).not.toContain(forbidden);
    }
    expect(JSON.stringify(statements)).not.toMatch(/index/);
    expect(statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')))).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        Resource: { 'Fn::GetAtt': [logicalId(stack.table.table), 'Arn'] },
      }),
    ]);
    expect(statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')))).toEqual([
      expect.objectContaining({
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: { Ref: secretId() },
      }),
    ]);
    // No other function may read the secret.
    for (const [id] of ofType('AWS::Lambda::Function')) {
      if (id === bootstrapId()) continue;
      expect(
        actionsOf(id).filter((action) => action.startsWith('secretsmanager:')),
        id,
      ).toEqual([]);
    }
  });

  it('lets the provider framework only invoke the bootstrap function and write its own logs', () => {
    const actions = actionsOf(providerFunctionId());
    expect([...new Set(actions)].sort()).toEqual(
      ['lambda:GetFunction', 'lambda:InvokeFunction', 'logs:CreateLogStream', 'logs:PutLogEvents'].sort(),
    );
    for (const statement of statementsOf(providerFunctionId()).filter((s) =>
      [s.Action].flat().some((a) => a.startsWith('lambda:')),
    )) {
      expect(JSON.stringify(statement.Resource)).toContain(bootstrapId());
    }
  });
});

describe('churn scan fan-out', () => {
  const machineId = () => logicalId(stack.jobs.churnScan.stateMachine);
  const workerId = () => logicalId(stack.jobs.churnScan.worker);
  const machine = () => resources[machineId()]!.Properties;
  const machineRoleId = () => (machine().RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  /** The definition as JSON: references (ARNs, names) become placeholders. */
  const definition = () => {
    const parts = (machine().DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'REF')).join('')) as {
      StartAt: string;
      States: Record<string, Record<string, unknown>>;
    };
  };

  it('plans, maps one Standard child execution per segment (1,024, 40 at once, no failure tolerated), then finishes', () => {
    expect(stack.jobs.churnScan.segments).toBe(1024);
    expect(stack.jobs.churnScan.maxConcurrency).toBe(40);
    const { StartAt, States } = definition();
    expect(StartAt).toBe('AsOfGiven');
    expect(States.AsOfGiven).toMatchObject({
      Choices: [{ Variable: '$.asOf', IsPresent: true, Next: 'Plan' }],
      Default: 'AsOfExecutionStart',
    });
    expect(States.AsOfExecutionStart).toMatchObject({
      Parameters: { 'asOf.$': '$$.Execution.StartTime' },
      Next: 'Plan',
    });
    // The plan lists the segments [0..N-1] not done yet (the run's own split if it began in another).
    expect(States.Plan).toMatchObject({
      Parameters: { step: 'plan', 'asOf.$': '$.asOf', segments: 1024 },
      Next: 'Segments',
    });
    expect(States.Segments).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.pending',
      ItemSelector: { 'segment.$': '$$.Map.Item.Value', 'asOf.$': '$.asOf', 'segments.$': '$.segments' },
      MaxConcurrency: 40,
      Label: 'ChurnScanSegments',
      ResultPath: null,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'ScoreSegment',
      },
      Next: 'Finish',
    });
    // No failure tolerated (Step Functions' default when neither is set): a failed segment fails the run.
    expect(States.Segments).not.toHaveProperty('ToleratedFailureCount');
    expect(States.Segments).not.toHaveProperty('ToleratedFailurePercentage');
    const items = (States.Segments!.ItemProcessor as { States: Record<string, Record<string, unknown>> })
      .States;
    // A segment is called again until it reports done.
    expect(items.ScoreSegment).toMatchObject({
      Parameters: {
        step: 'segment',
        'asOf.$': '$.asOf',
        'segment.$': '$.segment',
        'segments.$': '$.segments',
      },
      ResultPath: '$.outcome',
      Next: 'SegmentDone',
    });
    expect(items.SegmentDone).toMatchObject({
      Choices: [{ Variable: '$.outcome.done', BooleanEquals: true, Next: 'SegmentScored' }],
      Default: 'ScoreSegment',
    });
    // A child answers {}: the map's gathered results stay far inside 256 KB at any split.
    expect(items.SegmentScored).toEqual({ Type: 'Succeed', OutputPath: null });
    expect(States.Finish).toMatchObject({
      Parameters: { step: 'finish', 'asOf.$': '$.asOf', 'segments.$': '$.segments' },
      Next: 'RunComplete',
    });
    expect(States.RunComplete).toMatchObject({
      Choices: [{ Variable: '$.complete', BooleanEquals: true, Next: 'Scored' }],
      Default: 'RunIncomplete',
    });
  });

  it("retries every call of the worker on Lambda's and the table's transient failures, never on lasting ones", () => {
    const { States } = definition();
    const items = (States.Segments!.ItemProcessor as { States: Record<string, Record<string, unknown>> })
      .States;
    for (const [name, state] of [
      ['Plan', States.Plan],
      ['ScoreSegment', items.ScoreSegment],
      ['Finish', States.Finish],
    ] as const) {
      expect(state!.Retry, name).toEqual([
        // Lambda's own service errors (retryOnServiceExceptions).
        expect.objectContaining({
          ErrorEquals: [
            'Lambda.ClientExecutionTimeoutException',
            'Lambda.ServiceException',
            'Lambda.AWSLambdaException',
            'Lambda.SdkClientException',
          ],
        }),
        // No model yet, or a call the run refuses: another attempt fails the same way.
        { ErrorEquals: Object.values(churnScanWorkerErrors), MaxAttempts: 0 },
        // Anything else the worker failed with (Lambda.TooManyRequestsException, a throttled table,
        // a transaction conflict past the scan's own retries, a timeout): from the last checkpoint.
        {
          ErrorEquals: ['States.TaskFailed', 'States.Timeout'],
          IntervalSeconds: 10,
          MaxAttempts: 6,
          BackoffRate: 2,
          JitterStrategy: 'FULL',
        },
      ]);
    }
    // Before any model is fitted, the execution ends without scoring, and without failing.
    expect(States.Plan!.Catch).toEqual([{ ErrorEquals: ['ChurnModelMissing'], Next: 'NoChurnModel' }]);
    expect(States.NoChurnModel).toMatchObject({ Type: 'Succeed' });
  });

  it('takes the split and concurrency as props, and refuses a split the worker would refuse', () => {
    const app = new cdk.App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const scratch = new cdk.Stack(app, 'Scratch');
    const table = new LedgerTable(scratch, 'Ledger').table;
    const fanOut = new ChurnScanFanOut(scratch, 'ChurnScan', { table, segments: 8, maxConcurrency: 3 });
    const machine = Template.fromStack(scratch).findResources('AWS::StepFunctions::StateMachine');
    const [definitionString] = Object.values(machine).map(
      (resource) =>
        (resource.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1],
    );
    const scratchDefinition = JSON.parse(
      definitionString!.map((part) => (typeof part === 'string' ? part : 'REF')).join(''),
    ) as { States: Record<string, Record<string, unknown>> };
    expect(scratchDefinition.States.Plan).toMatchObject({ Parameters: { segments: 8 } });
    expect(scratchDefinition.States.Segments).toMatchObject({ MaxConcurrency: 3 });
    expect(fanOut.segments).toBe(8);
    for (const segments of [0, 10_001, 1.5]) {
      expect(() => new ChurnScanFanOut(scratch, `Bad${segments}`, { table, segments })).toThrow(
        /segments must be an integer from 1 to 10000/,
      );
    }
  });

  it("traces and logs every execution, and ends a day's run before the next one starts", () => {
    expect(machine().TracingConfiguration).toEqual({ Enabled: true });
    expect(machine().LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    expect(definition()).toHaveProperty('TimeoutSeconds', 20 * 3600);
  });

  it('raises an alarm when an execution fails', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').filter(([, alarm]) =>
      JSON.stringify(alarm.Properties.Dimensions ?? []).includes(machineId()),
    );
    expect(alarms.map(([, alarm]) => alarm.Properties)).toEqual([
      expect.objectContaining({
        Namespace: 'AWS/States',
        MetricName: 'ExecutionsFailed',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    ]);
  });

  it('runs the worker for up to 15 minutes, with only the table actions it needs, invoked only by the state machine', () => {
    const worker = resources[workerId()]!.Properties;
    expect(worker.Timeout).toBe(900);
    expect(worker.Environment).toEqual({
      Variables: expect.objectContaining({ TABLE_NAME: { Ref: logicalId(stack.table.table) } }),
    });
    // Get, Query (the run's items), Scan (its segment), Update and Put (the outbox item of a band
    // change's transaction) on the table itself: no index, no delete, no batch writes.
    const dynamo = statementsOf(workerId()).filter((statement) =>
      [statement.Action].flat().some((action) => action.startsWith('dynamodb:')),
    );
    expect(dynamo).toEqual([
      {
        Effect: 'Allow',
        Action: [...CHURN_SCAN_WORKER_ACTIONS],
        Resource: { 'Fn::GetAtt': [logicalId(stack.table.table), 'Arn'] },
      },
    ]);
    expect(CHURN_SCAN_WORKER_ACTIONS).toEqual([
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
      'dynamodb:PutItem',
    ]);
    const invokers = ofType('AWS::IAM::Policy').filter(([, policy]) =>
      (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.some(
        (statement) =>
          [statement.Action].flat().some((action) => action.startsWith('lambda:Invoke')) &&
          JSON.stringify(statement.Resource).includes(workerId()),
      ),
    );
    expect(invokers.flatMap(([, policy]) => policy.Properties.Roles)).toEqual([{ Ref: machineRoleId() }]);
    for (const [id, permission] of ofType('AWS::Lambda::Permission')) {
      expect(JSON.stringify(permission.Properties.FunctionName), id).not.toContain(workerId());
    }
    // The state machine's role invokes the worker and nothing else, and touches no data itself.
    const machineStatements = statementsOfRole(machineRoleId());
    const machineActions = machineStatements.flatMap((statement) => [statement.Action].flat());
    expect(machineActions.filter((action) => action.startsWith('lambda:'))).toEqual([
      'lambda:InvokeFunction',
    ]);
    expect(machineActions.filter((action) => /^(dynamodb|s3|sqs|events):/.test(action))).toEqual([]);
    for (const statement of machineStatements) {
      if ([statement.Action].flat().some((action) => action.startsWith('lambda:'))) {
        expect(JSON.stringify(statement.Resource)).toContain(workerId());
        expect(JSON.stringify(statement.Resource)).not.toContain(logicalId(stack.jobs.runner));
      }
      // Child executions of the Distributed Map: of this state machine only.
      if ([statement.Action].flat().some((action) => action.startsWith('states:'))) {
        expect(JSON.stringify(statement.Resource)).toContain(machineId());
      }
    }
  });
});

describe('site (/docs, /console)', () => {
  it('ships the pages, scripts and bundles of the site next to its function, and no data access', () => {
    const fn = stack.httpApi.groupFunctions.site;
    const asset = fn.node.findChild('Code') as s3assets.Asset;
    const dir = join(appOutdir, asset.assetPath);
    for (const name of Object.keys(siteFiles)) expect(existsSync(join(dir, 'site', name)), name).toBe(true);
    expect(actionsOf(logicalId(fn)).filter((action) => action.startsWith('dynamodb:'))).toEqual([]);
  });

  it('ships docs/openapi.json beside the health function, which serves it as /openapi.json', () => {
    const asset = stack.httpApi.groupFunctions.health.node.findChild('Code') as s3assets.Asset;
    const shipped = readFileSync(join(appOutdir, asset.assetPath, 'openapi.json'), 'utf8');
    expect(shipped).toBe(readFileSync('docs/openapi.json', 'utf8'));
  });
});

describe('observability', () => {
  const alarmNames = [
    'Api5xxAlarm',
    'ApiLatencyP99Alarm',
    'TableThrottlesAlarm',
    'LambdaThrottlesAlarm',
    'PublisherErrorsAlarm',
    'PublisherDlqAlarm',
    'JobsDlqAlarm',
    'ChurnScanFailedAlarm',
    'ReconciliationDifferenceAlarm',
  ];
  const withoutBundling = () => new cdk.App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const topicArn = 'arn:aws:sns:eu-west-1:111122223333:loyalty-pager';

  it('has the alarms: 5xx, p99 latency, table and Lambda throttles, publisher errors, both DLQs, churn scan, reconciliation', () => {
    const ids = stack.observability.alarms.map((alarm) => alarm.node.id);
    expect(ids).toEqual(alarmNames);
    expect(ofType('AWS::CloudWatch::Alarm')).toHaveLength(alarmNames.length);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
      Threshold: 1000,
      EvaluationPeriods: 3,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.events.publisher) } }],
    });
    // The Lambda throttles alarm adds the functions of the request path and the workers (≤ 10).
    const throttles = ofType('AWS::CloudWatch::Alarm').find(([, alarm]) =>
      JSON.stringify(alarm.Properties).includes('"MetricName":"Throttles"'),
    );
    const metrics = (throttles?.[1].Properties.Metrics as { MetricStat?: unknown }[]) ?? [];
    expect(metrics.filter((metric) => metric.MetricStat)).toHaveLength(9);
  });

  it('notifies the topic from context on alarm and recovery in prod; dev alarms only change state', () => {
    const prod = Template.fromStack(
      new LoyaltyStack(withoutBundling(), 'Prod', { stage: 'prod', alarmTopicArn: topicArn }),
    );
    const prodAlarms = Object.values(prod.findResources('AWS::CloudWatch::Alarm'));
    expect(prodAlarms).toHaveLength(alarmNames.length);
    for (const alarm of prodAlarms) {
      expect(alarm.Properties.ActionsEnabled).toBe(true);
      expect(alarm.Properties.AlarmActions).toEqual([topicArn]);
      expect(alarm.Properties.OKActions).toEqual([topicArn]);
    }
    const dev = Template.fromStack(
      new LoyaltyStack(withoutBundling(), 'Dev', { stage: 'dev', alarmTopicArn: topicArn }),
    );
    for (const alarm of Object.values(dev.findResources('AWS::CloudWatch::Alarm')))
      expect(alarm.Properties.ActionsEnabled).toBe(false);
  });

  it('draws a dashboard of traffic, latency, the EMF business metrics, the table, the queues and the alarms', () => {
    const [, dashboard] = ofType('AWS::CloudWatch::Dashboard')[0] as [string, Resource];
    const body = JSON.stringify(stack.resolve(dashboard.Properties.DashboardBody));
    for (const metric of ['PointsIssued', 'PointsRedeemed', 'IdempotentReplays', 'Conflicts', 'ServerErrors'])
      expect(body).toMatch(new RegExp(`\\{LoyaltyApi,service,operation\\} MetricName=[\\\\"]+${metric}`));
    for (const title of [
      'Requests and errors',
      'Latency (ms)',
      'Ledger table: capacity and throttles',
      'Dead-letter queues',
      'Alarms',
    ])
      expect(body).toContain(title);
    expect(dashboard.Properties.DashboardName).toBe('loyalty-api-prod');
  });

  it('gives every function of ours the metrics namespace of its stage', () => {
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      if (id === providerFunctionId()) continue;
      const variables = (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
      expect(variables.POWERTOOLS_METRICS_NAMESPACE, id).toBe('LoyaltyApi');
    }
  });
});

describe('stages', () => {
  const withoutBundling = () => new cdk.App({ context: { 'aws:cdk:bundling-stacks': [] } });

  it('keeps a prod table and its secret, with deletion protection (the default stage)', () => {
    expect(stack.stage).toBe('prod');
    template.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
    template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
  });

  it('makes dev destroyable, with its own bus, metrics namespace and dashboard', () => {
    const dev = Template.fromStack(new LoyaltyStack(withoutBundling(), 'Dev', { stage: 'dev' }));
    dev.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
    dev.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    dev.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Delete' });
    for (const group of Object.values(dev.findResources('AWS::Logs::LogGroup')))
      expect(group.DeletionPolicy).toBe('Delete');
    dev.hasResourceProperties('AWS::Events::EventBus', { Name: 'loyalty-events-dev' });
    dev.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'loyalty-api-dev' });
    dev.hasResourceProperties('AWS::Logs::MetricFilter', {
      MetricTransformations: [Match.objectLike({ MetricNamespace: 'LoyaltyApi-dev' })],
    });
    const functions = Object.values(dev.findResources('AWS::Lambda::Function'));
    expect(
      functions.filter(
        (fn) => fn.Properties.Environment?.Variables?.POWERTOOLS_METRICS_NAMESPACE === 'LoyaltyApi-dev',
      ),
    ).toHaveLength(functions.length - 1); // all but the provider framework's
  });
});

describe('cdk-nag', () => {
  it('reports no unacknowledged AwsSolutions findings', () => {
    const findings = nagViolations.map(
      (violation) =>
        `${violation.ruleName} (${violation.severity}): ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
  });

  it('leaves no error or warning annotations on the stack', () => {
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });
});
