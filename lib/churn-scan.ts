import * as cdk from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { churnScanWorkerErrors, MAX_SCAN_SEGMENTS } from '../lambdas/schemas/jobs.ts';
import { HandlerFunction } from './handler-function.ts';
import {
  acknowledgeDistributedMapExecutions,
  acknowledgeInvokeVersionsWildcard,
  acknowledgeXRayWildcard,
} from './nag.ts';

/**
 * What the worker does to the table, and nothing more: reads the model, the program and the run
 * (GetItem, Query of the run's items), Scans its segment, and writes scores, run items and, in a
 * band change's TransactWriteItems (authorised per contained action), the outbox item (PutItem).
 * No index, no delete, no batch.
 */
export const CHURN_SCAN_WORKER_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:UpdateItem',
  'dynamodb:PutItem',
] as const;

/** Properties of {@link ChurnScanFanOut}. */
export interface ChurnScanFanOutProps {
  table: dynamodb.Table;
  /**
   * Segments of the parallel Scan, one map item each (at most 10,000). At 10 million members, 1,024
   * segments hold about 9,800 members each: a couple of minutes of one worker (docs/decisions.md §39).
   * @default 1024
   */
  segments?: number;
  /** Segments scored at once (workers, and so write rate: see §39). @default 40 */
  maxConcurrency?: number;
  /** What happens to the log groups when the stack is deleted. @default RETAIN */
  logRemovalPolicy?: cdk.RemovalPolicy;
}

/**
 * The daily churn scan on AWS, for any number of members: a Step Functions state machine whose
 * Distributed Map runs one item per Scan segment, each item calling the worker
 * (`churn-scan-worker.ts`, the same scoring code as POST /v1/jobs/churn-scan) until its segment is
 * done. The run of (churn-scan, day) is resumable and idempotent as the in-process one: a failed or
 * repeated execution of the same day continues it and sends no event twice.
 *
 * Plan (opens the run, lists the segments not done) → Map (segment: call again while `done` is
 * false) → Finish (closes the run; an execution whose run is not complete fails, for the alarm).
 * Before any model is fitted, Plan fails under `ChurnModelMissing` and the execution ends without
 * scoring (not a failure: the job runner's scan did the same).
 */
export class ChurnScanFanOut extends Construct {
  readonly worker: lambda.IFunction;
  readonly stateMachine: sfn.StateMachine;
  readonly segments: number;
  readonly maxConcurrency: number;

  constructor(scope: Construct, id: string, props: ChurnScanFanOutProps) {
    super(scope, id);
    const { table } = props;
    this.segments = props.segments ?? 1024;
    this.maxConcurrency = props.maxConcurrency ?? 40;
    if (!Number.isInteger(this.segments) || this.segments < 1 || this.segments > MAX_SCAN_SEGMENTS) {
      throw new Error(`segments must be an integer from 1 to ${MAX_SCAN_SEGMENTS}, not ${this.segments}`);
    }

    const worker = new HandlerFunction(this, 'Worker', {
      entry: 'churn-scan-worker.ts',
      description: 'Scores the members of one churn-scan segment (Step Functions map item)',
      environment: { TABLE_NAME: table.tableName },
      // Lambda's maximum: a call stops cleanly before it and the state machine calls again.
      timeout: cdk.Duration.minutes(15),
      logRemovalPolicy: props.logRemovalPolicy,
    });
    worker.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...CHURN_SCAN_WORKER_ACTIONS], resources: [table.tableArn] }),
    );
    acknowledgeXRayWildcard(worker.role);
    this.worker = worker.function;

    const call = (stateId: string, payload: Record<string, unknown>, resultPath?: string) =>
      new tasks.LambdaInvoke(this, stateId, {
        lambdaFunction: worker.function,
        payload: sfn.TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        ...(resultPath ? { resultPath } : {}),
        // Throttles and Lambda's own failures, retried with backoff (retryOnServiceExceptions).
        retryOnServiceExceptions: true,
      });
    const retryFailures = (task: tasks.LambdaInvoke) =>
      task
        // What another attempt cannot mend (no model yet, a call the run refuses): not retried.
        .addRetry({ errors: Object.values(churnScanWorkerErrors), maxAttempts: 0 })
        // A worker that failed otherwise (Lambda throttled, a throttled table, a transaction conflict
        // that outlasted the scan's own retries, a timeout) is called again: the run resumes from the
        // segment's last checkpoint.
        .addRetry({
          errors: [sfn.Errors.TASKS_FAILED, sfn.Errors.TIMEOUT],
          interval: cdk.Duration.seconds(10),
          maxAttempts: 6,
          backoffRate: 2,
          jitterStrategy: sfn.JitterType.FULL,
        });

    // Answers { asOf, segments, pending: [segment…], complete }: the run's own split if it began in
    // another one. At 10,000 segments `pending` is ~50 KB, inside the 256 KB a state may carry.
    const plan = retryFailures(call('Plan', { step: 'plan', 'asOf.$': '$.asOf', segments: this.segments }));
    plan.addCatch(
      new sfn.Succeed(this, 'NoChurnModel', {
        comment: 'No churn model fitted yet: nothing to score (the worker logged a warning).',
      }),
      { errors: [churnScanWorkerErrors.noModel] },
    );
    // The item keeps its input (asOf, segment, segments) for the next call; the answer goes beside it.
    const scoreSegment = retryFailures(
      call(
        'ScoreSegment',
        {
          step: 'segment',
          'asOf.$': '$.asOf',
          'segment.$': '$.segment',
          'segments.$': '$.segments',
        },
        '$.outcome',
      ),
    );
    const segmentsMap = new sfn.DistributedMap(this, 'Segments', {
      comment: 'One item per Scan segment left in the run.',
      itemsPath: '$.pending',
      itemSelector: {
        'segment.$': '$$.Map.Item.Value',
        'asOf.$': '$.asOf',
        'segments.$': '$.segments',
      },
      maxConcurrency: this.maxConcurrency,
      // A segment that still fails after its retries fails the execution; the next one resumes it.
      toleratedFailureCount: 0,
      // Standard child executions: a segment may take longer than an Express one's 5 minutes.
      mapExecutionType: sfn.StateMachineType.STANDARD,
      label: 'ChurnScanSegments',
      resultPath: sfn.JsonPath.DISCARD,
    });
    segmentsMap.itemProcessor(
      scoreSegment.next(
        new sfn.Choice(this, 'SegmentDone')
          .when(
            sfn.Condition.booleanEquals('$.outcome.done', true),
            // Each child answers {}: the map's gathered results stay tiny at any number of segments.
            new sfn.Succeed(this, 'SegmentScored', { outputPath: sfn.JsonPath.DISCARD }),
          )
          .otherwise(scoreSegment),
      ),
    );
    const finish = retryFailures(
      call('Finish', { step: 'finish', 'asOf.$': '$.asOf', 'segments.$': '$.segments' }),
    );
    plan
      .next(segmentsMap)
      .next(finish)
      .next(
        new sfn.Choice(this, 'RunComplete')
          .when(sfn.Condition.booleanEquals('$.complete', true), new sfn.Succeed(this, 'Scored'))
          .otherwise(
            new sfn.Fail(this, 'RunIncomplete', {
              error: 'ChurnScanIncomplete',
              cause:
                'Every segment reported done, yet the run is not complete; the next execution resumes it.',
            }),
          ),
      );
    const start = new sfn.Choice(this, 'AsOfGiven', {
      comment: 'Input { "asOf"? }: a scheduled run has none.',
    })
      .when(sfn.Condition.isPresent('$.asOf'), plan)
      .otherwise(
        new sfn.Pass(this, 'AsOfExecutionStart', {
          comment: 'A scheduled run scores as of the instant its execution started.',
          parameters: { 'asOf.$': '$$.Execution.StartTime' },
        }).next(plan),
      );

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? cdk.RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'The daily churn scan fanned out over Scan segments',
      definitionBody: sfn.DefinitionBody.fromChainable(start),
      // A day's run must end before the next day's starts.
      timeout: cdk.Duration.hours(20),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    acknowledgeInvokeVersionsWildcard(this.stateMachine.role, worker.function, 'The state machine');
    acknowledgeDistributedMapExecutions(this.stateMachine, 'ChurnScanSegments');
    acknowledgeXRayWildcard(
      this.stateMachine.role,
      'The log delivery actions (logs:*LogDelivery*) are on * too.',
    );
  }
}
