/**
 * WebGPU in tests: the process's shared device (src/runtime/node.ts's
 * webgpuDevice()). Where the machine has no adapter, describeWebGpu's tests
 * are skipped with the reason, unless KILN_REQUIRE_WEBGPU=1 (CI with a GPU),
 * where they fail instead.
 */
import { describe, test } from 'vitest';
import { webgpuDevice } from '../../src/runtime/node.ts';
import type { WebGpuDevice } from '../../src/runtime/webgpu/device.ts';

const REQUIRED = process.env.KILN_REQUIRE_WEBGPU === '1';

/** The shared device, or why there is none (probed once per test file). */
const probe: WebGpuDevice | string = await webgpuDevice().catch((e: unknown) => (e instanceof Error ? e.message : String(e)));

/** The shared webgpu device, or undefined when the machine has none. */
export function gpu(): WebGpuDevice | undefined {
  return typeof probe === 'string' ? undefined : probe;
}

/** A describe block whose tests need WebGPU; `fn` gets the shared device. */
export function describeWebGpu(name: string, fn: (device: WebGpuDevice) => void): void {
  if (typeof probe !== 'string') {
    describe(name, () => fn(probe));
    return;
  }
  describe(name, () => {
    if (REQUIRED) {
      test('needs a WebGPU adapter (KILN_REQUIRE_WEBGPU=1)', () => {
        throw new Error(probe);
      });
    } else {
      test.skip(`skipped, no WebGPU here: ${probe}`, () => {});
    }
  });
}
