import { defineConfig } from 'vitest/config';

// Unit checks of the bench harness (no browser, no backend): `npx vitest run --config bench/vitest.config.ts`.
export default defineConfig({ test: { name: 'bench', root: __dirname, include: ['test/**/*.test.ts'] } });
