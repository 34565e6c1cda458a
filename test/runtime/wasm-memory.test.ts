/**
 * WebAssembly memory across calls: what a call allocates leaves the module's
 * memory when it returns (its results as host copies), so calling in a loop
 * does not grow the memory while the collector has not run.
 */
import { describe, expect, it, vi } from 'vitest';
import { buildArtifact } from '../../src/codegen/artifact.ts';
import { memorySource } from '../../src/codegen/memory-source.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { opHooks } from '../../src/ops/index.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
import { planModule } from '../../src/passes/plan-memory.ts';
import { loadArtifact } from '../../src/runtime/artifact.ts';
import { NDArray, tensor } from '../../src/runtime/ndarray.ts';
import '../../src/runtime/node.ts';
import type { WasmDevice } from '../../src/runtime/wasm/device.ts';
import { scheduleModule } from '../../src/schedule/rules/default-rules.ts';
import { WASM_TARGET } from '../helpers/wasm-ops.ts';

const MODEL = `
func main(x: Tensor[(4096,), f32]) -> Tensor[(4096,), f32] {
  dataflow {
    a = relu(x)
    b = add(a, x)
    output a, b
  }
  return (b, a, b)
}`;

describe('wasm memory across calls', () => {
  it('results come back in host memory, shared where the function returns one twice, and the heap does not grow', async () => {
    const m = scheduleModule(legalizeModule(parseModule(MODEL, { ...opHooks, file: 'm.kir' })), WASM_TARGET);
    const mod = await loadArtifact(memorySource(await buildArtifact(m, { name: 'm', target: WASM_TARGET })), { threads: 1 });
    const heap = (mod.device as WasmDevice).heap;
    const data = Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i));
    const x = tensor(data, [4096]);
    const before = heap.inUse;
    for (let r = 0; r < 20; r++) {
      const [b, a, b2] = (await mod.call('main', x)) as NDArray[];
      expect(b).toBe(b2);
      for (const t of [a!, b!]) {
        expect(t).toBeInstanceOf(NDArray);
        expect(t.device.kind).toBe('cpu');
        expect(t.device).not.toBe(mod.device);
      }
      const ad = a!.data as Float32Array;
      const bd = b!.data as Float32Array;
      for (let i = 0; i < 4096; i += 97) {
        expect(ad[i]).toBe(Math.max(0, data[i]!));
        expect(bd[i]).toBe(Math.fround(Math.max(0, data[i]!) + data[i]!));
      }
      expect(heap.inUse).toBe(before);
    }
  });
});

const CHAIN = `
func main(x: Tensor[(n, 1024), f32]) -> Tensor[(n, 1024), f32] {
  dataflow {
    a = exp(x)
    b = multiply(a, x)
    c = sigmoid(b)
    d = add(c, a)
    e = tanh(d)
    output e
  }
  return e
}`;

describe('a memory plan on the wasm device', () => {
  it('places the intermediates in one arena: fewer allocations, the same numbers, nothing left behind', async () => {
    const scheduled = scheduleModule(legalizeModule(parseModule(CHAIN, { ...opHooks, file: 'chain.kir' })), WASM_TARGET);
    const planned = planModule(scheduled);
    expect(planned).not.toBe(scheduled);
    const load = async (m: typeof scheduled) =>
      loadArtifact(memorySource(await buildArtifact(m, { name: 'm', target: WASM_TARGET })), { threads: 1 });
    const plain = await load(scheduled);
    const withPlan = await load(planned);
    const allocations = async (mod: typeof plain, x: NDArray) => {
      const heap = (mod.device as WasmDevice).heap;
      const before = heap.inUse;
      const spy = vi.spyOn(heap, 'alloc');
      const out = (await mod.call('main', x)) as NDArray;
      const n = spy.mock.calls.length;
      spy.mockRestore();
      expect(heap.inUse).toBe(before);
      return { n, data: Array.from(out.data as Float32Array) };
    };
    for (const rows of [3, 1, 5]) {
      const x = tensor(
        Float32Array.from({ length: rows * 1024 }, (_, i) => Math.sin(i * 0.37)),
        [rows, 1024],
      );
      const a = await allocations(plain, x);
      const b = await allocations(withPlan, x);
      expect(b.data).toEqual(a.data);
      // Without a plan: the input's copy and five results; with it: the copy, the arena and the result.
      expect(a.n).toBe(6);
      expect(b.n).toBe(3);
    }
  });
});
