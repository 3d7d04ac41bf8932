import * as cdk from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { JobName } from '../lambdas/schemas/jobs.ts';
import { ChurnScanFanOut } from './churn-scan.ts';
import { deadLetterQueue } from './dead-letter-queue.ts';
import { HandlerFunction, METRICS_NAMESPACE_CONTEXT } from './handler-function.ts';
import {
  acknowledgeInvokeVersionsWildcard,
  acknowledgeTableIndexWildcard,
  acknowledgeXRayWildcard,
} from './nag.ts';

interface JobSchedule {
  expression: scheduler.ScheduleExpression;
  /** How long Scheduler keeps retrying a delivery that failed; a later run makes it pointless. */
  maxEventAge: cdk.Duration;
}

/** UTC, a few minutes into the day so the daily jobs run as of the new date. */
const dailyAt = (minute: number): JobSchedule => ({
  expression: scheduler.ScheduleExpression.cron({
    hour: '0',
    minute: String(minute),
    timeZone: cdk.TimeZone.ETC_UTC,
  }),
  maxEventAge: cdk.Duration.hours(1),
});

/**
 * When each job runs (a job added to `jobNames` fails to compile until it has a schedule). The daily
 * jobs are five minutes apart so they do not contend for the same members' version-conditioned
 * writes; any order is correct, since each brings a member up to its asOf first.
 */
export const jobSchedules: Record<JobName, JobSchedule> = {
  'expire-points': dailyAt(5),
  'mature-pending': dailyAt(10),
  'tier-review': dailyAt(15),
  // After the day's lifecycle jobs: scores every purchaser with the stored model (does nothing, with
  // a warning, until a model is fitted).
  'churn-scan': dailyAt(30),
  // The books as they closed at the end of yesterday: Σ members vs the report counters, and the
  // month-end snapshots of the months that are over (decisions §41).
  reconcile: dailyAt(45),
  // Periods end at the instant each member subscribed, so renewals run hourly: a trial's end, a
  // renewal, a grace's end is recorded (and announced) within the hour; reads settle at once anyway.
  'subscription-renewals': {
    expression: scheduler.ScheduleExpression.rate(cdk.Duration.hours(1)),
    maxEventAge: cdk.Duration.hours(1),
  },
  // An expired hold's points come back within minutes even if the member does nothing; any change
  // of the member releases it at once anyway.
  'release-expired-holds': {
    expression: scheduler.ScheduleExpression.rate(cdk.Duration.minutes(5)),
    maxEventAge: cdk.Duration.minutes(5),
  },
};

/** Properties of {@link LoyaltyJobs}. */
export interface LoyaltyJobsProps {
  table: dynamodb.Table;
  /** What happens to the log group when the stack is deleted. @default RETAIN */
  logRemovalPolicy?: cdk.RemovalPolicy;
  /** Segments of the churn scan's fan-out. @default 1024 */
  churnScanSegments?: number;
}

/**
 * The lifecycle jobs on AWS: one runner function (`job-runner.ts`, up to 15 minutes a call) and one
 * EventBridge Scheduler schedule per job in a group of their own. Deliveries Scheduler cannot make
 * and invocations that still fail after Lambda's retries both end in one encrypted SQS DLQ.
 */
export class LoyaltyJobs extends Construct {
  readonly runner: lambda.IFunction;
  readonly scheduleGroup: scheduler.ScheduleGroup;
  readonly schedules: Record<JobName, scheduler.Schedule>;
  /** The role Scheduler assumes: it may invoke the runner and record failures, nothing else. */
  readonly schedulerRole: iam.Role;
  /** Failed deliveries (Scheduler) and failed runs (Lambda's async on-failure destination). */
  readonly deadLetterQueue: sqs.Queue;
  /** The churn scan, fanned out over Scan segments (its schedule starts this, not the runner). */
  readonly churnScan: ChurnScanFanOut;
  /** Differences the reconciliation found, from the runner's log (`reconciliation difference`). */
  readonly reconciliationDifferences: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: LoyaltyJobsProps) {
    super(scope, id);
    const { table } = props;

    this.deadLetterQueue = deadLetterQueue(
      this,
      'Dlq',
      "This queue is itself the DLQ of the job schedules and the runner's on-failure destination.",
    );

    const runner = new HandlerFunction(this, 'Runner', {
      entry: 'job-runner.ts',
      description: 'Runs a lifecycle job for EventBridge Scheduler until its run is complete',
      environment: { TABLE_NAME: table.tableName },
      // Lambda's maximum: a run stops cleanly DEADLINE_MARGIN_MS before it and resumes later.
      timeout: cdk.Duration.minutes(15),
      logRemovalPolicy: props.logRemovalPolicy,
    });
    table.grantReadWriteData(runner.function);
    acknowledgeTableIndexWildcard(runner.role, table);
    acknowledgeXRayWildcard(runner.role);
    // Scheduler invokes asynchronously: a run that throws or times out is retried by Lambda, not
    // by Scheduler. Runs are idempotent per (job, asOf day), so a retry only continues the work.
    runner.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: cdk.Duration.hours(1),
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });
    this.runner = runner.function;
    // services/reconcile.ts logs each difference at error level with this message.
    const differences = new logs.MetricFilter(this, 'ReconciliationDifferences', {
      logGroup: runner.logGroup,
      filterPattern: logs.FilterPattern.stringValue('$.message', '=', 'reconciliation difference'),
      metricNamespace: String(this.node.tryGetContext(METRICS_NAMESPACE_CONTEXT) ?? 'LoyaltyApi'),
      metricName: 'ReconciliationDifferences',
      metricValue: '1',
      defaultValue: 0,
    });
    this.reconciliationDifferences = differences.metric({ statistic: 'Sum', period: cdk.Duration.hours(1) });

    // Every purchaser every day: past what one function scores in 15 minutes, so fanned out.
    this.churnScan = new ChurnScanFanOut(this, 'ChurnScan', {
      table,
      logRemovalPolicy: props.logRemovalPolicy,
      ...(props.churnScanSegments ? { segments: props.churnScanSegments } : {}),
    });

    // A group of our own, so the role trusts only these schedules, not the account's default group.
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'Group', {
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
    const stack = cdk.Stack.of(this);
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'EventBridge Scheduler: invokes the lifecycle job runner and starts the churn scan',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': this.scheduleGroup.scheduleGroupArn,
          },
        },
      }),
    });
    acknowledgeInvokeVersionsWildcard(this.schedulerRole, runner.function, 'EventBridge Scheduler');

    const schedules = {} as Record<JobName, scheduler.Schedule>;
    for (const [job, { expression, maxEventAge }] of Object.entries(jobSchedules) as [
      JobName,
      JobSchedule,
    ][]) {
      schedules[job] = new scheduler.Schedule(this, `Schedule-${job}`, {
        description: `Lifecycle job ${job}`,
        scheduleGroup: this.scheduleGroup,
        schedule: expression,
        target:
          job === 'churn-scan'
            ? new targets.StepFunctionsStartExecution(this.churnScan.stateMachine, {
                role: this.schedulerRole,
                // The state machine reads only `asOf` (absent: the execution's start).
                input: scheduler.ScheduleTargetInput.fromObject({ job }),
                retryAttempts: 10,
                maxEventAge,
                deadLetterQueue: this.deadLetterQueue,
              })
            : new targets.LambdaInvoke(runner.function, {
                role: this.schedulerRole,
                input: scheduler.ScheduleTargetInput.fromObject({ job }),
                retryAttempts: 10,
                maxEventAge,
                deadLetterQueue: this.deadLetterQueue,
              }),
      });
    }
    // The group's name is generated at synth time, so a schedule names it without a reference and
    // CloudFormation would not know to create the group first.
    for (const schedule of Object.values(schedules)) schedule.node.addDependency(this.scheduleGroup);
    this.schedules = schedules;
  }
}
