/**
 * The `kiln-wasm-gemm` backend, compile side: a kernel library written by hand
 * (kernels/gemm.wat.ts, WebAssembly text assembled here with binaryen) that the
 * partition stage can hand a matrix product to, without any change to Kiln's
 * compiler: it takes a composite that is one 2-D f32 `matmul`, optionally
 * followed by the add of a bias of one value per column, and stores the
 * assembled kernel in the artifact. Its runtime (src/runtime/wasm-gemm.ts)
 * runs in any JavaScript engine with WebAssembly SIMD.
 */
import type { GraphFunc, GraphVar } from '../../ir/graph/expr.ts';
import { primExprEqual } from '../../ir/structural.ts';
import { GEMM_WAT } from './kernels/gemm.wat.ts';
import { type Backend, defineBackend } from './registry.ts';

const is2dF32 = (v: GraphVar): boolean => v.sinfo.kind === 'tensor' && v.sinfo.dtype === 'float32' && v.sinfo.ndim === 2;

/** Whether the composite is `matmul(x, w)` or `add(matmul(x, w), bias)` over its own parameters, bias [n]. */
export function gemmShape(f: GraphFunc): { bias: boolean } | undefined {
  const bindings = f.body.blocks.flatMap((b) => b.bindings);
  const [mm, add] = bindings;
  if (!mm || bindings.length > 2 || mm.value.kind !== 'call' || mm.value.op !== 'matmul') return undefined;
  const [x, w] = mm.value.args;
  if (x?.kind !== 'graph_var' || w?.kind !== 'graph_var' || x !== f.params[0] || w !== f.params[1]) return undefined;
  if (!is2dF32(x) || !is2dF32(w) || !is2dF32(mm.var)) return undefined;
  if (!add) return f.params.length === 2 ? { bias: false } : undefined;
  if (add.value.kind !== 'call' || add.value.op !== 'add' || add.value.args[0] !== mm.var) return undefined;
  const b = add.value.args[1];
  const n = w.sinfo.kind === 'tensor' ? w.sinfo.shape?.[1] : undefined;
  if (b?.kind !== 'graph_var' || b !== f.params[2] || b.sinfo.kind !== 'tensor' || b.sinfo.dtype !== 'float32') return undefined;
  const bn = b.sinfo.ndim === 1 ? b.sinfo.shape?.[0] : undefined;
  return n && bn && primExprEqual(n, bn) ? { bias: true } : undefined;
}

let assembled: Promise<Uint8Array> | undefined;

/** The kernel's WebAssembly, assembled once per process. */
function kernel(): Promise<Uint8Array> {
  assembled ??= import('binaryen').then(({ default: B }) => {
    const m = B.parseText(GEMM_WAT);
    try {
      m.setFeatures(B.Features.MVP | B.Features.SIMD128);
      if (!m.validate()) throw new Error('the gemm kernel does not validate');
      return m.emitBinary();
    } finally {
      m.dispose();
    }
  });
  return assembled;
}

export const wasmGemmBackend: Backend = defineBackend({
  name: 'kiln-wasm-gemm',
  version: 1,
  supports: (f) => gemmShape(f) !== undefined,
  codegen: async (c) => {
    const shape = gemmShape(c.func);
    if (!shape) throw new Error('not a 2-D f32 matmul (+ bias)');
    return { files: { 'gemm.wasm': await kernel() }, entry: shape };
  },
});
