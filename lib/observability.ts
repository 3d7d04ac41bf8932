import * as cdk from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** Properties of {@link LoyaltyObservability}. */
export interface LoyaltyObservabilityProps {
  stage: string;
  /** Namespace of the functions' EMF metrics (points issued and redeemed, replays, conflicts). */
  metricsNamespace: string;
  api: apigwv2.HttpApi;
  table: dynamodb.Table;
  /** The functions whose throttling matters: the request path first (an alarm takes ≤ 10 metrics). */
  throttleWatched: Record<string, lambda.IFunction>;
  publisher: lambda.IFunction;
  publisherDlq: sqs.IQueue;
  jobsDlq: sqs.IQueue;
  churnScan: sfn.StateMachine;
  reconciliationDifferences: cloudwatch.IMetric;
  /** Where alarms notify. Without it the alarms still change state in the console. */
  alarmTopic?: sns.ITopic;
  /** Notify on alarm (prod); off, they only change state (dev). */
  alarmActions: boolean;
}

const FIVE_MINUTES = cdk.Duration.minutes(5);

/** The DynamoDB operations the functions use: their throttles are the table's (≤ 10 per alarm). */
const TABLE_OPERATIONS = [
  dynamodb.Operation.GET_ITEM,
  dynamodb.Operation.BATCH_GET_ITEM,
  dynamodb.Operation.QUERY,
  dynamodb.Operation.SCAN,
  dynamodb.Operation.PUT_ITEM,
  dynamodb.Operation.UPDATE_ITEM,
  dynamodb.Operation.DELETE_ITEM,
  dynamodb.Operation.BATCH_WRITE_ITEM,
  dynamodb.Operation.TRANSACT_WRITE_ITEMS,
  dynamodb.Operation.TRANSACT_GET_ITEMS,
];

/**
 * The alarms and the dashboard. Every alarm notifies `alarmTopic` when one is given and the stage
 * has alarms on; the dashboard shows traffic, latency, the business metrics the handlers emit,
 * the table, the functions, the queues and every alarm's state.
 */
export class LoyaltyObservability extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  private readonly props: LoyaltyObservabilityProps;

  constructor(scope: Construct, id: string, props: LoyaltyObservabilityProps) {
    super(scope, id);
    this.props = props;
    const { api, table } = props;

    this.alarm('Api5xxAlarm', {
      alarmDescription: 'The HTTP API answered 5xx (handler errors or timeouts).',
      metric: api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 5,
    });
    this.alarm('ApiLatencyP99Alarm', {
      alarmDescription: 'p99 latency of the HTTP API above 1 s for 15 minutes.',
      metric: api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' }),
      threshold: 1_000,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    this.alarm('TableThrottlesAlarm', {
      alarmDescription: 'DynamoDB throttled requests on the ledger table (a hot partition or a burst).',
      metric: table.metricThrottledRequestsForOperations({
        operations: TABLE_OPERATIONS,
        period: FIVE_MINUTES,
      }),
      threshold: 1,
    });
    const throttles = Object.fromEntries(
      Object.entries(props.throttleWatched).map(([name, fn], index) => [
        `t${index}`,
        fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum', label: name }),
      ]),
    );
    this.alarm('LambdaThrottlesAlarm', {
      alarmDescription: `Lambda throttled invocations of ${Object.keys(props.throttleWatched).join(', ')}: raise the account's concurrency.`,
      metric: new cloudwatch.MathExpression({
        expression: Object.keys(throttles).join(' + '),
        usingMetrics: throttles,
        period: FIVE_MINUTES,
        label: 'Throttles',
      }),
      threshold: 1,
    });
    this.alarm('PublisherErrorsAlarm', {
      alarmDescription: 'The event publisher failed a stream batch (it retries; see its log).',
      metric: props.publisher.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
    });
    this.alarm('PublisherDlqAlarm', {
      alarmDescription: 'Ledger events could not be published: a stream batch reached the DLQ.',
      metric: this.queueDepth(props.publisherDlq),
      threshold: 1,
    });
    this.alarm('JobsDlqAlarm', {
      alarmDescription:
        'A scheduled lifecycle job could not be delivered, or failed after retries: see the jobs DLQ.',
      metric: this.queueDepth(props.jobsDlq),
      threshold: 1,
    });
    this.alarm('ChurnScanFailedAlarm', {
      alarmDescription:
        "A churn scan execution failed (a segment failed after its retries): the next execution resumes the day's run.",
      metric: props.churnScan.metricFailed({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
    });
    this.alarm('ReconciliationDifferenceAlarm', {
      alarmDescription:
        "The daily reconciliation found Σ member balances differing from the report counters: see the job runner's log ('reconciliation difference').",
      metric: props.reconciliationDifferences,
      threshold: 1,
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `loyalty-api-${props.stage}`,
      defaultInterval: cdk.Duration.hours(3),
    });
    const business = (metricName: string, label: string) =>
      new cloudwatch.MathExpression({
        // One line for all operations: the handlers emit these by operation (lambdas/http/metrics.ts).
        expression: `SUM(SEARCH('{${props.metricsNamespace},service,operation} MetricName="${metricName}"', 'Sum', 300))`,
        label,
        period: FIVE_MINUTES,
      });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# Loyalty API (${props.stage})\nTraffic and errors from API Gateway; points, replays and conflicts from the handlers' EMF metrics (namespace \`${props.metricsNamespace}\`). Runbook: docs/operations.md.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Requests and errors',
        left: [
          api.metricCount({ period: FIVE_MINUTES, statistic: 'Sum', label: 'Requests' }),
          api.metricClientError({ period: FIVE_MINUTES, statistic: 'Sum', label: '4xx' }),
          api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum', label: '5xx' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Latency (ms)',
        left: ['p50', 'p99'].map((statistic) =>
          api.metricLatency({ period: FIVE_MINUTES, statistic, label: `${statistic} latency` }),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Points issued and redeemed',
        left: [business('PointsIssued', 'Issued'), business('PointsRedeemed', 'Redeemed')],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Idempotent replays and conflicts (409)',
        left: [business('IdempotentReplays', 'Replays'), business('Conflicts', 'Conflicts')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: '4xx and 5xx answered by the handlers',
        left: [business('ClientErrors', '4xx'), business('ServerErrors', '5xx')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Ledger table: capacity and throttles',
        left: [
          table.metricConsumedWriteCapacityUnits({ period: FIVE_MINUTES, statistic: 'Sum', label: 'WCU' }),
          table.metricConsumedReadCapacityUnits({ period: FIVE_MINUTES, statistic: 'Sum', label: 'RCU' }),
        ],
        right: [
          table.metricThrottledRequestsForOperations({
            operations: TABLE_OPERATIONS,
            period: FIVE_MINUTES,
            label: 'Throttled',
          }),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queues',
        left: [
          this.queueDepth(props.publisherDlq, 'Publisher DLQ'),
          this.queueDepth(props.jobsDlq, 'Jobs DLQ'),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Reconciliation differences and publisher errors',
        left: [props.reconciliationDifferences],
        right: [
          props.publisher.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum', label: 'Publisher errors' }),
        ],
        width: 8,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 8 }),
    );
  }

  private queueDepth(queue: sqs.IQueue, label?: string): cloudwatch.Metric {
    return queue.metricApproximateNumberOfMessagesVisible({
      period: FIVE_MINUTES,
      statistic: 'Maximum',
      ...(label ? { label } : {}),
    });
  }

  private alarm(
    id: string,
    props: Pick<cloudwatch.AlarmProps, 'alarmDescription' | 'metric' | 'threshold'> &
      Partial<Pick<cloudwatch.AlarmProps, 'evaluationPeriods' | 'comparisonOperator'>>,
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      actionsEnabled: this.props.alarmActions,
      ...props,
    });
    if (this.props.alarmTopic) {
      const action = new actions.SnsAction(this.props.alarmTopic);
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    this.alarms.push(alarm);
  }
}
