import * as cdk from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { BootstrapAdminKey } from './bootstrap-admin-key.ts';
import { EVENT_BUS_NAME, LoyaltyEvents } from './events.ts';
import { CAPACITY_CONTEXT, METRICS_NAMESPACE_CONTEXT } from './handler-function.ts';
import { LoyaltyHttpApi } from './http-api.ts';
import { LoyaltyJobs } from './jobs.ts';
import { LedgerTable } from './ledger-table.ts';
import { LoyaltyObservability } from './observability.ts';

/** A deployment of the stack: `npx cdk deploy -c stage=dev|prod`. */
export type Stage = 'dev' | 'prod';
export const STAGES: readonly Stage[] = ['dev', 'prod'];

/** Properties of {@link LoyaltyStack}. */
export interface LoyaltyStackProps extends cdk.StackProps {
  /**
   * prod: the table has deletion protection and is kept, with its logs and the admin-key secret,
   * when the stack is deleted; alarms notify. dev: everything is destroyed with the stack; alarms
   * only change state.
   * @default 'prod'
   */
  stage?: Stage;
  /** The SNS topic every alarm notifies (prod; `-c alarmTopicArn=`). */
  alarmTopicArn?: string;
  /** Override the stage's deletion protection (tests, or a protected dev). */
  deletionProtection?: boolean;
  /**
   * Shard and copy counts where a capacity ceiling is near (docs/capacity.md); raise, never lower,
   * on a table that holds data. `-c counterShards= -c counterPartitions= -c configCopies=`.
   */
  capacity?: Partial<CapacitySettings>;
}

/** What lambdas/config/capacity.ts reads, and its limits. */
export interface CapacitySettings {
  /** LOYALTY_COUNTER_SHARDS, 1–256. @default 64 */
  counterShards: number;
  /** LOYALTY_COUNTER_PARTITIONS, 1–64 (and ≤ counterShards). @default 8 */
  counterPartitions: number;
  /** LOYALTY_CONFIG_COPIES, 1–64. @default 8 */
  configCopies: number;
}

const CAPACITY_DEFAULTS: CapacitySettings = { counterShards: 64, counterPartitions: 8, configCopies: 8 };
const CAPACITY_LIMITS: Record<keyof CapacitySettings, [string, number]> = {
  counterShards: ['LOYALTY_COUNTER_SHARDS', 256],
  counterPartitions: ['LOYALTY_COUNTER_PARTITIONS', 64],
  configCopies: ['LOYALTY_CONFIG_COPIES', 64],
};

/** The functions' environment for `capacity`, refusing values the code would refuse at start. */
export function capacityEnvironment(capacity: Partial<CapacitySettings> = {}): Record<string, string> {
  const settings = { ...CAPACITY_DEFAULTS, ...capacity };
  if (settings.counterPartitions > settings.counterShards) {
    throw new Error('counterPartitions may not exceed counterShards');
  }
  return Object.fromEntries(
    (Object.keys(CAPACITY_LIMITS) as (keyof CapacitySettings)[]).map((name) => {
      const [variable, max] = CAPACITY_LIMITS[name];
      const value = settings[name];
      if (!Number.isInteger(value) || value < 1 || value > max) {
        throw new Error(`${name} must be an integer from 1 to ${max}, not ${value}`);
      }
      return [variable, String(value)];
    }),
  );
}

/**
 * The whole loyalty API: table, HTTP API with its functions, event publishing, scheduled lifecycle
 * jobs, alarms and a dashboard.
 */
export class LoyaltyStack extends cdk.Stack {
  readonly stage: Stage;
  readonly table: LedgerTable;
  readonly httpApi: LoyaltyHttpApi;
  readonly events: LoyaltyEvents;
  readonly jobs: LoyaltyJobs;
  readonly bootstrapAdminKey: BootstrapAdminKey;
  readonly observability: LoyaltyObservability;

  constructor(scope: Construct, id: string, props: LoyaltyStackProps = {}) {
    super(scope, id, props);
    this.stage = props.stage ?? 'prod';
    const prod = this.stage === 'prod';
    const deletionProtection = props.deletionProtection ?? prod;
    const logRemovalPolicy = deletionProtection ? cdk.RemovalPolicy.RETAIN : cdk.RemovalPolicy.DESTROY;
    // Metrics and the bus are named per stage, so dev and prod may share an account.
    const metricsNamespace = prod ? 'LoyaltyApi' : `LoyaltyApi-${this.stage}`;
    this.node.setContext(METRICS_NAMESPACE_CONTEXT, metricsNamespace);
    this.node.setContext(CAPACITY_CONTEXT, capacityEnvironment(props.capacity));

    this.table = new LedgerTable(this, 'Ledger', { deletionProtection });
    this.httpApi = new LoyaltyHttpApi(this, 'Http', { table: this.table.table, logRemovalPolicy });
    this.events = new LoyaltyEvents(this, 'Events', {
      table: this.table.table,
      logRemovalPolicy,
      busName: prod ? EVENT_BUS_NAME : `${EVENT_BUS_NAME}-${this.stage}`,
    });
    this.jobs = new LoyaltyJobs(this, 'Jobs', { table: this.table.table, logRemovalPolicy });
    // The secret follows the table: its key stays valid in a retained table.
    this.bootstrapAdminKey = new BootstrapAdminKey(this, 'BootstrapAdminKey', {
      table: this.table.table,
      logRemovalPolicy,
      secretRemovalPolicy: logRemovalPolicy,
    });

    const groups = this.httpApi.groupFunctions;
    this.observability = new LoyaltyObservability(this, 'Observability', {
      stage: this.stage,
      metricsNamespace,
      api: this.httpApi.api,
      table: this.table.table,
      throttleWatched: {
        points: groups.points,
        members: groups.members,
        reports: groups.reports,
        rewards: groups.rewards,
        subscriptions: groups.subscriptions,
        campaigns: groups.campaigns,
        publisher: this.events.publisher,
        'job runner': this.jobs.runner,
        'churn scan worker': this.jobs.churnScan.worker,
      },
      publisher: this.events.publisher,
      publisherDlq: this.events.deadLetterQueue,
      jobsDlq: this.jobs.deadLetterQueue,
      churnScan: this.jobs.churnScan.stateMachine,
      reconciliationDifferences: this.jobs.reconciliationDifferences,
      ...(props.alarmTopicArn
        ? { alarmTopic: sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) }
        : {}),
      alarmActions: prod,
    });

    new cdk.CfnOutput(this, 'Stage', { value: this.stage });
    new cdk.CfnOutput(this, 'ApiUrl', { value: this.httpApi.stage.url, description: 'Base URL of the API' });
    new cdk.CfnOutput(this, 'DocsUrl', {
      value: `${this.httpApi.stage.url}docs`,
      description: 'The interactive reference; /console is the finance console',
    });
    new cdk.CfnOutput(this, 'DashboardName', { value: this.observability.dashboard.dashboardName });
    new cdk.CfnOutput(this, 'TableName', { value: this.table.table.tableName });
    new cdk.CfnOutput(this, 'EventBusName', { value: this.events.bus.eventBusName });
    new cdk.CfnOutput(this, 'AdminKeySecretArn', {
      value: this.bootstrapAdminKey.secret.secretArn,
      description:
        'Secret holding the first admin API key. Read it with: aws secretsmanager get-secret-value ' +
        '--secret-id <this ARN> --query SecretString --output text',
    });
  }
}
