/**
 * WebAssembly memory across calls: what a call allocates leaves the module's
 * memory when it returns (its results as host copies), so calling in a loop
 * does not grow the memory while the collector has not run.
 */
import { describe, expect, it } from 'vitest';
import { buildArtifact } from '../../src/codegen/artifact.ts';
import { memorySource } from '../../src/codegen/memory-source.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { opHooks } from '../../src/ops/index.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
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
