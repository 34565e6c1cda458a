import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/roundtrip.ts', 'test/setup/gpu-ops.ts', 'test/setup/wasm-ops.ts'],
    testTimeout: 30_000,
    // After each operator test its calls run on WebGPU too (test/setup/gpu-ops.ts): a sample of at
    // most 24 per test within a 45 s budget (test/helpers/gpu-ops.ts), so a busy machine stays under this.
    hookTimeout: 120_000,
  },
});
