import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Deadline, soak and benchmark-smoke tests share 2 cores: one file at a time keeps their timing honest.
    fileParallelism: false,
  },
});
