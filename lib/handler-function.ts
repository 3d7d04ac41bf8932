import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root: esbuild resolves entries and node_modules from here. */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** Absolute path of a handler module under `lambdas/handlers/`. */
export const handlerEntry = (file: string) =>
  fileURLToPath(new URL(`../lambdas/handlers/${file}`, import.meta.url));

/** Properties of {@link HandlerFunction}. */
export interface HandlerFunctionProps {
  /** Handler module file name under `lambdas/handlers/`, e.g. `points.ts`. */
  entry: string;
  description: string;
  environment?: Record<string, string>;
  /** @default 10 seconds (the HTTP API gives up after 30) */
  timeout?: cdk.Duration;
  /** @default 512 MB (more memory is more CPU, so a shorter cold start) */
  memorySize?: number;
  /** What happens to the log group when the stack is deleted. @default RETAIN */
  logRemovalPolicy?: cdk.RemovalPolicy;
  /** Files to ship beside the bundle: path in the bundle → path from the repository root. */
  copyFiles?: Record<string, string>;
}

/** The context key under which a stack names its metrics namespace for every function in it. */
export const METRICS_NAMESPACE_CONTEXT = 'loyalty:metricsNamespace';
/**
 * The shard and copy counts (lambdas/config/capacity.ts) as environment variables: LoyaltyStack
 * sets them in the construct context, and every function gets the same values (readers read
 * shards 0..n−1, so writers and readers must agree).
 */
export const CAPACITY_CONTEXT = 'loyalty:capacity';

/** Bundling hooks that copy files into the asset after esbuild (locally: no Docker). */
function copyHooks(files: Record<string, string>): nodejs.ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir, outputDir) =>
      Object.entries(files).flatMap(([target, source]) => [
        `mkdir -p "${path.dirname(path.join(outputDir, target))}"`,
        `cp "${path.join(inputDir, source)}" "${path.join(outputDir, target)}"`,
      ]),
  };
}

/**
 * One Lambda function with the project's defaults: Node 24 on arm64, bundled locally by esbuild
 * to one minified ESM file (no Docker), X-Ray tracing, and its own role and log group. The role
 * starts with nothing but write access to that log group (instead of the AWS managed
 * AWSLambdaBasicExecutionRole, which may create and write any log group); callers add grants.
 */
export class HandlerFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? cdk.RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.entry}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: handlerEntry(props.entry),
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? cdk.Duration.seconds(10),
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      projectRoot,
      depsLockFilePath: fileURLToPath(new URL('../package-lock.json', import.meta.url)),
      environment: {
        POWERTOOLS_SERVICE_NAME: 'loyalty-api',
        // The EMF metrics' namespace: one per stage (LoyaltyStack sets it in the construct context).
        POWERTOOLS_METRICS_NAMESPACE: String(
          this.node.tryGetContext(METRICS_NAMESPACE_CONTEXT) ?? 'LoyaltyApi',
        ),
        NODE_OPTIONS: '--enable-source-maps',
        ...((this.node.tryGetContext(CAPACITY_CONTEXT) as Record<string, string> | undefined) ?? {}),
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        format: nodejs.OutputFormat.ESM,
        minify: true,
        sourceMap: true,
        // Stack traces need names and lines, not the sources: keeps the asset small.
        sourcesContent: false,
        target: 'node22',
        mainFields: ['module', 'main'],
        // Pin the SDK version we test against instead of the one the runtime happens to ship.
        bundleAwsSDK: true,
        // Some CommonJS dependencies call require() for Node built-ins; ESM has no require.
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        ...(props.copyFiles ? { commandHooks: copyHooks(props.copyFiles) } : {}),
      },
    });
  }
}
