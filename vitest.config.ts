import { defineConfig } from 'vitest/config';

// `npm ci --ignore-scripts` leaves the system Node (20) on PATH; vitest and middy need ≥ 22.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  throw new Error(
    `Node ${process.versions.node} is too old: run the tests through npm (npm test), which uses the pinned Node 24.`,
  );
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/drop-tables.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: {
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
    },
  },
});
