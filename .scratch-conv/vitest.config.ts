import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { include: ['.scratch-conv/**/*.test.ts'], testTimeout: 120_000, pool: 'forks' } });
