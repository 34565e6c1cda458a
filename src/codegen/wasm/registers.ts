/**
 * Local buffers in wasm locals: a small buffer every access of which has a
 * constant index (a thread's register tile once the loops over it are
 * unrolled) lives in locals rather than memory, so the engine keeps it in
 * registers. 32-bit elements that vectorized loops reach four at a time are
 * kept as one v128 per four: `acc[c + v]` (stride 1, c a multiple of 4), or
 * `acc[c + s*v]` with one stride s for the whole tile (a tile vectorized
 * along its first axis, a convolution's output channels, whose write-back
 * reads it along the other axis lane by lane).
 */
import { isFloat } from '../../ir/dtype.ts';
import { type PrimExpr, type PrimVar, usesVar } from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import { type Stmt, visitStmts } from '../../ir/tir/stmt.ts';
import type { Ref } from './context.ts';
import type { FunctionEmitter, LocalSlot } from './function.ts';
import type { ValType } from './types.ts';
import { affineIn } from '../../ir/arith/affine.ts';
import { Analyzer } from '../../ir/arith/analyzer.ts';

/** Elements past this stay in memory: locals beyond a few hundred only spill. */
const MAX_REGISTER_ELEMENTS = 256;

export interface RegisterFile {
  readonly valType: ValType;
  /** The element at a constant index (a scalar local, or a lane of a v128 one). */
  read(index: PrimExpr): Ref;
  write(index: PrimExpr, value: Ref): Ref;
  /** Whether elements are grouped four to a v128 local. */
  readonly vector: boolean;
  /** How far apart the four elements of a group are (1: adjacent). */
  readonly stride: number;
  /** The v128 local holding elements first, first + stride, ... (four of them), if they are one group. */
  groupAt(first: number): LocalSlot | undefined;
}

/** The registers for `b`, allocated in `body`, when every access there allows it; else undefined. */
export function registerLayout(f: FunctionEmitter, b: Buffer, body: Stmt): RegisterFile | undefined {
  if (b.scope === 'global') return undefined;
  let size = 1;
  for (const d of b.shape) {
    if (d.kind !== 'int') return undefined;
    size *= d.value;
  }
  if (size > MAX_REGISTER_ELEMENTS) return undefined;
  const valType: ValType =
    b.dtype === 'float64' ? 'f64' : isFloat(b.dtype) ? 'f32' : b.dtype === 'int64' || b.dtype === 'uint64' ? 'i64' : 'i32';
  const lanes32 = valType === 'f32' || valType === 'i32';
  let ok = true;
  // Each vector access: its stride, its first element, whether it writes.
  const accesses: { stride: number; first: number; store: boolean }[] = [];
  const vectorLoops: PrimVar[] = [];
  const check = (index: PrimExpr, store: boolean): void => {
    if (index.kind === 'int') return;
    // The vectorized loop this index moves with (several copies of an unrolled tile have one each).
    const v = vectorLoops.find((lv) => usesVar(index, lv));
    const a = v && affineIn(index, v);
    if (a && a.coef >= 1 && a.rest.kind === 'int' && lanes32) accesses.push({ stride: a.coef, first: a.rest.value, store });
    else ok = false;
  };
  const walk = (s: Stmt): void =>
    visitStmts(s, (x) => {
      if (!ok) return;
      if (x.kind === 'for' && x.forKind === 'vectorized' && x.extent.kind === 'int' && x.extent.value % 4 === 0) {
        vectorLoops.push(x.loopVar);
      }
      if (x.kind === 'store' && x.buffer === b) check(x.indices[0]!, true);
      forEachLoad(x, b, (i) => check(i, false));
    });
  walk(body);
  if (!ok) return undefined;
  if (accesses.length === 0) return scalarFile(f, valType, size);
  // The stride the tile is updated along (its stores) groups it; accesses along another stride read or
  // write its elements lane by lane, each at a constant index.
  const stride = (accesses.find((a) => a.store) ?? accesses[0]!).stride;
  const aligned = (first: number): boolean => first % (4 * stride) < stride;
  if (size % (4 * stride) !== 0 || !accesses.some((a) => a.stride === stride && aligned(a.first))) {
    return scalarFile(f, valType, size);
  }
  return vectorFile(f, valType as 'f32' | 'i32', size, stride);
}

function forEachLoad(s: Stmt, b: Buffer, f: (index: PrimExpr) => void): void {
  const exprs: PrimExpr[] = [];
  switch (s.kind) {
    case 'store':
      exprs.push(s.value, ...s.indices);
      break;
    case 'for':
      exprs.push(s.min, s.extent);
      break;
    case 'if':
      exprs.push(s.cond);
      break;
    case 'let':
      exprs.push(s.value);
      break;
    case 'evaluate':
      exprs.push(s.value);
      break;
    default:
      break;
  }
  const visit = (e: PrimExpr): void => {
    if (e.kind === 'load') {
      if (e.buffer === b) f(e.indices[0]!);
      e.indices.forEach(visit);
      return;
    }
    switch (e.kind) {
      case 'binary':
        visit(e.a);
        visit(e.b);
        return;
      case 'not':
        visit(e.a);
        return;
      case 'select':
        visit(e.cond);
        visit(e.t);
        visit(e.f);
        return;
      case 'cast':
        visit(e.value);
        return;
      case 'call':
        e.args.forEach(visit);
        return;
      default:
        return;
    }
  };
  exprs.forEach(visit);
}

const folder = new Analyzer();

function constIndex(f: FunctionEmitter, raw: PrimExpr, size: number): number {
  // A lane of a vector statement run lane by lane indexes with a sum of constants.
  const index = raw.kind === 'int' ? raw : folder.simplify(raw);
  if (index.kind !== 'int' || index.value < 0 || index.value >= size) {
    return f.unsupported(
      `a register buffer indexed at ${index.kind === 'int' ? index.value : 'a non-constant index'} (size ${size})`,
    );
  }
  return index.value;
}

function scalarFile(f: FunctionEmitter, valType: ValType, size: number): RegisterFile {
  const locals = Array.from({ length: size }, () => f.newLocal(valType));
  return {
    valType,
    vector: false,
    read: (index) => f.get(locals[constIndex(f, index, size)]!),
    write: (index, value) => f.set(locals[constIndex(f, index, size)]!, value),
    stride: 1,
    groupAt: () => undefined,
  };
}

function vectorFile(f: FunctionEmitter, valType: 'f32' | 'i32', size: number, stride: number): RegisterFile {
  const groups = Array.from({ length: size / 4 }, () => f.newLocal('v128'));
  const m = f.m;
  const lane = valType === 'f32' ? m.f32x4 : m.i32x4;
  // Element i: group (i / 4s)*s + i % s, lane (i / s) % 4.
  const where = (i: number): { group: LocalSlot; lane: number } => ({
    group: groups[Math.floor(i / (4 * stride)) * stride + (i % stride)]!,
    lane: Math.floor(i / stride) % 4,
  });
  return {
    valType,
    vector: true,
    stride,
    read: (index) => {
      const at = where(constIndex(f, index, size));
      return lane.extract_lane(f.get(at.group), at.lane);
    },
    write: (index, value) => {
      const at = where(constIndex(f, index, size));
      return f.set(at.group, lane.replace_lane(f.get(at.group), at.lane, value));
    },
    groupAt: (first) => {
      if (first < 0 || first + 3 * stride >= size || first % (4 * stride) >= stride) return undefined;
      return where(first).group;
    },
  };
}
