/**
 * One launch of a lowered PrimFunc (src/passes/tir/lower.ts) as a WebAssembly
 * function, node by node: loops, ifs, lets, stores and scalar expressions
 * here; vectorized loops in vector.ts. Buffers are addresses in the imported
 * memory: parameters and workspaces arrive as arguments, local buffers live
 * in wasm locals when every access has a constant index (a register tile
 * after unrolling), else on the thread's stack.
 */
import type binaryen from 'binaryen';
import { type DataType, isFloat, isInt } from '../../ir/dtype.ts';
import type { Binary, BufferLoad, Call, PrimExpr, PrimVar } from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import type { Allocate, For, Stmt } from '../../ir/tir/stmt.ts';
import type { ModuleContext, Ref } from './context.ts';
import { registerLayout, type RegisterFile } from './registers.ts';
import { is64BitInt, storageBytes, type ValType, WidthClasses, valTypeOf } from './types.ts';
import { emitVectorLoop } from './vector.ts';

export interface LocalSlot {
  readonly index: number;
  readonly type: ValType;
}

/** Where a buffer's elements are: an address in a local, or wasm locals (a register file). */
export type BufferHome =
  { readonly kind: 'memory'; readonly base: LocalSlot } | { readonly kind: 'registers'; readonly file: RegisterFile };

export const STACK_POINTER = '__sp';
export const STACK_LIMIT = '__sp_limit';

export class FunctionEmitter {
  readonly widths = new WidthClasses();
  readonly vars = new Map<PrimVar, LocalSlot>();
  readonly homes = new Map<Buffer, BufferHome>();
  private readonly localTypes: ValType[] = [];
  private labels = 0;

  constructor(
    readonly ctx: ModuleContext,
    readonly kernel: string,
    /** Types of the function's parameters. */
    readonly paramTypes: readonly ValType[],
  ) {}

  get m(): binaryen.Module {
    return this.ctx.m;
  }

  get B(): ModuleContext['B'] {
    return this.ctx.B;
  }

  unsupported(what: string): never {
    return this.ctx.unsupported(this.kernel, what);
  }

  // --- locals ------------------------------------------------------------------------------

  newLocal(type: ValType | 'v128'): LocalSlot {
    const index = this.paramTypes.length + this.localTypes.length;
    this.localTypes.push(type as ValType);
    return { index, type: type as ValType };
  }

  /** The wasm types of the locals beyond the parameters. */
  localTypeList(): number[] {
    return this.localTypes.map((t) => this.wasmType(t));
  }

  wasmType(t: ValType | 'v128'): number {
    return this.B[t];
  }

  get(slot: LocalSlot): Ref {
    return this.m.local.get(slot.index, this.wasmType(slot.type));
  }

  set(slot: LocalSlot, value: Ref): Ref {
    return this.m.local.set(slot.index, value);
  }

  label(hint: string): string {
    return `${hint}${this.labels++}`;
  }

  /** A variable defined by a loop or let gets a local of its value type. */
  define(v: PrimVar, value?: PrimExpr): LocalSlot {
    if (value) this.widths.defineVar(v, value);
    const slot = this.newLocal(valTypeOf(v.dtype, value ? this.widths.wide(value) : false));
    this.vars.set(v, slot);
    return slot;
  }

  // --- statements --------------------------------------------------------------------------

  stmt(s: Stmt): Ref {
    const m = this.m;
    switch (s.kind) {
      case 'for':
        if (s.forKind === 'vectorized') {
          const v = emitVectorLoop(this, s);
          if (v !== undefined) return v;
        }
        return this.loop(s);
      case 'store':
        return this.storeElement(s.buffer, s.indices[0]!, this.expr(s.value), s.value.dtype, this.widths.wide(s.value));
      case 'allocate':
        return this.allocate(s);
      case 'if':
        return m.if(this.cond(s.cond), this.stmt(s.then), s.else ? this.stmt(s.else) : undefined);
      case 'let': {
        const value = this.expr(s.value);
        const slot = this.define(s.var, s.value);
        return m.block(null, [
          this.set(slot, this.convert(value, this.widths.valType(s.value), slot.type, s.value.dtype)),
          this.stmt(s.body),
        ]);
      }
      case 'seq':
        return m.block(
          null,
          s.stmts.map((x) => this.stmt(x)),
        );
      case 'evaluate': {
        const e = s.value;
        if (e.kind === 'call' && (e.op === 'workgroup_barrier' || e.op === 'storage_barrier')) {
          return this.unsupported(`${e.op} (a barrier between GPU threads)`);
        }
        return m.drop(this.expr(e));
      }
      case 'block_realize':
        throw new Error(`internal error: block '${s.block.name}' reached the WebAssembly emitter unlowered`);
    }
  }

  /**
   * `for v in [min, min + extent)`, bounds evaluated once, as TensorIR defines
   * them; `range` replaces them (a parallel launch's part).
   */
  loop(s: For, range?: { start: Ref; end: Ref }): Ref {
    const m = this.m;
    const v = this.define(s.loopVar);
    const end = this.newLocal('i32');
    const t = v.type;
    if (t !== 'i32') return this.unsupported(`loop '${s.loopVar.name}' over a ${t} range`);
    const min = this.index(s.min);
    const init = range
      ? [this.set(v, m.i32.add(min, range.start)), this.set(end, m.i32.add(this.index(s.min), range.end))]
      : [this.set(v, min), this.set(end, m.i32.add(this.get(v), this.index(s.extent)))];
    const brk = this.label('break');
    const cont = this.label('loop');
    return m.block(brk, [
      ...init,
      m.br(brk, m.i32.ge_s(this.get(v), this.get(end))),
      m.loop(
        cont,
        m.block(null, [
          this.stmt(s.body),
          this.set(v, m.i32.add(this.get(v), m.i32.const(1))),
          m.br(cont, m.i32.lt_s(this.get(v), this.get(end))),
        ]),
      ),
    ]);
  }

  private allocate(s: Allocate): Ref {
    const b = s.buffer;
    const file = registerLayout(this, b, s.body);
    if (file) {
      this.homes.set(b, { kind: 'registers', file });
      const body = this.stmt(s.body);
      this.homes.delete(b);
      return body;
    }
    // On the thread's stack: move the stack pointer down by the size (16-byte aligned), trap past the limit.
    const m = this.m;
    // Constant dimensions fold into one number; symbolic ones multiply at run time.
    let constBytes = storageBytes(b.dtype);
    let runtimeBytes: Ref | undefined;
    for (const d of b.shape) {
      if (d.kind === 'int') constBytes *= d.value;
      else runtimeBytes = runtimeBytes === undefined ? this.index(d) : m.i32.mul(runtimeBytes, this.index(d));
    }
    const size = this.newLocal('i32');
    const base = this.newLocal('i32');
    const sizeRef = runtimeBytes === undefined ? m.i32.const(constBytes) : m.i32.mul(runtimeBytes, m.i32.const(constBytes));
    const sp = (): Ref => m.global.get(STACK_POINTER, this.B.i32);
    this.homes.set(b, { kind: 'memory', base });
    const body = this.stmt(s.body);
    this.homes.delete(b);
    return m.block(null, [
      this.set(size, m.i32.and(m.i32.add(sizeRef, m.i32.const(15)), m.i32.const(~15))),
      m.if(
        m.i32.lt_u(m.i32.sub(sp(), m.i32.const(0)), m.i32.add(m.global.get(STACK_LIMIT, this.B.i32), this.get(size))),
        m.unreachable(),
      ),
      this.set(base, m.i32.sub(sp(), this.get(size))),
      m.global.set(STACK_POINTER, this.get(base)),
      body,
      m.global.set(STACK_POINTER, m.i32.add(this.get(base), this.get(size))),
    ]);
  }

  // --- memory ------------------------------------------------------------------------------

  /** The address of element `index` of `b` in memory, with a constant part as the instruction's offset. */
  address(b: Buffer, index: PrimExpr): { ptr: Ref; offset: number } {
    const home = this.homes.get(b);
    if (!home || home.kind !== 'memory') {
      return this.unsupported(`buffer '${b.name}' is accessed outside the statement that allocates it`);
    }
    const size = storageBytes(b.dtype);
    let rest: PrimExpr | undefined = index;
    let constant = 0;
    if (index.kind === 'int') {
      constant = index.value;
      rest = undefined;
    } else if (index.kind === 'binary' && index.op === 'add' && index.b.kind === 'int' && index.b.value >= 0) {
      constant = index.b.value;
      rest = index.a;
    }
    const base = this.get(home.base);
    if (constant < 0 || constant * size >= 2 ** 31) return { ptr: this.m.i32.add(base, this.scaled(index, size)), offset: 0 };
    return { ptr: rest ? this.m.i32.add(base, this.scaled(rest, size)) : base, offset: constant * size };
  }

  private scaled(index: PrimExpr, size: number): Ref {
    const i = this.index(index);
    return size === 1 ? i : this.m.i32.shl(i, this.m.i32.const(Math.log2(size)));
  }

  /** Loads an element of `b` as a value of the load's value type. */
  loadElement(load: BufferLoad): Ref {
    const b = load.buffer;
    const home = this.homes.get(b);
    if (home?.kind === 'registers') return home.file.read(load.indices[0]!);
    const { ptr, offset } = this.address(b, load.indices[0]!);
    return this.loadFrom(b.dtype, ptr, offset);
  }

  loadFrom(dtype: DataType, ptr: Ref, offset: number): Ref {
    const m = this.m;
    switch (dtype) {
      case 'bool':
      case 'uint8':
        return m.i32.load8_u(offset, 1, ptr);
      case 'int8':
        return m.i32.load8_s(offset, 1, ptr);
      case 'int16':
        return m.i32.load16_s(offset, 2, ptr);
      case 'uint16':
        return m.i32.load16_u(offset, 2, ptr);
      case 'int32':
      case 'uint32':
        return m.i32.load(offset, 4, ptr);
      case 'int64':
      case 'uint64':
        return m.i64.load(offset, 8, ptr);
      case 'float16':
        return m.call(this.ctx.helper('f16_to_f32'), [m.i32.load16_u(offset, 2, ptr)], this.B.f32);
      case 'bfloat16':
        return m.f32.reinterpret(m.i32.shl(m.i32.load16_u(offset, 2, ptr), m.i32.const(16)));
      case 'float32':
        return m.f32.load(offset, 4, ptr);
      case 'float64':
        return m.f64.load(offset, 8, ptr);
    }
  }

  /** Stores `value` (of `valueDtype`'s value type, computed by this emitter) into element `index` of `b`. */
  storeElement(b: Buffer, index: PrimExpr, value: Ref, valueDtype: DataType, valueWide = false): Ref {
    const home = this.homes.get(b);
    const from = valTypeOf(valueDtype, valueWide);
    if (home?.kind === 'registers') return home.file.write(index, this.convert(value, from, home.file.valType, valueDtype));
    const { ptr, offset } = this.address(b, index);
    return this.storeTo(b.dtype, ptr, offset, value, from);
  }

  storeTo(dtype: DataType, ptr: Ref, offset: number, value: Ref, from: ValType): Ref {
    const m = this.m;
    switch (dtype) {
      case 'bool':
      case 'int8':
      case 'uint8':
        return m.i32.store8(offset, 1, ptr, value);
      case 'int16':
      case 'uint16':
        return m.i32.store16(offset, 2, ptr, value);
      case 'int32':
      case 'uint32':
        return m.i32.store(offset, 4, ptr, value);
      case 'int64':
        return m.i64.store(offset, 8, ptr, from === 'i64' ? value : m.i64.extend_s(value));
      case 'uint64':
        return m.i64.store(offset, 8, ptr, from === 'i64' ? value : m.i64.extend_u(value));
      case 'float16':
        return m.i32.store16(offset, 2, ptr, m.call(this.ctx.helper('f32_to_f16'), [value], this.B.i32));
      case 'bfloat16':
        return m.i32.store16(offset, 2, ptr, m.call(this.ctx.helper('f32_to_bf16'), [value], this.B.i32));
      case 'float32':
        return m.f32.store(offset, 4, ptr, value);
      case 'float64':
        return m.f64.store(offset, 8, ptr, value);
    }
  }

  // --- expressions -------------------------------------------------------------------------

  /** An integer expression as an i32 (indices, extents). */
  index(e: PrimExpr): Ref {
    if (!isInt(e.dtype)) return this.unsupported(`index or extent of type ${e.dtype}`);
    const t = this.widths.valType(e);
    const r = this.expr(e);
    return t === 'i64' ? this.m.i32.wrap(r) : r;
  }

  /** A bool expression as an i32 0 or 1. */
  cond(e: PrimExpr): Ref {
    return this.expr(e);
  }

  expr(e: PrimExpr): Ref {
    const m = this.m;
    const t = this.widths.valType(e);
    switch (e.kind) {
      case 'int':
        return t === 'i64' ? i64Const(m, e.value) : m.i32.const(e.value | 0);
      case 'float':
        return t === 'f64' ? m.f64.const(e.value) : m.f32.const(e.value);
      case 'bool':
        return m.i32.const(e.value ? 1 : 0);
      case 'var': {
        const slot = this.vars.get(e);
        if (!slot) {
          return this.unsupported(
            `symbolic variable '${e.name}' is used where it has no value (it is not a parameter, a dimension of a parameter, a loop or a let)`,
          );
        }
        return this.convert(this.get(slot), slot.type, t, e.dtype);
      }
      case 'binary':
        return this.binary(e, t);
      case 'not':
        return m.i32.eqz(this.expr(e.a));
      case 'select':
        return m.select(this.cond(e.cond), this.operand(e.t, t), this.operand(e.f, t));
      case 'cast':
        return this.cast(e.value, e.dtype, t);
      case 'call':
        return this.call(e, t);
      case 'load': {
        const r = this.loadElement(e);
        return e.buffer.dtype !== 'bool' ? r : m.i32.ne(r, m.i32.const(0));
      }
    }
  }

  /** `e` as a value of type `t` (an i32-class int64 operand of an i64 operation widens). */
  operand(e: PrimExpr, t: ValType): Ref {
    return this.convert(this.expr(e), this.widths.valType(e), t, e.dtype);
  }

  /** Between the two value types of one dtype (int64 in i32 or i64); `dtype` says how to extend. */
  convert(r: Ref, from: ValType, to: ValType, dtype: DataType): Ref {
    if (from === to) return r;
    const m = this.m;
    if (from === 'i32' && to === 'i64') return dtype === 'uint64' || dtype === 'uint32' ? m.i64.extend_u(r) : m.i64.extend_s(r);
    if (from === 'i64' && to === 'i32') return m.i32.wrap(r);
    if (from === 'f32' && to === 'f64') return m.f64.promote(r);
    if (from === 'f64' && to === 'f32') return m.f32.demote(r);
    throw new Error(`internal error: no conversion from ${from} to ${to} for ${dtype}`);
  }

  private binary(e: Binary, t: ValType): Ref {
    const m = this.m;
    const at = this.operandType(e);
    const a = (): Ref => this.operand(e.a, at);
    const b = (): Ref => this.operand(e.b, at);
    const dt = e.a.dtype;
    switch (e.op) {
      case 'and':
        return m.i32.and(a(), b());
      case 'or':
        return m.i32.or(a(), b());
      case 'eq':
      case 'ne':
      case 'lt':
      case 'le':
      case 'gt':
      case 'ge':
        return this.compare(e.op, at, dt, a(), b());
      default:
        break;
    }
    if (t === 'f32' || t === 'f64') return this.floatBinary(e, t, a(), b());
    if (t === 'i32') return wrapSmall(m, e.dtype, this.intBinary(e, 'i32', a, b));
    return this.intBinary(e, 'i64', a, b);
  }

  /** The type both operands compute in: the wider of theirs (int64 in i64 if either is). */
  private operandType(e: Binary): ValType {
    const ta = this.widths.valType(e.a);
    const tb = this.widths.valType(e.b);
    return ta === 'i64' || tb === 'i64' ? 'i64' : ta;
  }

  private compare(op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', t: ValType, dtype: DataType, a: Ref, b: Ref): Ref {
    const m = this.m;
    if (t === 'f32' || t === 'f64') return m[t][op](a, b);
    const ops = m[t];
    if (op === 'eq' || op === 'ne') return ops[op](a, b);
    const u = dtype === 'uint32' || dtype === 'uint64' ? '_u' : '_s';
    return ops[`${op}${u}`](a, b);
  }

  private floatBinary(e: Binary, t: 'f32' | 'f64', a: Ref, b: Ref): Ref {
    const m = this.m;
    const f = m[t];
    switch (e.op) {
      case 'add':
      case 'sub':
      case 'mul':
      case 'div':
      case 'min':
      case 'max':
        return f[e.op](a, b);
      case 'floordiv':
        return f.floor(f.div(a, b));
      case 'truncdiv':
        return f.trunc(f.div(a, b));
      case 'floormod': {
        // a - floor(a / b) * b, each operand evaluated once.
        const x = this.newLocal(t);
        const y = this.newLocal(t);
        return m.block(
          null,
          [this.set(x, a), this.set(y, b), f.sub(this.get(x), f.mul(f.floor(f.div(this.get(x), this.get(y))), this.get(y)))],
          this.B[t],
        );
      }
      case 'truncmod':
        return this.viaF64('fmod', t, [a, b]);
      default:
        return this.unsupported(`operator ${e.op} on ${e.dtype}`);
    }
  }

  /** Integer arithmetic in i32 or i64, as the JavaScript kernels compute it (division by zero is 0). */
  private intBinary(e: Binary, t: 'i32' | 'i64', a: () => Ref, b: () => Ref): Ref {
    const m = this.m;
    const ops = m[t];
    const unsigned = e.dtype === 'uint32' || e.dtype === 'uint64';
    switch (e.op) {
      case 'add':
      case 'sub':
      case 'mul':
        return ops[e.op](a(), b());
      case 'min':
      case 'max': {
        const x = this.newLocal(t);
        const y = this.newLocal(t);
        const cmp = e.op === 'min' ? (unsigned ? 'lt_u' : 'lt_s') : unsigned ? 'gt_u' : 'gt_s';
        const pick = (p: Ref, q: Ref): Ref => ops[cmp](p, q);
        return m.block(
          null,
          [this.set(x, a()), this.set(y, b()), m.select(pick(this.get(x), this.get(y)), this.get(x), this.get(y))],
          this.B[t],
        );
      }
      case 'bitand':
        return ops.and(a(), b());
      case 'bitor':
        return ops.or(a(), b());
      case 'bitxor':
        return ops.xor(a(), b());
      case 'shl':
        return ops.shl(a(), b());
      case 'shr':
        return unsigned ? ops.shr_u(a(), b()) : ops.shr_s(a(), b());
      case 'floordiv':
      case 'floormod':
      case 'truncdiv':
      case 'truncmod':
        return this.division(e, t, unsigned, a, b);
      default:
        return this.unsupported(`operator ${e.op} on ${e.dtype}`);
    }
  }

  private division(e: Binary, t: 'i32' | 'i64', unsigned: boolean, a: () => Ref, b: () => Ref): Ref {
    const m = this.m;
    const ops = m[t];
    const c = (x: number): Ref => (t === 'i32' ? m.i32.const(x) : i64Const(m, x));
    const divisor = e.b.kind === 'int' ? e.b.value : undefined;
    const floor = e.op === 'floordiv' || e.op === 'floormod';
    const mod = e.op === 'floormod' || e.op === 'truncmod';
    // A positive power of two: a shift or a mask (floor semantics for free).
    if (divisor !== undefined && divisor > 0 && Number.isInteger(Math.log2(divisor)) && (floor || unsigned)) {
      return mod
        ? ops.and(a(), c(divisor - 1))
        : unsigned
          ? ops.shr_u(a(), c(Math.log2(divisor)))
          : ops.shr_s(a(), c(Math.log2(divisor)));
    }
    const x = this.newLocal(t);
    const y = this.newLocal(t);
    const X = (): Ref => this.get(x);
    const Y = (): Ref => this.get(y);
    let q: Ref;
    if (unsigned) q = mod ? ops.rem_u(X(), Y()) : ops.div_u(X(), Y());
    else if (!floor) q = mod ? ops.rem_s(X(), Y()) : ops.div_s(X(), Y());
    else {
      // Truncated, then corrected when the remainder is nonzero with a sign other than the divisor's.
      const r = this.newLocal(t);
      const adjust = m.i32.and(ops.ne(this.get(r), c(0)), ops.lt_s(ops.xor(this.get(r), Y()), c(0)));
      q = m.block(
        null,
        [
          this.set(r, ops.rem_s(X(), Y())),
          mod
            ? ops.add(this.get(r), m.select(adjust, Y(), c(0)))
            : ops.sub(ops.div_s(X(), Y()), t === 'i32' ? adjust : m.i64.extend_u(adjust)),
        ],
        this.B[t],
      );
    }
    // Division by zero gives 0 (as the JavaScript kernels); by -1 cannot trap on the minimum either.
    const safe = divisor !== undefined && divisor !== 0 && (divisor !== -1 || unsigned);
    const guarded = safe
      ? q
      : m.if(ops.eqz(Y()), c(0), unsigned ? q : m.if(ops.eq(Y(), c(-1)), mod ? c(0) : ops.sub(c(0), X()), q));
    return m.block(null, [this.set(x, a()), this.set(y, b()), guarded], this.B[t]);
  }

  private cast(value: PrimExpr, to: DataType, t: ValType): Ref {
    const m = this.m;
    const from = value.dtype;
    const ft = this.widths.valType(value);
    const v = this.expr(value);
    if (from === to) return this.convert(v, ft, t, to);
    if (to === 'bool') {
      if (ft === 'f32' || ft === 'f64') return m[ft].ne(v, m[ft].const(0));
      return ft === 'i64' ? m.i32.eqz(m.i64.eqz(v)) : m.i32.ne(v, m.i32.const(0));
    }
    if (isFloat(to)) {
      let f: Ref;
      if (ft === 'f32' || ft === 'f64') f = this.convert(v, ft, t, to);
      else {
        const u = from === 'uint32' || from === 'uint64' || from === 'bool';
        const src = ft;
        f =
          t === 'f64'
            ? u
              ? m.f64.convert_u[src](v)
              : m.f64.convert_s[src](v)
            : u
              ? m.f32.convert_u[src](v)
              : m.f32.convert_s[src](v);
      }
      // Half floats compute in f32, rounded to their precision where a value is cast.
      if (to === 'float16')
        return m.call(this.ctx.helper('f16_to_f32'), [m.call(this.ctx.helper('f32_to_f16'), [f], this.B.i32)], this.B.f32);
      if (to === 'bfloat16')
        return m.f32.reinterpret(m.i32.shl(m.call(this.ctx.helper('f32_to_bf16'), [f], this.B.i32), m.i32.const(16)));
      return f;
    }
    // To an integer: floats truncate toward zero (saturating), integers wrap to the narrower type.
    if (ft === 'f32' || ft === 'f64') {
      const u = to === 'uint32' || to === 'uint64';
      const i =
        t === 'i64'
          ? u
            ? m.i64.trunc_u_sat[ft](v)
            : m.i64.trunc_s_sat[ft](v)
          : u
            ? m.i32.trunc_u_sat[ft](v)
            : m.i32.trunc_s_sat[ft](v);
      return t === 'i32' ? wrapSmall(m, to, i) : i;
    }
    const i = this.convert(v, ft, t, from);
    return t === 'i32' ? wrapSmall(m, to, i) : i;
  }

  private call(e: Call, t: ValType): Ref {
    const m = this.m;
    const x = (): Ref => this.operand(e.args[0]!, t);
    const isF = t === 'f32' || t === 'f64';
    switch (e.op) {
      case 'sqrt':
      case 'floor':
      case 'ceil':
      case 'trunc':
        return m[t as 'f32'][e.op](x());
      case 'round':
        return m[t as 'f32'].nearest(x());
      case 'abs':
        if (isF) return m[t as 'f32'].abs(x());
        return this.intAbs(t, x(), e.dtype);
      case 'rsqrt':
        return m[t as 'f32'].div(m[t as 'f32'].const(1), m[t as 'f32'].sqrt(x()));
      case 'sigmoid': {
        const f = m[t as 'f32'];
        return f.div(f.const(1), f.add(f.const(1), this.viaF64('exp', t, [f.neg(x())])));
      }
      case 'sign':
        return this.sign(t, x(), e.dtype);
      case 'isnan': {
        const s = this.newLocal(this.widths.valType(e.args[0]!));
        const ft = s.type as 'f32';
        return m.block(null, [this.set(s, this.expr(e.args[0]!)), m[ft].ne(this.get(s), this.get(s))], this.B.i32);
      }
      case 'isinf':
      case 'isfinite': {
        const ft = this.widths.valType(e.args[0]!) as 'f32';
        const abs = m[ft].abs(this.expr(e.args[0]!));
        return e.op === 'isinf' ? m[ft].eq(abs, m[ft].const(Infinity)) : m[ft].lt(abs, m[ft].const(Infinity));
      }
      case 'exp':
      case 'exp2':
      case 'expm1':
      case 'log':
      case 'log2':
      case 'log10':
      case 'log1p':
      case 'sin':
      case 'cos':
      case 'tan':
      case 'asin':
      case 'acos':
      case 'atan':
      case 'sinh':
      case 'cosh':
      case 'tanh':
      case 'asinh':
      case 'acosh':
      case 'atanh':
      case 'erf':
        return this.viaF64(e.op, t, [x()]);
      case 'pow':
      case 'atan2':
      case 'fmod':
        return this.viaF64(e.op, t, [x(), this.operand(e.args[1]!, t)]);
      case 'workgroup_barrier':
      case 'storage_barrier':
        return this.unsupported(`${e.op} (a barrier between GPU threads)`);
      case 'block_idx_x':
      case 'block_idx_y':
      case 'block_idx_z':
      case 'thread_idx_x':
      case 'thread_idx_y':
      case 'thread_idx_z':
        return this.unsupported(`${e.op} (the index of a GPU thread)`);
    }
  }

  /** A host Math function, computed in f64 as the JavaScript kernels compute it. */
  private viaF64(name: Parameters<ModuleContext['helper']>[0], t: ValType, args: Ref[]): Ref {
    const m = this.m;
    const wide = args.map((a) => (t === 'f32' ? m.f64.promote(a) : a));
    const r = m.call(this.ctx.helper(name), wide, this.B.f64);
    return t === 'f32' ? m.f32.demote(r) : r;
  }

  private intAbs(t: 'i32' | 'i64', v: Ref, dtype: DataType): Ref {
    if (dtype === 'uint32' || dtype === 'uint64' || dtype === 'uint8' || dtype === 'uint16') return v;
    const m = this.m;
    const s = this.newLocal(t);
    const zero = t === 'i32' ? m.i32.const(0) : i64Const(m, 0);
    const ops = m[t];
    const abs = m.select(ops.lt_s(this.get(s), zero), ops.sub(zero, this.get(s)), this.get(s));
    return m.block(null, [this.set(s, v), t === 'i32' ? wrapSmall(m, dtype, abs) : abs], this.B[t]);
  }

  private sign(t: ValType, v: Ref, dtype: DataType): Ref {
    const m = this.m;
    const s = this.newLocal(t);
    const X = (): Ref => this.get(s);
    if (t === 'f32' || t === 'f64') {
      const f = m[t];
      // ±1, and the value itself for ±0 and NaN (as Math.sign).
      return m.block(
        null,
        [this.set(s, v), m.select(f.gt(X(), f.const(0)), f.const(1), m.select(f.lt(X(), f.const(0)), f.const(-1), X()))],
        this.B[t],
      );
    }
    const ops = m[t as 'i32'];
    const c = (x: number): Ref => (t === 'i32' ? m.i32.const(x) : i64Const(m, x));
    const unsigned = dtype.startsWith('uint');
    const gt = (p: Ref, q: Ref): Ref => (unsigned ? ops.gt_u(p, q) : ops.gt_s(p, q));
    return m.block(
      null,
      [this.set(s, v), m.select(gt(X(), c(0)), c(1), unsigned ? c(0) : m.select(ops.lt_s(X(), c(0)), c(-1), c(0)))],
      this.B[t],
    );
  }
}

/** Wraps an i32 result to an 8- or 16-bit type, as the JavaScript kernels do after each operation. */
export function wrapSmall(m: binaryen.Module, t: DataType, r: Ref): Ref {
  switch (t) {
    case 'int8':
      return m.i32.extend8_s(r);
    case 'int16':
      return m.i32.extend16_s(r);
    case 'uint8':
      return m.i32.and(r, m.i32.const(255));
    case 'uint16':
      return m.i32.and(r, m.i32.const(65535));
    default:
      return r;
  }
}

/** An i64 constant (binaryen takes it as a bigint). */
export function i64Const(m: binaryen.Module, v: number): Ref {
  return m.i64.const(BigInt.asIntN(64, BigInt(Math.trunc(v))));
}

export { is64BitInt };
