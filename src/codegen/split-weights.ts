/**
 * Weights larger than one storage binding, made to fit: before a WebGPU build,
 * every constant argument of a call_tir whose bytes on the device exceed the
 * target's maxStorageBufferBindingSize is cut into constants that each fit,
 * and the call goes to a variant of its kernel that reads them as one
 * (split-buffer.ts). AlexNet's and VGG's first fully connected layers (151 MB,
 * 411 MB) and an LLM's embedding table build this way; each piece is its own
 * tensor, so no single GPU buffer needs to hold the whole weight either.
 *
 * A weight the kernel writes, or one bound to a variable rather than passed
 * inline, keeps the code generator's limit error (K8004).
 */
import { blobFromBytes } from '../ir/blob.ts';
import { byteSize } from '../ir/dtype.ts';
import {
  type Binding,
  type CallTIR,
  type Constant,
  constant,
  type Expr,
  graphFunc,
  mapBindings,
  mapExprChildren,
  type SeqExpr,
} from '../ir/graph/expr.ts';
import { irModule, type IRModule, type ModuleFunction } from '../ir/module.ts';
import type { TargetDescription } from '../ir/target.ts';
import type { PrimFunc } from '../ir/tir/stmt.ts';
import { splitBufferParam, splitProblem } from './split-buffer.ts';
import { Limits } from './wgsl/limits.ts';
import { gpuStorage, storageBytes } from './wgsl/types.ts';

export function splitLargeWeights(m: IRModule, target: TargetDescription): IRModule {
  const maxBytes = new Limits(target, '').get('maxStorageBufferBindingSize');
  const f16 = target.features.includes('shader-f16');
  const deviceBytes = (c: Constant): number | undefined => {
    const s = gpuStorage(c.dtype, f16);
    return s === undefined ? undefined : c.shape.reduce((a, b) => a * b, 1) * storageBytes(s);
  };
  const added = new Map<string, ModuleFunction>();
  /** (kernel, split parameters) -> the variant's name. */
  const variants = new Map<string, string>();

  const chunkOf = (c: Constant): number => {
    const per = storageBytes(gpuStorage(c.dtype, f16)!);
    // Whole multiples of 64 elements: chunk boundaries stay aligned for any dtype.
    return Math.max(64, Math.floor(maxBytes / per / 64) * 64);
  };

  const rewriteCall = (e: CallTIR): Expr => {
    const kernel = m.functions.get(e.func);
    if (kernel?.kind !== 'prim_func') return e;
    const split = e.args.flatMap((a, i) => {
      if (a.kind !== 'constant') return [];
      const bytes = deviceBytes(a);
      return bytes !== undefined && bytes > maxBytes && splitProblem(kernel, i) === undefined ? [i] : [];
    });
    if (split.length === 0) return e;
    const chunks = new Map(split.map((i) => [i, chunkOf(e.args[i] as Constant)]));
    const key = `${e.func}|${split.map((i) => `${i}:${chunks.get(i)!}`).join(',')}`;
    let name = variants.get(key);
    if (name === undefined) {
      name = freshName(`${e.func}_split`, m, added);
      // Later parameters first, so the earlier indices still point at their buffers.
      let f: PrimFunc = kernel;
      for (const i of [...split].reverse()) f = splitBufferParam(f, i, chunks.get(i)!);
      added.set(name, f);
      variants.set(key, name);
    }
    const args = e.args.flatMap((a, i) => (chunks.has(i) ? pieces(a as Constant, chunks.get(i)!) : [a]));
    return { ...e, func: name, args };
  };

  const expr = (e: Expr): Expr => {
    const mapped = mapExprChildren(e, { expr, seq });
    return mapped.kind === 'call_tir' ? rewriteCall(mapped) : mapped;
  };
  const seq = (s: SeqExpr): SeqExpr =>
    mapBindings(
      s,
      (b: Binding) => {
        const value = expr(b.value);
        return value === b.value ? b : { ...b, value };
      },
      expr,
    );

  const functions = new Map<string, ModuleFunction>();
  let changed = false;
  for (const [name, f] of m.functions) {
    if (f.kind !== 'func') {
      functions.set(name, f);
      continue;
    }
    const body = seq(f.body);
    changed ||= body !== f.body;
    functions.set(name, body === f.body ? f : graphFunc(f.params, body, f.ret, f.attrs));
  }
  if (!changed) return m;
  for (const [name, f] of added) functions.set(name, f);
  return irModule(functions, m.attrs);
}

/** The constant's flat elements as 1-d constants of `chunk` elements (the last one shorter). */
function pieces(c: Constant, chunk: number): Constant[] {
  const bytes = c.blob.bytes();
  const elem = byteSize(c.dtype);
  const total = c.shape.reduce((a, b) => a * b, 1);
  const out: Constant[] = [];
  for (let at = 0; at < total; at += chunk) {
    const n = Math.min(chunk, total - at);
    out.push(constant(blobFromBytes(bytes.subarray(at * elem, (at + n) * elem)), c.dtype, [n]));
  }
  return out;
}

function freshName(base: string, m: IRModule, added: ReadonlyMap<string, unknown>): string {
  let name = base;
  for (let i = 1; m.functions.has(name) || added.has(name); i++) name = `${base}${i}`;
  return name;
}
