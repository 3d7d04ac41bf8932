/**
 * What each Lambda function ships and how long its module takes to load: every handler is bundled
 * as CDK's NodejsFunction bundles it, and each bundle is imported by a fresh Node process, several
 * times, as a cold start would.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { routeGroups } from '../lambdas/routes/manifest.ts';
import { median, round } from './stats.ts';

const handlersDir = fileURLToPath(new URL('../lambdas/handlers/', import.meta.url));

/**
 * The `bundling` options of lib/handler-function.ts, as NodejsFunction passes them to esbuild.
 * bundleAwsSDK: true means no externals: the AWS SDK v3 is bundled like everything else.
 */
export const cdkBundling = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  external: [],
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
  logLevel: 'warning',
} satisfies BuildOptions;

/**
 * Every module in lambdas/handlers/ is one function: the route groups first (manifest order), then
 * the others (fallback, event publisher, custom resources…) by name.
 */
export function functionNames(): string[] {
  const modules = readdirSync(handlersDir)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.slice(0, -'.ts'.length));
  const groups = Object.values(routeGroups).map((group) => group.entry as string);
  const others = modules.filter((name) => !groups.includes(name)).sort();
  return [...groups.filter((name) => modules.includes(name)), ...others];
}

export interface BundleInfo {
  name: string;
  file: string;
  bytes: number;
  gzipBytes: number;
  mapBytes: number;
  /** Where the bytes come from: the biggest packages (ours counted as `(our code)`), largest first. */
  largestParts: { name: string; kb: number }[];
}

/** The cold-start baseline (bench/bare-function.ts): a DynamoDB client and one GetItem, nothing else. */
export const BARE_FUNCTION = 'bare DynamoDB client';
const bareEntry = fileURLToPath(new URL('./bare-function.ts', import.meta.url));

export async function bundleAll(outDir: string): Promise<BundleInfo[]> {
  return Promise.all(
    [...functionNames(), BARE_FUNCTION].map(async (name) => {
      // NodejsFunction names the ESM output index.mjs.
      const file = join(outDir, name.replaceAll(' ', '-'), 'index.mjs');
      const { metafile } = await build({
        ...cdkBundling,
        entryPoints: [name === BARE_FUNCTION ? bareEntry : join(handlersDir, `${name}.ts`)],
        outfile: file,
        metafile: true, // only reports on the build; the output is the same
      });
      return {
        name,
        file,
        bytes: statSync(file).size,
        gzipBytes: gzipSync(readFileSync(file)).length,
        mapBytes: statSync(`${file}.map`).size,
        largestParts: largestParts(metafile, 4),
      };
    }),
  );
}

/** Minified bytes per package (`@aws-sdk/client-dynamodb`, `zod`…) in the bundle's JS output. */
function largestParts(metafile: Metafile, count: number): BundleInfo['largestParts'] {
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith('.mjs'))?.[1];
  const bytes = new Map<string, number>();
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? '(our code)';
    bytes.set(name, (bytes.get(name) ?? 0) + input.bytesInOutput);
  }
  return [...bytes]
    .sort(([, a], [, b]) => b - a)
    .slice(0, count)
    .map(([name, size]) => ({ name, kb: round(size / 1024, 1) }));
}

export interface ColdInit {
  /** Median import time with NODE_OPTIONS=--enable-source-maps, as lib/handler-function.ts deploys. */
  withSourceMapsMs: number;
  withoutSourceMapsMs: number;
  samplesMs: { withSourceMaps: number[]; withoutSourceMaps: number[] };
}

/**
 * Median time of `await import(bundle)` in fresh processes (Node's own start-up excluded), with
 * the environment the function has on Lambda so module-level code runs as it does there. Each run
 * imports every bundle once with source maps and once without, in turn, so drift in the machine's
 * load hits every function and the baseline alike.
 */
export function coldInits(bundles: BundleInfo[], runs: number): Map<string, ColdInit> {
  const samples = new Map(
    bundles.map((b) => [b.name, { withSourceMaps: [] as number[], withoutSourceMaps: [] as number[] }]),
  );
  for (let run = 0; run < runs; run++) {
    for (const bundle of bundles) {
      const into = samples.get(bundle.name) as ColdInit['samplesMs'];
      into.withSourceMaps.push(importOnce(bundle, true));
      into.withoutSourceMaps.push(importOnce(bundle, false));
    }
  }
  return new Map(
    [...samples].map(([name, samplesMs]) => [
      name,
      {
        withSourceMapsMs: round(median(samplesMs.withSourceMaps)),
        withoutSourceMapsMs: round(median(samplesMs.withoutSourceMaps)),
        samplesMs,
      },
    ]),
  );
}

/** One fresh process importing the bundle; the first call of a run also warms the disk cache. */
export function importOnce(bundle: BundleInfo, sourceMaps: boolean): number {
  const timer = join(bundle.file, '..', '..', 'import-timer.mjs');
  if (!existsSync(timer)) writeFileSync(timer, IMPORT_TIMER);
  const env = {
    PATH: process.env.PATH ?? '',
    // The variables lib/ gives the functions (dummy values: module loading only reads them).
    TABLE_NAME: 'loyalty-bench',
    EVENT_BUS_NAME: 'loyalty-bench',
    ADMIN_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:loyalty-bench',
    POWERTOOLS_SERVICE_NAME: 'loyalty-api',
    ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
    // What the Lambda runtime sets.
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_LAMBDA_FUNCTION_NAME: bundle.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  };
  const child = spawnSync(process.execPath, [timer, bundle.file], { env, encoding: 'utf8', timeout: 30_000 });
  const ms = Number(child.stdout);
  if (child.status !== 0 || !Number.isFinite(ms)) {
    throw new Error(`importing the ${bundle.name} bundle failed (${child.status}): ${child.stderr}`);
  }
  return round(ms);
}

const IMPORT_TIMER = `import { pathToFileURL } from 'node:url';
const url = pathToFileURL(process.argv[2]).href;
const started = performance.now();
await import(url);
process.stdout.write(String(performance.now() - started));
process.exit(0);
`;
