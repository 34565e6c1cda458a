/**
 * The WebGPU re-check of operator tests is bounded per test: a test that
 * queues many calls has a fixed, evenly spaced sample of them compiled and
 * run, so a busy machine with a software adapter cannot push the afterEach
 * hook past its timeout (issue 17 item 24).
 */
import { describe, expect, test, vi } from 'vitest';
import { flushGpuChecks, GPU_CHECKS_PER_TEST, sampleChecks } from './gpu-ops.ts';
import { randomRef, runOp, tensorArg } from './run-op.ts';
import { describeWebGpu } from './webgpu.ts';

describe('sampleChecks', () => {
  test('keeps short queues whole, and samples long ones evenly with both ends', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i);
    expect(sampleChecks(xs.slice(0, 5), 24)).toEqual([0, 1, 2, 3, 4]);
    expect(sampleChecks(xs, 5)).toEqual([0, 25, 50, 74, 99]);
    expect(sampleChecks(xs, 1)).toEqual([0]);
    expect(sampleChecks(xs, 0)).toEqual([]);
    expect(sampleChecks(xs, Infinity)).toEqual(xs);
    const s = sampleChecks(xs, GPU_CHECKS_PER_TEST);
    expect(s.length).toBe(GPU_CHECKS_PER_TEST);
    expect(new Set(s).size).toBe(s.length);
    expect(s).toEqual([...s].sort((a, b) => a - b));
  });
});

describeWebGpu('a test that queues many calls', (device) => {
  test('compiles at most GPU_CHECKS_PER_TEST of them on the device, and they pass', async () => {
    // 60 distinct kernels (each length is its own constant shape): without a bound, 60 compiles.
    for (let n = 1; n <= 60; n++)
      runOp('add', [tensorArg(randomRef([n], 'float32', n)), tensorArg(randomRef([n], 'float32', n + 100))]);
    const before = device.stats.pipelines;
    await flushGpuChecks(() => Promise.resolve(device), GPU_CHECKS_PER_TEST);
    const made = device.stats.pipelines - before;
    expect(made).toBeGreaterThan(0);
    expect(made).toBeLessThanOrEqual(GPU_CHECKS_PER_TEST);
  });

  test('past its time budget a test skips the rest of its re-check with a warning, not a failure', async () => {
    for (let n = 61; n <= 64; n++)
      runOp('add', [tensorArg(randomRef([n], 'float32', n)), tensorArg(randomRef([n], 'float32', n + 100))]);
    const before = device.stats.pipelines;
    const warn = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await flushGpuChecks(() => Promise.resolve(device), GPU_CHECKS_PER_TEST, 0);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/^warning: 3 of 4 WebGPU re-checks skipped .*budget of 0 s ran out/);
    } finally {
      warn.mockRestore();
    }
    expect(device.stats.pipelines - before).toBe(1);
  });
});
