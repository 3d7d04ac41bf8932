import * as cdk from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { HandlerFunction } from './handler-function.ts';
import {
  acknowledgeDistributedMapExecutions,
  acknowledgeInvokeVersionsWildcard,
  acknowledgeTableIndexWildcard,
  acknowledgeXRayWildcard,
} from './nag.ts';

/** Properties of {@link ChurnScanFanOut}. */
export interface ChurnScanFanOutProps {
  table: dynamodb.Table;
  /**
   * Segments of the parallel Scan, one map item each. At 10 million members, 1,024 segments hold
   * about 9,800 members each: a few minutes of one worker (docs/decisions.md §39).
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

    const worker = new HandlerFunction(this, 'Worker', {
      entry: 'churn-scan-worker.ts',
      description: 'Scores the members of one churn-scan segment (Step Functions map item)',
      environment: { TABLE_NAME: table.tableName },
      // Lambda's maximum: a call stops cleanly before it and the state machine calls again.
      timeout: cdk.Duration.minutes(15),
      logRemovalPolicy: props.logRemovalPolicy,
    });
    table.grantReadWriteData(worker.function);
    acknowledgeTableIndexWildcard(worker.role, table);
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
      // A worker that failed (a throttled table, a transaction conflict that outlasted its own
      // retries, a timeout) is called again: the run resumes from the segment's last checkpoint.
      task.addRetry({
        errors: [sfn.Errors.TASKS_FAILED, sfn.Errors.TIMEOUT],
        interval: cdk.Duration.seconds(10),
        maxAttempts: 6,
        backoffRate: 2,
        jitterStrategy: sfn.JitterType.FULL,
      });

    const plan = retryFailures(call('Plan', { step: 'plan', 'asOf.$': '$.asOf', segments: this.segments }));
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
        'segment.$': '$$.Map.Item.Value.segment',
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
          .when(sfn.Condition.booleanEquals('$.outcome.done', true), new sfn.Succeed(this, 'SegmentScored'))
          .otherwise(scoreSegment),
      ),
    );
    const finish = retryFailures(
      call('Finish', { step: 'finish', 'asOf.$': '$.asOf', segments: this.segments }),
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
