import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { startClockAt } from '../../lambdas/config/clock.ts';
import { startTestApi, type TestApi } from './api.ts';

const run = promisify(execFile);

// biome-ignore lint/suspicious/noExplicitAny: responses are read field by field
export type Json = Record<string, any>;

/** Where the comment `<!-- <marker>: …` or `<!-- <marker> clock=…` starts (-1: nowhere). */
function markerAt(readme: string, marker: string): number {
  const found = [`<!-- ${marker}:`, `<!-- ${marker} `]
    .map((prefix) => readme.indexOf(prefix))
    .filter((i) => i >= 0);
  return found.length === 0 ? -1 : Math.min(...found);
}

/** The bash block under a README marker, exactly as a reader copies it. */
export function readmeBlock(marker: string): string {
  const readme = readFileSync('README.md', 'utf8');
  const at = markerAt(readme, marker);
  const start = readme.indexOf('```bash\n', at) + '```bash\n'.length;
  const end = readme.indexOf('\n```', start);
  if (at < 0 || start < at || end < 0) throw new Error(`README block ${marker} not found`);
  return readme.slice(start, end);
}

/** The API clock a README step states in its marker (`clock=<instant>`). */
export function readmeClock(marker: string): string {
  const readme = readFileSync('README.md', 'utf8');
  const at = markerAt(readme, marker);
  const line = at < 0 ? '' : (readme.slice(at).split('\n')[0] ?? '');
  const clock = /clock=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)/.exec(line)?.[1];
  if (!clock) throw new Error(`README block ${marker} states no clock`);
  return clock;
}

/**
 * Run a README block against a test server; every curl's response (and every other line the block
 * prints) comes back in order, JSON parsed, anything else as `{ csv: line }`.
 */
export async function runReadmeBlock(api: TestApi, marker: string): Promise<Json[]> {
  // Each curl's output on its own line, so the test can read every response; nothing else changes.
  const script = `set -euo pipefail\ncurl() { command curl "$@"; echo; }\n${readmeBlock(marker)}`;
  const { stdout } = await run('bash', ['-c', script], {
    env: { ...process.env, API: api.url, LOYALTY_BOOTSTRAP_ADMIN_KEY: api.adminKey },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (line.startsWith('{') ? JSON.parse(line) : { csv: line.replace(/\r$/, '') }));
}

/**
 * A test server for README walkthroughs: `step(marker)` starts the API's clock at the marker's
 * `clock=` and runs its block. Call `setUp` in beforeAll and `tearDown` in afterAll (the clock goes
 * back to real time).
 */
export function readmeServer() {
  let api: TestApi | undefined;
  const server = () => {
    if (!api) throw new Error('readmeServer: setUp has not run');
    return api;
  };
  return {
    setUp: async () => {
      api = await startTestApi();
    },
    tearDown: async () => {
      startClockAt(new Date().toISOString());
      await api?.close();
    },
    api: server,
    step: (marker: string) => {
      startClockAt(readmeClock(marker));
      return runReadmeBlock(server(), marker);
    },
  };
}
