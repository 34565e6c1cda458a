/**
 * A read-only buffer parameter of a PrimFunc as several smaller ones: what
 * lets a weight larger than one storage binding (WebGPU's
 * maxStorageBufferBindingSize) reach a kernel. Parameter W of a static,
 * row-major shape becomes W_0, W_1, ... (1-d chunks of `chunk` elements of
 * W's flat layout, the last one shorter), and every load of W reads the chunk
 * its flat index falls in:
 *
 *   W[i, j]  ->  select(f < C, W_0[min(f, C - 1)], W_1[min(max(f - C, 0), L1 - 1)])   (f = i * N + j)
 *
 * Each chunk's index is clamped into it, so the loads a select does not pick
 * stay in bounds (they read one fixed element, which costs little next to the
 * one that is used). Block read regions of W name every chunk.
 */
import { type DataType } from '../ir/dtype.ts';
import { add, constInt, intImm, load, lt, mapPrimChildren, max, min, mul, type PrimExpr, select, sub } from '../ir/prim/expr.ts';
import { type Buffer, buffer } from '../ir/tir/buffer.ts';
import { type BufferRegion, mapStmtChildren, type PrimFunc, primFunc, range, type Stmt, visitStmts } from '../ir/tir/stmt.ts';

/** Why parameter `index` of `f` cannot be split, or undefined when it can. */
export function splitProblem(f: PrimFunc, index: number): string | undefined {
  const w = f.params[index];
  if (!w || w.kind !== 'buffer') return 'it is not a buffer';
  if (w.strides.length > 0) return 'it has explicit strides';
  if (w.shape.some((d) => constInt(d) === undefined)) return 'its shape is not static';
  let written = false;
  visitStmts(f.body, (s) => {
    if (s.kind === 'store' && s.buffer === w) written = true;
  });
  return written ? 'the kernel writes it' : undefined;
}

/** `f` with buffer parameter `index` split into chunks of `chunk` elements (see splitProblem for when it can). */
export function splitBufferParam(f: PrimFunc, index: number, chunk: number): PrimFunc {
  const problem = splitProblem(f, index);
  if (problem !== undefined) throw new Error(`cannot split parameter ${index}: ${problem}`);
  const w = f.params[index] as Buffer;
  const shape = w.shape.map((d) => constInt(d)!);
  const total = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(chunk) || chunk < 1) throw new Error(`chunk ${chunk} is not a positive integer`);
  const lengths = Array.from({ length: Math.ceil(total / chunk) }, (_, c) => Math.min(chunk, total - c * chunk));
  const chunks = lengths.map((n, c) => buffer(`${w.name}_${c}`, [n], w.dtype));

  const strides = shape.map((_, k) => shape.slice(k + 1).reduce((a, b) => a * b, 1));
  const chunkLoad = (indices: readonly PrimExpr[]): PrimExpr => {
    const dtype: DataType = indices[0]?.dtype ?? 'int32';
    const n = (x: number): PrimExpr => intImm(x, dtype);
    const flat = indices.reduce<PrimExpr>((acc, ix, k) => {
      const term = strides[k] === 1 ? ix : mul(ix, n(strides[k]!));
      return k === 0 ? term : add(acc, term);
    }, n(0));
    const clamped = (c: number): PrimExpr => {
      const local = c === 0 ? flat : max(sub(flat, n(c * chunk)), n(0));
      return min(local, n(lengths[c]! - 1));
    };
    let out: PrimExpr = load(chunks[chunks.length - 1]!, [clamped(chunks.length - 1)]);
    for (let c = chunks.length - 2; c >= 0; c--) out = select(lt(flat, n((c + 1) * chunk)), load(chunks[c]!, [clamped(c)]), out);
    return out;
  };

  const expr = (e: PrimExpr): PrimExpr => {
    const mapped = mapPrimChildren(e, expr);
    return mapped.kind === 'load' && mapped.buffer === w ? chunkLoad(mapped.indices) : mapped;
  };
  const regions = (rs: readonly BufferRegion[]): readonly BufferRegion[] =>
    rs.some((r) => r.buffer === w)
      ? rs.flatMap((r) => (r.buffer === w ? chunks.map((b, c) => ({ buffer: b, region: [range(0, lengths[c]!)] })) : [r]))
      : rs;
  const stmt = (s: Stmt): Stmt => {
    const t = mapStmtChildren(s, { stmt, expr });
    if (t.kind !== 'block_realize') return t;
    const reads = regions(t.block.reads);
    return reads === t.block.reads ? t : { ...t, block: { ...t.block, reads } };
  };
  const params = [...f.params.slice(0, index), ...chunks, ...f.params.slice(index + 1)];
  return primFunc(params, stmt(f.body), f.attrs);
}
