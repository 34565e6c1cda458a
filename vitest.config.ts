import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/roundtrip.ts', 'test/setup/gpu-ops.ts'],
    testTimeout: 30_000,
  },
});
