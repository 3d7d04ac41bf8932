import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.ts';

const run = promisify(execFile);

/** The bash block under the README's walkthrough marker, exactly as a reader copies it. */
function walkthroughBlock(): string {
  const readme = readFileSync('README.md', 'utf8');
  const marker = readme.indexOf('<!-- walkthrough');
  const start = readme.indexOf('```bash\n', marker) + '```bash\n'.length;
  const end = readme.indexOf('\n```', start);
  if (marker < 0 || start < marker || end < 0) throw new Error('README walkthrough block not found');
  return readme.slice(start, end);
}

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

async function runWalkthrough(): Promise<unknown[]> {
  // Each curl's output on its own line, so the test can read every response; nothing else changes.
  const script = `set -euo pipefail\ncurl() { command curl "$@"; echo; }\n${walkthroughBlock()}`;
  const { stdout } = await run('bash', ['-c', script], {
    env: { ...process.env, API: api.url, LOYALTY_BOOTSTRAP_ADMIN_KEY: api.adminKey },
  });
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

describe('README walkthrough', () => {
  it('works as written, and again when run a second time', async () => {
    for (const attempt of [1, 2]) {
      // biome-ignore lint/suspicious/noExplicitAny: responses are read field by field below
      const [partner, earn, redeem, member, history] = (await runWalkthrough()) as Record<string, any>[];
      expect(partner, `run ${attempt}`).toMatchObject({ id: 'acme-grocer', status: 'active' });
      expect(earn?.transaction).toMatchObject({ type: 'earn', points: 85, status: 'posted' });
      expect(redeem?.redemption).toMatchObject({ status: 'captured', points: 50 });
      expect(member).toMatchObject({
        externalRef: 'cust-42',
        balances: { available: 35, lifetimeEarned: 85 },
      });
      expect(history?.items.map((t: { type: string; points: number }) => [t.type, t.points])).toEqual([
        ['redeem', -50],
        ['earn', 85],
      ]);
    }
  });
});
