/**
 * cdk-nag 3 acknowledgements shared by the constructs. cdk-nag 3 has no `NagSuppressions`: a
 * finding is acknowledged with `Validations.of(construct).acknowledge({ id, reason })`, and a rule
 * with several findings (IAM5) needs each finding by its exact id, `RuleId[finding]`.
 */
import * as cdk from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { IConstruct } from 'constructs';

/** `<LogicalId.Arn>`: how cdk-nag renders a `Fn::GetAtt` of a resource's ARN in a finding id. */
function arnReference(resource: IConstruct): string {
  const stack = cdk.Stack.of(resource);
  const logicalId = stack.resolve(stack.getLogicalId(resource.node.defaultChild as cdk.CfnElement));
  return `<${logicalId}.Arn>`;
}

/** X-Ray (active tracing) has no resource-level permissions: its actions need `Resource: *`. */
export function acknowledgeXRayWildcard(role: IConstruct, alsoCovers = ''): void {
  cdk.Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level ' +
      `permissions, so they are granted on *.${alsoCovers ? ` ${alsoCovers}` : ''}`,
  });
}

/** `grantReadData`/`grantReadWriteData` cover the table's GSIs as `<table ARN>/index/*`. */
export function acknowledgeTableIndexWildcard(role: IConstruct, table: dynamodb.Table): void {
  cdk.Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${arnReference(table)}/index/*]`,
    reason:
      "Query on the table's own GSIs (history, lookup by id, the jobs' due indexes): the index/* " +
      'wildcard stays inside this one table.',
  });
}

/**
 * `grantInvoke` (from the custom resource provider framework, or a scheduler target) allows the
 * function and its versions and aliases: `<function ARN>:*`.
 */
export function acknowledgeInvokeVersionsWildcard(
  role: IConstruct,
  fn: IConstruct,
  invoker = 'The provider framework',
): void {
  cdk.Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${arnReference(fn)}:*]`,
    reason:
      `${invoker} may invoke only the one function it targets; \`:*\` covers its versions and ` +
      'aliases, not other functions.',
  });
}

/**
 * A Distributed Map starts child executions of its own state machine: CDK grants
 * states:StartExecution/DescribeExecution/StopExecution on `execution:<name>:*` and
 * `execution:<name>/<label>:*`, executions that exist only once the map runs.
 */
export function acknowledgeDistributedMapExecutions(stateMachine: IConstruct, label: string): void {
  const stack = cdk.Stack.of(stateMachine);
  const logicalId = stack.resolve(stack.getLogicalId(stateMachine.node.defaultChild as cdk.CfnElement));
  const name = `{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalId}"}]}]}`;
  const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${name}`;
  for (const resource of [`${executions}:*`, `${executions}/${label}:*`]) {
    cdk.Validations.of(stateMachine).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${resource}]`,
      reason:
        "The Distributed Map's child executions of this one state machine: their names are made at " +
        'run time, so only a wildcard after its own name can name them.',
    });
  }
}
