/**
 * After each test, runs the operator calls it queued (test/helpers/gpu-ops.ts)
 * on WebGPU and compares them with the CPU. The device is made on first use,
 * so test files that queue nothing never load Dawn.
 */
import { afterEach } from 'vitest';
import type { Device } from '../../src/runtime/ndarray.ts';
import { flushGpuChecks } from '../helpers/gpu-ops.ts';

const REQUIRED = process.env.KILN_REQUIRE_WEBGPU === '1';
let device: Promise<Device | undefined> | undefined;

function shared(): Promise<Device | undefined> {
  device ??= import('../../src/runtime/node.ts')
    .then((m) => m.webgpuDevice())
    .catch((e: unknown) => {
      if (REQUIRED) throw e;
      return undefined;
    });
  return device;
}

afterEach(async () => {
  await flushGpuChecks(shared);
});
