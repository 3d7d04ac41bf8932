import * as cdk from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { BootstrapAdminKey } from './bootstrap-admin-key.ts';
import { LoyaltyEvents } from './events.ts';
import { LoyaltyHttpApi } from './http-api.ts';
import { LoyaltyJobs } from './jobs.ts';
import { LedgerTable } from './ledger-table.ts';

/** Properties of {@link LoyaltyStack}. */
export interface LoyaltyStackProps extends cdk.StackProps {
  /**
   * Protect the table from deletion and keep it and the log groups when the stack is deleted.
   * Turn it off only for throw-away stacks.
   * @default true
   */
  deletionProtection?: boolean;
}

/**
 * The whole loyalty API: table, HTTP API with its functions, event publishing, scheduled lifecycle
 * jobs and alarms.
 */
export class LoyaltyStack extends cdk.Stack {
  readonly table: LedgerTable;
  readonly httpApi: LoyaltyHttpApi;
  readonly events: LoyaltyEvents;
  readonly jobs: LoyaltyJobs;
  readonly bootstrapAdminKey: BootstrapAdminKey;

  constructor(scope: Construct, id: string, props: LoyaltyStackProps = {}) {
    super(scope, id, props);
    const deletionProtection = props.deletionProtection ?? true;
    const logRemovalPolicy = deletionProtection ? cdk.RemovalPolicy.RETAIN : cdk.RemovalPolicy.DESTROY;

    this.table = new LedgerTable(this, 'Ledger', { deletionProtection });
    this.httpApi = new LoyaltyHttpApi(this, 'Http', { table: this.table.table, logRemovalPolicy });
    this.events = new LoyaltyEvents(this, 'Events', { table: this.table.table, logRemovalPolicy });
    this.jobs = new LoyaltyJobs(this, 'Jobs', { table: this.table.table, logRemovalPolicy });
    // The secret follows the table: its key stays valid in a retained table.
    this.bootstrapAdminKey = new BootstrapAdminKey(this, 'BootstrapAdminKey', {
      table: this.table.table,
      logRemovalPolicy,
      secretRemovalPolicy: logRemovalPolicy,
    });

    // Alarms without actions: they show up in the console; wire an SNS topic when there is a pager.
    new cloudwatch.Alarm(this, 'Api5xxAlarm', {
      alarmDescription: 'The HTTP API answered 5xx (handler errors or timeouts).',
      metric: this.httpApi.api.metricServerError({ period: cdk.Duration.minutes(5), statistic: 'Sum' }),
      threshold: 5,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.dlqAlarm(
      'PublisherDlqAlarm',
      this.events.deadLetterQueue,
      'Ledger events could not be published: a stream batch reached the DLQ.',
    );
    this.dlqAlarm(
      'JobsDlqAlarm',
      this.jobs.deadLetterQueue,
      'A scheduled lifecycle job could not be delivered, or failed after retries: see the jobs DLQ.',
    );

    new cloudwatch.Alarm(this, 'ChurnScanFailedAlarm', {
      alarmDescription:
        "A churn scan execution failed (a segment failed after its retries): the next execution resumes the day's run.",
      metric: this.jobs.churnScan.stateMachine.metricFailed({
        period: cdk.Duration.minutes(5),
        statistic: 'Sum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    new cloudwatch.Alarm(this, 'ReconciliationDifferenceAlarm', {
      alarmDescription:
        "The daily reconciliation found Σ member balances differing from the report counters: see the job runner's log ('reconciliation difference').",
      metric: this.jobs.reconciliationDifferences,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    new cdk.CfnOutput(this, 'ApiUrl', { value: this.httpApi.stage.url, description: 'Base URL of the API' });
    new cdk.CfnOutput(this, 'TableName', { value: this.table.table.tableName });
    new cdk.CfnOutput(this, 'EventBusName', { value: this.events.bus.eventBusName });
    new cdk.CfnOutput(this, 'AdminKeySecretArn', {
      value: this.bootstrapAdminKey.secret.secretArn,
      description:
        'Secret holding the first admin API key. Read it with: aws secretsmanager get-secret-value ' +
        '--secret-id <this ARN> --query SecretString --output text',
    });
  }

  /** An alarm on the first message a dead-letter queue receives (no action: wire a topic for a pager). */
  private dlqAlarm(id: string, queue: sqs.IQueue, description: string): void {
    new cloudwatch.Alarm(this, id, {
      alarmDescription: description,
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: cdk.Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
