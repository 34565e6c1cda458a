import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/roundtrip.ts', 'test/setup/gpu-ops.ts'],
    testTimeout: 30_000,
    // After each operator test its calls run on WebGPU too (test/setup/gpu-ops.ts); on a software
    // adapter, kernels that run on one GPU thread (sort) take seconds.
    hookTimeout: 120_000,
  },
});
