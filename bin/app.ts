/**
 * The CDK app (`npx cdk synth`, `npx cdk deploy`). Environment-agnostic: no account or region is
 * looked up at synth time, so it synthesizes offline. cdk-nag's AWS Solutions pack runs as a
 * policy-validation plugin and fails synthesis on any finding that is not acknowledged.
 */
import * as cdk from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LoyaltyStack, STAGES, type Stage } from '../lib/loyalty-stack.ts';

const app = new cdk.App();
// `-c stage=dev|prod` (prod by default: a deploy without a stage keeps its data).
const stage = String(app.node.tryGetContext('stage') ?? 'prod') as Stage;
if (!STAGES.includes(stage)) throw new Error(`-c stage=${stage}: the stages are ${STAGES.join(', ')}.`);
const alarmTopicArn = app.node.tryGetContext('alarmTopicArn') as string | undefined;
// `-c counterShards=… -c counterPartitions=… -c configCopies=…` where a ceiling is near (docs/capacity.md).
const capacity = Object.fromEntries(
  (['counterShards', 'counterPartitions', 'configCopies'] as const).flatMap((name) => {
    const value = app.node.tryGetContext(name);
    return value === undefined ? [] : [[name, Number(value)]];
  }),
);
new LoyaltyStack(app, stage === 'prod' ? 'LoyaltyStack' : `LoyaltyStack-${stage}`, {
  description: `Coalition loyalty rewards API (${stage})`,
  stage,
  ...(alarmTopicArn ? { alarmTopicArn } : {}),
  capacity,
});
cdk.Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
