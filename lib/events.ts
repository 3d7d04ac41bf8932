import * as cdk from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_ENTITIES } from '../lambdas/domain/events.ts';
import { deadLetterQueue } from './dead-letter-queue.ts';
import { HandlerFunction } from './handler-function.ts';
import { acknowledgeXRayWildcard } from './nag.ts';

/** The EventBridge bus every domain event is put on. */
export const EVENT_BUS_NAME = 'loyalty-events';

/** Properties of {@link LoyaltyEvents}. */
export interface LoyaltyEventsProps {
  /** The table whose stream carries the ledger inserts (the outbox). */
  table: dynamodb.Table;
  /** What happens to log groups when the stack is deleted. @default RETAIN */
  logRemovalPolicy?: cdk.RemovalPolicy;
  /** The bus's name: one per stage, so two stages can share an account. @default loyalty-events */
  busName?: string;
}

/**
 * The outbox relay: the table stream, filtered to ledger inserts, feeds a publisher function that
 * puts one event per entry on the `loyalty-events` bus. Batches that keep failing go, after
 * retries and bisection, to an encrypted SQS dead-letter queue.
 */
export class LoyaltyEvents extends Construct {
  readonly bus: events.EventBus;
  readonly publisher: lambda.IFunction;
  /** Where the stream's failed batches are recorded (metadata of the shard range, not the items). */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: LoyaltyEventsProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: props.busName ?? EVENT_BUS_NAME });

    this.deadLetterQueue = deadLetterQueue(
      this,
      'PublisherDlq',
      'This queue is itself the on-failure destination of the stream event source mapping.',
    );

    const publisher = new HandlerFunction(this, 'Publisher', {
      entry: 'event-publisher.ts',
      description: 'Publishes each inserted ledger entry to EventBridge (outbox relay)',
      environment: { EVENT_BUS_NAME: this.bus.eventBusName },
      timeout: cdk.Duration.seconds(30),
      logRemovalPolicy: props.logRemovalPolicy,
    });
    publisher.function.addEventSource(
      new eventSources.DynamoEventSource(props.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        bisectBatchOnError: true,
        retryAttempts: 10,
        reportBatchItemFailures: true,
        onFailure: new eventSources.SqsDlq(this.deadLetterQueue),
        // Only inserted ledger entries, outbox events and members (member.enrolled) are events;
        // other writes never wake it.
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual('INSERT'),
            dynamodb: { NewImage: { entity: { S: lambda.FilterRule.or(...EVENT_ENTITIES) } } },
          }),
        ],
      }),
    );
    this.bus.grantPutEventsTo(publisher.function);
    acknowledgeXRayWildcard(
      publisher.role,
      'dynamodb:ListStreams, granted with the stream read permissions, is also account-wide by design.',
    );
    this.publisher = publisher.function;
  }
}
