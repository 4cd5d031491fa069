import { defineConfig } from 'vitest/config';

// No retry, in CI either: a test that passes only on its second try hides a race (issue 18), and
// a retry would hide it again. A flaky test is a bug to fix, in the test or in faasctl.
const shared = { restoreMocks: true, mockReset: true, unstubEnvs: true, retry: 0 };
// Every project's temp dirs live under one directory per run, removed at its end (issue 18).
const TEMP_ROOT = 'test/helpers/temp-root.ts';

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'unit', include: ['test/unit/**/*.test.ts'], globalSetup: [TEMP_ROOT] } },
      {
        test: {
          ...shared,
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: [TEMP_ROOT, 'test/helpers/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          ...shared,
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: [TEMP_ROOT, 'test/helpers/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      // Fault injection (issue 17): poisonous output, PostgreSQL stopped and started, CLIs killed at
      // chosen points. Real engine; a file that stops PostgreSQL starts its own (test/helpers/postgres.ts).
      {
        test: {
          ...shared,
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          globalSetup: [TEMP_ROOT, 'test/helpers/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      // The multi-node cluster (scripts/cluster.sh): only under `npm test` / `npm run test:cluster`,
      // which bring it up and set FAASCTL_CLUSTER_TESTS=1; a plain `npx vitest run` leaves it out.
      ...(process.env.FAASCTL_CLUSTER_TESTS === '1'
        ? [
            {
              test: {
                ...shared,
                name: 'cluster',
                include: ['test/cluster/**/*.test.ts'],
                globalSetup: [TEMP_ROOT, 'test/helpers/global-setup.ts', 'test/helpers/cluster-setup.ts'],
                testTimeout: 300_000,
                hookTimeout: 300_000,
                // One shared cluster whose nodes the tests crash and cut: one file at a time.
                fileParallelism: false,
              },
            },
          ]
        : []),
    ],
  },
});
