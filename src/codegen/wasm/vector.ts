/**
 * Vectorized loops as WebAssembly SIMD: `for v in vectorized(4k)` whose body
 * is straight-line (stores, lets, ifs) runs as k groups of four lanes.
 * Expressions that do not depend on v stay scalar (splat where a vector
 * needs them); an access whose index moves by one element per step of v is
 * one v128 load or store (or a v128 register of a register tile); f32 and
 * i32 arithmetic, comparisons (masks) and selects are lane-wise
 * instructions; anything else is computed lane by lane, correct if not fast.
 * A loop that does not fit (another extent, 64-bit lanes, a loop or an
 * allocation inside) is left to the scalar emitter, so every loop builds.
 */
import { type DataType, isInt } from '../../ir/dtype.ts';
import {
  and,
  conjuncts,
  intImm,
  type PrimExpr,
  type PrimVar,
  primVar,
  substitute,
  usesVar,
  visitPrim,
} from '../../ir/prim/expr.ts';
import { copyWithFreshDefs } from '../../ir/tir/subst.ts';
import { printPrimExpr } from '../../ir/text/printer.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import { type For, ifThenElse, type Stmt, visitStmts } from '../../ir/tir/stmt.ts';
import { affineIn } from '../../ir/arith/affine.ts';
import type { Ref } from './context.ts';
import type { FunctionEmitter, LocalSlot } from './function.ts';
import type { RegisterFile } from './registers.ts';
import { storageBytes } from './types.ts';

type Lane = 'f32' | 'i32';
type VVal = { readonly kind: 'u'; readonly ref: Ref } | { readonly kind: 'v'; readonly ref: Ref };

export function emitVectorLoop(f: FunctionEmitter, s: For): Ref | undefined {
  if (s.extent.kind !== 'int' || s.extent.value % 4 !== 0 || s.extent.value === 0) return undefined;
  if (!vectorizable(f, s)) return undefined;
  const m = f.m;
  const groups = s.extent.value / 4;
  const out: Ref[] = [];
  const min = f.newLocal('i32');
  out.push(f.set(min, f.index(s.min)));
  for (let g = 0; g < groups; g++) out.push(new GroupEmitter(f, s, min, g).emit());
  return m.block(null, out);
}

/** Whether the body is straight-line code over 32-bit lanes. */
function vectorizable(f: FunctionEmitter, s: For): boolean {
  let ok = true;
  const dependent = new Set<PrimVar>([s.loopVar]);
  const depends = (e: PrimExpr): boolean => [...dependent].some((v) => usesVar(e, v));
  const laneOk = (e: PrimExpr): boolean => {
    let good = true;
    visitPrim(e, (x) => {
      if (!depends(x)) return;
      const t = f.widths.valType(x);
      if (t !== 'f32' && t !== 'i32') good = false;
    });
    return good;
  };
  visitStmts(s.body, (x) => {
    if (!ok) return;
    switch (x.kind) {
      case 'for':
      case 'allocate':
      case 'block_realize':
        ok = false;
        return;
      case 'store':
        ok = laneOk(x.value) && laneOk(x.indices[0]!);
        return;
      case 'let':
        ok = laneOk(x.value);
        if (depends(x.value)) dependent.add(x.var);
        return;
      case 'if':
        ok = laneOk(x.cond);
        return;
      case 'evaluate':
        ok = !depends(x.value);
        return;
      default:
        return;
    }
  });
  return ok;
}

class GroupEmitter {
  private readonly m: FunctionEmitter['m'];
  /** The value of the loop variable at lane 0 of this group. */
  private readonly base: LocalSlot;
  /** Variables whose value differs per lane (the loop variable, lets of per-lane values) → their v128 local. */
  private readonly vectors = new Map<PrimVar, LocalSlot>();
  /** Per lane, each per-lane variable → a scalar variable holding that lane's value. */
  private readonly lanes: Map<PrimVar, PrimExpr>[] = [0, 1, 2, 3].map(() => new Map<PrimVar, PrimExpr>());
  private readonly prologue: Ref[] = [];
  /**
   * Set while a branch runs as vectors for only some lanes (its condition's mask): register-tile stores
   * keep the other lanes' values, and memory is read only for the lanes in the mask.
   */
  private mask: LocalSlot | undefined;
  /** Under the current mask: each memory load already read (the input vector every row of a tile multiplies). */
  private maskedLoads = new Map<string, LocalSlot>();

  constructor(
    private readonly f: FunctionEmitter,
    private readonly loop: For,
    min: LocalSlot,
    private readonly group: number,
  ) {
    this.m = f.m;
    this.base = f.newLocal('i32');
    this.prologue.push(f.set(this.base, this.m.i32.add(f.get(min), this.m.i32.const(group * 4))));
    const v = loop.loopVar;
    const vec = f.newLocal('v128');
    this.prologue.push(
      f.set(vec, this.m.i32x4.add(this.m.i32x4.splat(f.get(this.base)), this.m.v128.const(laneBytes([0, 1, 2, 3])))),
    );
    this.vectors.set(v, vec);
    for (let l = 0; l < 4; l++) {
      // A constant start gives each lane a constant value: a register tile's lanes stay addressable one by one.
      if (loop.min.kind === 'int') {
        this.lanes[l]!.set(v, intImm(loop.min.value + group * 4 + l, v.dtype));
        continue;
      }
      const lv = primVar(`${v.name}_${l}`, v.dtype);
      const slot = f.define(lv);
      this.prologue.push(f.set(slot, this.m.i32.add(f.get(this.base), this.m.i32.const(l))));
      this.lanes[l]!.set(v, lv);
    }
  }

  emit(): Ref {
    return this.m.block(null, [...this.prologue, this.stmt(this.loop.body)]);
  }

  private depends(e: PrimExpr): boolean {
    for (const v of this.vectors.keys()) if (usesVar(e, v)) return true;
    return false;
  }

  private lane(e: PrimExpr): Lane {
    return this.f.widths.valType(e) === 'f32' ? 'f32' : 'i32';
  }

  // --- statements --------------------------------------------------------------------------

  private stmt(s: Stmt): Ref {
    const m = this.m;
    switch (s.kind) {
      case 'seq':
        return m.block(
          null,
          s.stmts.map((x) => this.stmt(x)),
        );
      case 'store':
        return this.store(s.buffer, s.indices[0]!, s.value);
      case 'let': {
        if (!this.depends(s.value)) return this.scalarLet(s);
        const value = this.vector(s.value);
        const vec = this.f.newLocal('v128');
        this.vectors.set(s.var, vec);
        const sets: Ref[] = [this.f.set(vec, value)];
        for (let l = 0; l < 4; l++) {
          const lv = primVar(`${s.var.name}_${l}`, s.var.dtype);
          const slot = this.f.define(lv);
          sets.push(this.f.set(slot, this.extract(this.f.get(vec), this.lane(s.value), l, s.value.dtype)));
          this.lanes[l]!.set(s.var, lv);
        }
        return m.block(null, [...sets, this.stmt(s.body)]);
      }
      case 'if': {
        // A load first read inside a branch is not known after it.
        const branch = (b: Stmt): Ref => this.withMask(this.mask, () => this.stmt(b), new Map(this.maskedLoads));
        if (!this.depends(s.cond)) return m.if(this.f.cond(s.cond), branch(s.then), s.else ? branch(s.else) : undefined);
        // The tests the lanes share decided once, as a scalar branch (a padded copy's row inside or not),
        // the others per lane: `if (a && b) x else y` as `if (a) { if (b) x else y } else y`.
        const tests = conjuncts(s.cond);
        const shared = tests.filter((c) => !this.depends(c));
        if (shared.length === 0) return this.laneIf(s);
        const varying = ifThenElse(
          tests.filter((c) => this.depends(c)).reduce((a, b) => and(a, b)),
          s.then,
          s.else,
        );
        return m.if(
          this.f.cond(shared.reduce((a, b) => and(a, b))),
          this.withMask(this.mask, () => this.laneIf(varying), new Map(this.maskedLoads)),
          s.else ? branch(s.else) : undefined,
        );
      }
      case 'evaluate':
        return this.f.stmt(s);
      default:
        return this.perLane(s);
    }
  }

  private scalarLet(s: Stmt & { kind: 'let' }): Ref {
    const value = this.f.expr(s.value);
    const slot = this.f.define(s.var, s.value);
    return this.m.block(null, [
      this.f.set(slot, this.f.convert(value, this.f.widths.valType(s.value), slot.type, s.value.dtype)),
      this.stmt(s.body),
    ]);
  }

  /**
   * An `if` whose condition differs by lane (a convolution's padding, the
   * tail of a tile that does not divide the extent): when every lane agrees —
   * all but the groups at an edge — the branch runs as vectors. When only some
   * do, a branch that only updates a register tile still runs as vectors under
   * the mask (each lane's memory read only where its condition holds, the
   * tile's other lanes kept); any other branch runs lane by lane. Nothing
   * reads memory speculatively, so no lane reads what its condition guards
   * against.
   */
  private laneIf(s: Stmt & { kind: 'if' }): Ref {
    const m = this.m;
    const f = this.f;
    const mask = f.newLocal('v128');
    const outer = this.mask;
    const cond = this.vector(s.cond);
    const setMask = f.set(mask, outer ? m.v128.and(cond, f.get(outer)) : cond);
    const all = this.withMask(undefined, () => this.stmt(s.then));
    const some = !s.else && this.maskable(s.then) ? this.withMask(mask, () => this.stmt(s.then)) : this.perLane(s);
    const none = s.else ? this.stmt(s.else) : undefined;
    return m.block(null, [setMask, m.if(m.i32x4.all_true(f.get(mask)), all, m.if(m.v128.any_true(f.get(mask)), some, none))]);
  }

  private withMask(mask: LocalSlot | undefined, emit: () => Ref, loads = new Map<string, LocalSlot>()): Ref {
    const saved = { mask: this.mask, loads: this.maskedLoads };
    this.mask = mask;
    this.maskedLoads = loads;
    try {
      return emit();
    } finally {
      this.mask = saved.mask;
      this.maskedLoads = saved.loads;
    }
  }

  /** Whether a branch only updates register tiles (lane-aligned groups), so it can run under a mask. */
  private maskable(s: Stmt): boolean {
    switch (s.kind) {
      case 'seq':
        return s.stmts.every((x) => this.maskable(x));
      case 'let':
        return this.maskable(s.body);
      case 'if':
        return !s.else && this.maskable(s.then);
      case 'store': {
        const home = this.f.homes.get(s.buffer);
        return home?.kind === 'registers' && this.registerGroup(home.file, s.indices[0]!) !== undefined;
      }
      default:
        return false;
    }
  }

  /** A statement run once per lane, the lane's values substituted. */
  private perLane(s: Stmt): Ref {
    return this.m.block(
      null,
      [0, 1, 2, 3].map((l) => this.f.stmt(copyWithFreshDefs(s, this.lanes[l]))),
    );
  }

  private store(b: Buffer, index: PrimExpr, value: PrimExpr): Ref {
    const m = this.m;
    const f = this.f;
    const a = this.contiguous(index);
    const home = f.homes.get(b);
    const group = home?.kind === 'registers' ? this.registerGroup(home.file, index) : undefined;
    if (group) {
      if (this.mask) return f.set(group, m.v128.bitselect(this.vector(value), f.get(group), f.get(this.mask)));
      return f.set(group, this.vector(value));
    }
    if (a && home?.kind === 'memory' && storageBytes(b.dtype) === 4 && sameLane(b.dtype, this.lane(value))) {
      const { ptr, offset } = this.address(home.base, a.rest);
      return m.v128.store(offset, 4, ptr, this.vector(value));
    }
    // Scattered: one scalar store per lane.
    const v = this.depends(value) ? this.vector(value) : undefined;
    const out: Ref[] = [];
    let tmp: LocalSlot | undefined;
    if (v !== undefined) {
      tmp = f.newLocal('v128');
      out.push(f.set(tmp, v));
    }
    for (let l = 0; l < 4; l++) {
      const lanedIndex = substitute(index, this.lanes[l]!);
      const scalar = tmp !== undefined ? this.extract(f.get(tmp), this.lane(value), l, value.dtype) : f.expr(value);
      out.push(f.storeElement(b, lanedIndex, scalar, value.dtype, f.widths.wide(value)));
    }
    return m.block(null, out);
  }

  /** Where an index moves one element per lane in memory: `rest + base`. */
  private contiguous(index: PrimExpr): { rest: PrimExpr } | undefined {
    const v = this.loop.loopVar;
    // Per-lane lets are not affine in v as far as this can see.
    for (const x of this.vectors.keys()) if (x !== v && usesVar(index, x)) return undefined;
    const a = affineIn(index, v);
    return a && a.coef === 1 ? { rest: a.rest } : undefined;
  }

  /** The v128 register of a tile this access reaches, its four lanes one group of the file (same stride, aligned). */
  private registerGroup(file: RegisterFile, index: PrimExpr): LocalSlot | undefined {
    const v = this.loop.loopVar;
    if (!file.vector || this.loop.min.kind !== 'int') return undefined;
    for (const x of this.vectors.keys()) if (x !== v && usesVar(index, x)) return undefined;
    const a = affineIn(index, v);
    if (!a || a.coef !== file.stride || a.rest.kind !== 'int') return undefined;
    return file.groupAt(a.rest.value + a.coef * (this.loop.min.value + this.group * 4));
  }

  /**
   * A load whose index moves two elements per lane (a stride-2 convolution's input): elements 0..3 and
   * 3..6 from lane 0's element, lanes 0 and 2 of the first and 1 and 3 of the second shuffled together.
   * Both loads stay within the seven elements the lanes span, so none reads past the tensor.
   */
  private everyOther(baseLocal: LocalSlot, index: PrimExpr): Ref | undefined {
    if (this.laneStride(index) !== 2) return undefined;
    const f = this.f;
    const at = f.newLocal('i32');
    const first = substitute(index, this.lanes[0]!);
    return this.m.block(
      null,
      [
        f.set(at, this.m.i32.add(f.get(baseLocal), this.m.i32.shl(f.index(first), this.m.i32.const(2)))),
        this.pairShuffle(() => f.get(at)),
      ],
      f.wasmType('v128'),
    );
  }

  /** Elements 0, 2, 4 and 6 from `ptr`: two loads (elements 0..3 and 3..6) and a shuffle. */
  private pairShuffle(ptr: () => Ref): Ref {
    const m = this.m;
    const bytes = (lane: number, from: number): number[] => [0, 1, 2, 3].map((b) => from + lane * 4 + b);
    return m.i8x16.shuffle(m.v128.load(0, 4, ptr()), m.v128.load(12, 4, ptr()), [
      ...bytes(0, 0),
      ...bytes(2, 0),
      ...bytes(1, 16),
      ...bytes(3, 16),
    ]);
  }

  /** How many elements an index moves per lane, when it is affine in the loop variable alone; else undefined. */
  private laneStride(index: PrimExpr): number | undefined {
    const v = this.loop.loopVar;
    for (const x of this.vectors.keys()) if (x !== v && usesVar(index, x)) return undefined;
    return affineIn(index, v)?.coef;
  }

  /** The address of element `rest + base` (base: the loop variable at lane 0). */
  private address(baseLocal: LocalSlot, rest: PrimExpr): { ptr: Ref; offset: number } {
    const m = this.m;
    const f = this.f;
    let constant = 0;
    let r: PrimExpr | undefined = rest;
    if (rest.kind === 'int') {
      constant = rest.value;
      r = undefined;
    } else if (rest.kind === 'binary' && rest.op === 'add' && rest.b.kind === 'int') {
      constant = rest.b.value;
      r = rest.a;
    }
    // A constant loop start folds into the offset: the groups (and the rows of a register tile) then share one
    // address expression, which binaryen's local-cse turns into one load of each operand vector.
    if (this.loop.min.kind === 'int') {
      const first = constant + this.loop.min.value + this.group * 4;
      if (first >= 0 && first * 4 < 2 ** 31) {
        const ptr = r ? m.i32.add(f.get(baseLocal), m.i32.shl(f.index(r), m.i32.const(2))) : f.get(baseLocal);
        return { ptr, offset: first * 4 };
      }
    }
    const at = r ? m.i32.add(f.index(r), f.get(this.base)) : f.get(this.base);
    const scaled = m.i32.shl(at, m.i32.const(2));
    if (constant < 0) return { ptr: m.i32.add(f.get(baseLocal), m.i32.add(scaled, m.i32.const(constant * 4))), offset: 0 };
    return { ptr: m.i32.add(f.get(baseLocal), scaled), offset: constant * 4 };
  }

  // --- expressions -------------------------------------------------------------------------

  /** `e` as a v128 of four lanes (splatted when it is the same in every lane); bools are masks (0 or -1). */
  private vector(e: PrimExpr): Ref {
    // A lane-invariant element of memory: one load32_splat (a broadcast from memory, no shuffle on the FP ports).
    if (e.kind === 'load' && !this.depends(e) && storageBytes(e.buffer.dtype) === 4 && sameLane(e.buffer.dtype, this.lane(e))) {
      const home = this.f.homes.get(e.buffer);
      if (home?.kind === 'memory') {
        const { ptr, offset } = this.f.address(e.buffer, e.indices[0]!);
        return this.m.v128.load32_splat(offset, 4, ptr);
      }
    }
    const v = this.value(e);
    if (v.kind === 'v') return v.ref;
    // An int64 that does not vary by lane may be held in an i64 (it carries data); its lanes are 32 bits wide.
    const scalar = this.f.widths.valType(e) === 'i64' ? this.m.i32.wrap(v.ref) : v.ref;
    return this.splat(scalar, this.lane(e), e.dtype);
  }

  private splat(scalar: Ref, lane: Lane, dtype: DataType): Ref {
    const m = this.m;
    if (dtype === 'bool') return m.i32x4.neg(m.i32x4.splat(scalar));
    return lane === 'f32' ? m.f32x4.splat(scalar) : m.i32x4.splat(scalar);
  }

  private extract(vec: Ref, lane: Lane, l: number, dtype: DataType): Ref {
    const m = this.m;
    if (dtype === 'bool') return m.i32.and(m.i32x4.extract_lane(vec, l), m.i32.const(1));
    return lane === 'f32' ? m.f32x4.extract_lane(vec, l) : m.i32x4.extract_lane(vec, l);
  }

  private value(e: PrimExpr): VVal {
    const f = this.f;
    const m = this.m;
    if (!this.depends(e)) return { kind: 'u', ref: f.expr(e) };
    const lane = this.lane(e);
    switch (e.kind) {
      case 'var': {
        const slot = this.vectors.get(e)!;
        return { kind: 'v', ref: f.get(slot) };
      }
      case 'load': {
        const a = this.contiguous(e.indices[0]!);
        const home = f.homes.get(e.buffer);
        const group = home?.kind === 'registers' ? this.registerGroup(home.file, e.indices[0]!) : undefined;
        if (group) return { kind: 'v', ref: f.get(group) };
        if (home?.kind === 'memory' && !this.mask && storageBytes(e.buffer.dtype) === 4 && sameLane(e.buffer.dtype, lane)) {
          if (a) {
            const { ptr, offset } = this.address(home.base, a.rest);
            return { kind: 'v', ref: m.v128.load(offset, 4, ptr) };
          }
          const pair = this.everyOther(home.base, e.indices[0]!);
          if (pair) return { kind: 'v', ref: pair };
        }
        return this.mask ? this.maskedLoad(e) : this.lanewise(e);
      }
      case 'binary':
        return this.binary(e, lane) ?? this.lanewise(e);
      case 'not':
        return { kind: 'v', ref: m.v128.not(this.vector(e.a)) };
      case 'select': {
        const t = this.vector(e.t);
        const fv = this.vector(e.f);
        if (!this.depends(e.cond)) return { kind: 'v', ref: m.select(f.cond(e.cond), t, fv) };
        return { kind: 'v', ref: m.v128.bitselect(t, fv, this.vector(e.cond)) };
      }
      case 'cast':
        return this.cast(e.value, e.dtype, lane) ?? this.lanewise(e);
      case 'call': {
        if (lane !== 'f32') return this.lanewise(e);
        const x = (): Ref => this.vector(e.args[0]!);
        switch (e.op) {
          case 'sqrt':
          case 'floor':
          case 'ceil':
          case 'trunc':
          case 'abs':
            return { kind: 'v', ref: m.f32x4[e.op](x()) };
          case 'round':
            return { kind: 'v', ref: m.f32x4.nearest(x()) };
          case 'exp':
          case 'erf':
          case 'tanh':
            return { kind: 'v', ref: m.call(f.ctx.helper(`${e.op}_f32x4`), [x()], f.wasmType('v128')) };
          case 'sigmoid': {
            // A function, not a shared node: binaryen's IR is a tree.
            const one = (): Ref => m.f32x4.splat(m.f32.const(1));
            const e = m.call(f.ctx.helper('exp_f32x4'), [m.f32x4.neg(x())], f.wasmType('v128'));
            return { kind: 'v', ref: m.f32x4.div(one(), m.f32x4.add(one(), e)) };
          }
          default:
            return this.lanewise(e);
        }
      }
      default:
        return this.lanewise(e);
    }
  }

  private binary(e: PrimExpr & { kind: 'binary' }, lane: Lane): VVal | undefined {
    const m = this.m;
    const a = (): Ref => this.vector(e.a);
    const b = (): Ref => this.vector(e.b);
    const operandLane = this.lane(e.a);
    const dt = e.a.dtype;
    const int32 = dt === 'int32' || dt === 'int64' || dt === 'uint32' || dt === 'uint64';
    switch (e.op) {
      case 'and':
        return { kind: 'v', ref: m.v128.and(a(), b()) };
      case 'or':
        return { kind: 'v', ref: m.v128.or(a(), b()) };
      case 'eq':
      case 'ne':
      case 'lt':
      case 'le':
      case 'gt':
      case 'ge': {
        if (operandLane === 'f32') return { kind: 'v', ref: m.f32x4[e.op](a(), b()) };
        if (!int32 && dt !== 'bool') return undefined;
        if (e.op === 'eq' || e.op === 'ne') return { kind: 'v', ref: m.i32x4[e.op](a(), b()) };
        const u = dt === 'uint32' ? '_u' : '_s';
        return { kind: 'v', ref: m.i32x4[`${e.op}${u}`](a(), b()) };
      }
      default:
        break;
    }
    if (lane === 'f32') {
      switch (e.op) {
        case 'add':
        case 'sub':
        case 'mul':
        case 'div':
        case 'min':
        case 'max':
          return { kind: 'v', ref: m.f32x4[e.op](a(), b()) };
        default:
          return undefined;
      }
    }
    // i32 lanes: only types that wrap at 32 bits (narrower ones wrap after each operation).
    if (!int32 || !isInt(e.dtype)) return undefined;
    switch (e.op) {
      case 'add':
      case 'sub':
      case 'mul':
        return { kind: 'v', ref: m.i32x4[e.op](a(), b()) };
      case 'bitand':
        return { kind: 'v', ref: m.v128.and(a(), b()) };
      case 'bitor':
        return { kind: 'v', ref: m.v128.or(a(), b()) };
      case 'bitxor':
        return { kind: 'v', ref: m.v128.xor(a(), b()) };
      case 'min':
      case 'max': {
        const u = e.dtype === 'uint32' ? '_u' : '_s';
        return { kind: 'v', ref: m.i32x4[`${e.op}${u}`](a(), b()) };
      }
      case 'shl':
      case 'shr':
        if (this.depends(e.b)) return undefined;
        return {
          kind: 'v',
          ref:
            e.op === 'shl'
              ? m.i32x4.shl(a(), this.f.index(e.b))
              : e.dtype === 'uint32'
                ? m.i32x4.shr_u(a(), this.f.index(e.b))
                : m.i32x4.shr_s(a(), this.f.index(e.b)),
        };
      default:
        return undefined;
    }
  }

  private cast(value: PrimExpr, to: DataType, lane: Lane): VVal | undefined {
    const m = this.m;
    const from = value.dtype;
    const fromLane = this.lane(value);
    if (to === 'float32' && fromLane === 'i32' && (from === 'int32' || from === 'int64')) {
      return { kind: 'v', ref: m.f32x4.convert_i32x4_s(this.vector(value)) };
    }
    if (to === 'float32' && from === 'bool') {
      return { kind: 'v', ref: m.f32x4.convert_i32x4_s(m.i32x4.neg(this.vector(value))) };
    }
    if ((to === 'int32' || to === 'int64') && from === 'float32') {
      return { kind: 'v', ref: m.i32x4.trunc_sat_f32x4_s(this.vector(value)) };
    }
    if ((to === 'int32' || to === 'int64') && (from === 'int32' || from === 'int64') && lane === fromLane) {
      return { kind: 'v', ref: this.vector(value) };
    }
    return undefined;
  }

  /** A load under the mask, read once per masked branch (a masked branch stores only to register tiles). */
  private maskedLoad(e: PrimExpr & { kind: 'load' }): VVal {
    const key = `${e.buffer.name}@${printPrimExpr(e)}`;
    const known = this.maskedLoads.get(key);
    if (known) return { kind: 'v', ref: this.f.get(known) };
    const slot = this.f.newLocal('v128');
    this.maskedLoads.set(key, slot);
    return { kind: 'v', ref: this.m.local.tee(slot.index, this.lanewise(e).ref, this.f.wasmType('v128')) };
  }

  /** `e` computed lane by lane with each lane's values, assembled into a v128. */
  private lanewise(e: PrimExpr): VVal {
    const m = this.m;
    const lane = this.lane(e);
    let scalars = [0, 1, 2, 3].map((l) => this.f.expr(substitute(e, this.lanes[l]!)));
    // Under a mask, a lane outside it reads no memory (its value is never kept).
    const mask = this.mask;
    if (mask && readsMemory(this.f, e)) {
      const zero = lane === 'f32' ? m.f32.const(0) : m.i32.const(0);
      scalars = scalars.map((x, l) => m.if(m.i32x4.extract_lane(this.f.get(mask), l), x, zero));
    }
    let vec = this.splat(scalars[0]!, lane, 'int32');
    for (let l = 1; l < 4; l++) {
      vec = lane === 'f32' ? m.f32x4.replace_lane(vec, l, scalars[l]!) : m.i32x4.replace_lane(vec, l, scalars[l]!);
    }
    // Bools come lane by lane as 0/1: as a mask they are 0/-1.
    return { kind: 'v', ref: e.dtype === 'bool' ? m.i32x4.neg(vec) : vec };
  }
}

function readsMemory(f: FunctionEmitter, e: PrimExpr): boolean {
  let reads = false;
  visitPrim(e, (x) => {
    if (x.kind === 'load' && f.homes.get(x.buffer)?.kind !== 'registers') reads = true;
  });
  return reads;
}

/** Whether elements of a 4-byte buffer type are what a lane of `lane` holds, bit for bit. */
function sameLane(dtype: DataType, lane: Lane): boolean {
  return lane === 'f32' ? dtype === 'float32' : dtype === 'int32' || dtype === 'uint32';
}

/** Four i32 lanes as the 16 bytes of a v128 constant. */
function laneBytes(values: readonly number[]): number[] {
  const out: number[] = [];
  for (const v of values) out.push(v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >> 24) & 255);
  return out;
}
