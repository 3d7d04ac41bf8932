import * as cdk from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { HandlerFunction } from './handler-function.ts';
import { acknowledgeInvokeVersionsWildcard, acknowledgeXRayWildcard } from './nag.ts';

/** Properties of {@link BootstrapAdminKey}. */
export interface BootstrapAdminKeyProps {
  table: dynamodb.Table;
  /** What happens to the log groups when the stack is deleted. @default RETAIN */
  logRemovalPolicy?: cdk.RemovalPolicy;
  /**
   * What happens to the secret when the stack is deleted. Its key stays valid in a retained
   * table, so a retained table should keep its secret. @default RETAIN
   */
  secretRemovalPolicy?: cdk.RemovalPolicy;
}

/**
 * The first admin key on AWS (the local runtime's LOYALTY_BOOTSTRAP_ADMIN_KEY): a generated Secrets
 * Manager secret, and a custom resource that makes its value a valid admin key on every Create and
 * on an Update that changes the secret. The value never appears in the template or the event: the
 * function reads it from Secrets Manager.
 */
export class BootstrapAdminKey extends Construct {
  readonly secret: secretsmanager.Secret;
  readonly function: lambda.IFunction;
  readonly provider: cr.Provider;
  readonly resource: cdk.CustomResource;

  constructor(scope: Construct, id: string, props: BootstrapAdminKeyProps) {
    super(scope, id);
    const { table } = props;
    const logRemovalPolicy = props.logRemovalPolicy ?? cdk.RemovalPolicy.RETAIN;

    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'Bootstrap admin API key of the loyalty API (Authorization: Bearer <value>)',
      // 48 letters and digits (~285 bits): no character needs quoting in a header or a shell.
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: props.secretRemovalPolicy ?? cdk.RemovalPolicy.RETAIN,
    });
    cdk.Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The bootstrap admin key is rotated by revoking it (DELETE /v1/api-keys/{keyId}) once the operator ' +
        'has created their own admin keys; automatic rotation would silently invalidate the key in use.',
    });

    const bootstrap = new HandlerFunction(this, 'Handler', {
      entry: 'bootstrap-admin-key.ts',
      description: 'Custom resource: makes the bootstrap secret a valid admin API key',
      environment: { TABLE_NAME: table.tableName, ADMIN_KEY_SECRET_ARN: this.secret.secretArn },
      timeout: cdk.Duration.seconds(30),
      logRemovalPolicy,
    });
    this.secret.grantRead(bootstrap.role);
    // ensureAdminKey: one GetItem, then a TransactWriteItems of two Puts (authorised per contained
    // action). The table itself only: no index access, no Query/Scan/Update/Delete.
    bootstrap.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [table.tableArn],
      }),
    );
    acknowledgeXRayWildcard(bootstrap.role);
    this.function = bootstrap.function;

    // The provider framework's own function, with a role and log group of ours instead of the
    // defaults (AWSLambdaBasicExecutionRole, a never-expiring log group).
    const frameworkLogs = new logs.LogGroup(this, 'ProviderLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: logRemovalPolicy,
    });
    const frameworkRole = new iam.Role(this, 'ProviderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Execution role of the bootstrap admin key custom resource provider',
    });
    frameworkLogs.grantWrite(frameworkRole);
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: bootstrap.function,
      frameworkOnEventRole: frameworkRole,
      logGroup: frameworkLogs,
    });
    acknowledgeInvokeVersionsWildcard(frameworkRole, bootstrap.function);

    this.resource = new cdk.CustomResource(this, 'Resource', {
      serviceToken: this.provider.serviceToken,
      resourceType: 'Custom::BootstrapAdminKey',
      // A new secret (a new ARN) re-runs the handler; it is idempotent, so any other Update is harmless.
      properties: { SecretArn: this.secret.secretArn },
    });
  }
}
