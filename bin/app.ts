/**
 * The CDK app (`npx cdk synth`, `npx cdk deploy`). Environment-agnostic: no account or region is
 * looked up at synth time, so it synthesizes offline. cdk-nag's AWS Solutions pack runs as a
 * policy-validation plugin and fails synthesis on any finding that is not acknowledged.
 */
import * as cdk from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LoyaltyStack } from '../lib/loyalty-stack.ts';

const app = new cdk.App();
new LoyaltyStack(app, 'LoyaltyStack', {
  description: 'Coalition loyalty rewards API',
  // `-c deletionProtection=false` for throw-away stacks.
  deletionProtection: String(app.node.tryGetContext('deletionProtection') ?? true) !== 'false',
});
cdk.Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
