/**
 * A memory plan on the webgpu device: each storage token of a block's arena
 * is one buffer, shared by the tensors placed there one after another, and an
 * elementwise kernel planned to write over its input (one buffer bound both
 * ways, which WebGPU refuses) writes elsewhere and is copied over.
 */
import { expect, test, vi } from 'vitest';
import { buildArtifact } from '../../src/codegen/artifact.ts';
import { memorySource } from '../../src/codegen/memory-source.ts';
import type { IRModule } from '../../src/ir/module.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { printModule } from '../../src/ir/text/printer.ts';
import { opHooks } from '../../src/ops/index.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
import { planModule } from '../../src/passes/plan-memory.ts';
import { loadArtifact } from '../../src/runtime/artifact.ts';
import { type NDArray, tensor } from '../../src/runtime/ndarray.ts';
import { scheduleModule } from '../../src/schedule/rules/default-rules.ts';
import { WEBGPU_TARGET } from '../helpers/gpu-ops.ts';
import { describeWebGpu } from '../helpers/webgpu.ts';

const CHAIN = `
func main(x: Tensor[(n, 256), f32]) -> Tensor[(n, 256), f32] {
  dataflow {
    a = exp(x)
    b = multiply(a, x)
    c = sigmoid(b)
    d = add(c, a)
    e = negative(d)
    f = tanh(e)
    output f
  }
  return f
}`;

describeWebGpu('a memory plan on webgpu', (device) => {
  test('tensors share their token’s buffer, in-place kernels still give the same numbers', async () => {
    const legalized = legalizeModule(parseModule(CHAIN, { ...opHooks, file: 'chain.kir' }));
    const scheduled = scheduleModule(legalized, WEBGPU_TARGET);
    // Planned before scheduling, where the kernels are seen to be elementwise: b, c, d and e are written in place.
    const planned = scheduleModule(planModule(legalized), WEBGPU_TARGET);
    expect(printModule(planned)).toMatch(/e_mem: .* = alloc_tensor\(storage, prim\(n \* 1024\)/);
    const load = async (m: IRModule) =>
      loadArtifact(memorySource(await buildArtifact(m, { name: 'm', target: WEBGPU_TARGET })), { device });
    const plain = await load(scheduled);
    const withPlan = await load(planned);
    const run = async (mod: typeof plain, x: NDArray) => {
      const spy = vi.spyOn(device as unknown as { createBuffer: () => GPUBuffer }, 'createBuffer');
      const out = (await mod.call('main', x)) as NDArray;
      const made = spy.mock.calls.length;
      spy.mockRestore();
      return { made, data: Array.from((await out.toCpu()).data as Float32Array) };
    };
    for (const rows of [2, 5, 1]) {
      const x = tensor(
        Float32Array.from({ length: rows * 256 }, (_, i) => Math.sin(i * 0.37)),
        [rows, 256],
      );
      const a = await run(plain, x);
      const b = await run(withPlan, x);
      expect(b.data).toEqual(a.data);
      // Without the plan: the input's upload and six results; with it: the upload, two tokens, the result.
      expect(a.made).toBe(7);
      expect(b.made).toBe(4);
    }
  });
});
