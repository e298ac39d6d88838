import { defineConfig } from 'vitest/config';

// One vitest run over every workspace. e2e and bench-like suites start real backends and Chromium,
// so files run one at a time there (2 cores in CI); unit suites run in parallel.
export default defineConfig({
  test: {
    reporters: ['default', './scripts/closing-line-reporter.ts'],
    projects: [
      { test: { name: 'repo', root: 'scripts', include: ['test/**/*.test.ts'] } },
      { test: { name: 'protocol', root: 'protocol', include: ['test/**/*.test.ts'] } },
      { test: { name: 'storage', root: 'storage', include: ['test/**/*.test.ts'], testTimeout: 60_000, fileParallelism: false } },
      { test: { name: 'tracker', root: 'tracker', include: ['test/**/*.test.ts'] } },
      { test: { name: 'assist-plugin', root: 'assist-plugin', include: ['test/**/*.test.ts'], passWithNoTests: true } },
      { test: { name: 'backend', root: 'backend', include: ['test/**/*.test.ts'], testTimeout: 60_000, fileParallelism: false } },
      { test: { name: 'frontend', root: 'frontend', include: ['test/**/*.test.ts'] } },
      { test: { name: 'bench', root: 'bench', include: ['test/**/*.test.ts'], testTimeout: 60_000 } },
      { test: { name: 'e2e', root: 'e2e', include: ['tests/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000, fileParallelism: false } },
    ],
  },
});
