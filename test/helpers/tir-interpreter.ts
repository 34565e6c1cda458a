/**
 * A reference interpreter for PrimFuncs, for numerical tests of the
 * tensor-expression DSL and of passes: it runs every loop in order (thread
 * loops too, so kernels that rely on barriers between threads are out of its
 * reach), executes a block's `init` on the first iteration of its reduce
 * iterators (all of them at their domain's minimum), and checks every
 * buffer access against the buffer's bounds. Lowered functions (one flat
 * index per access) run too.
 *
 * Values are JS numbers: floats in float64 (float32 stores and casts round
 * with Math.fround), integers exact up to 2^53, bools as 0/1.
 */
import { isInt } from '../../src/ir/dtype.ts';
import type { BinaryOp, PrimExpr, PrimVar } from '../../src/ir/prim/expr.ts';
import type { Buffer } from '../../src/ir/tir/buffer.ts';
import type { PrimFunc, Stmt } from '../../src/ir/tir/stmt.ts';

export type BufferData = Float64Array;

/** One argument per parameter: a flat row-major array for a buffer, a number for a scalar. */
export type PrimArg = BufferData | number;

export interface RunOptions {
  /** Values of the symbolic variables in buffer shapes that no scalar parameter gives, by name. */
  readonly sizes?: Readonly<Record<string, number>>;
}

class Interpreter {
  private readonly vars: Map<PrimVar, number>;
  private readonly buffers = new Map<Buffer, BufferData>();
  /** A lowered function indexes every buffer with one flat element offset. */
  private flat = false;

  constructor(
    private readonly sizes: Readonly<Record<string, number>>,
    vars: ReadonlyMap<PrimVar, number> = new Map(),
  ) {
    this.vars = new Map(vars);
  }

  run(f: PrimFunc, args: readonly PrimArg[]): void {
    if (args.length !== f.params.length) throw new Error(`${f.params.length} parameters, ${args.length} arguments`);
    this.flat = f.attrs.lowered === true;
    f.params.forEach((p, i) => {
      const a = args[i]!;
      if (p.kind === 'var') {
        if (typeof a !== 'number') throw new Error(`parameter ${p.name} is a scalar`);
        this.vars.set(p, a);
      }
    });
    f.params.forEach((p, i) => {
      if (p.kind !== 'buffer') return;
      const a = args[i]!;
      if (typeof a === 'number') throw new Error(`parameter ${p.name} is a buffer`);
      for (const d of p.shape) if (d.kind === 'var' && !this.vars.has(d)) this.vars.set(d, this.size(d));
      const want = this.elements(p);
      if (a.length !== want) throw new Error(`buffer ${p.name} needs ${want} elements, got ${a.length}`);
      this.buffers.set(p, a);
    });
    this.stmt(f.body);
  }

  private size(v: PrimVar): number {
    const s = this.sizes[v.name];
    if (s === undefined) throw new Error(`no size given for '${v.name}'`);
    return s;
  }

  private elements(b: Buffer): number {
    return b.shape.reduce((acc, d) => acc * this.expr(d), 1);
  }

  private offset(b: Buffer, indices: readonly PrimExpr[]): number {
    if (this.flat) {
      const at = this.expr(indices[0]!);
      const n = this.elements(b);
      if (!(at >= 0 && at < n)) throw new Error(`${b.name}[${at}] (flat) is out of bounds of ${n} elements`);
      return at;
    }
    const shape = b.shape.map((d) => this.expr(d));
    const idx = indices.map((i) => this.expr(i));
    idx.forEach((x, d) => {
      if (!(x >= 0 && x < shape[d]!)) throw new Error(`${b.name}[${idx.join(', ')}] is out of bounds of [${shape.join(', ')}]`);
    });
    if (b.strides.length > 0) return idx.reduce((acc, x, d) => acc + x * this.expr(b.strides[d]!), 0);
    return idx.reduce((acc, x, d) => acc * shape[d]! + x, 0);
  }

  private data(b: Buffer): BufferData {
    const d = this.buffers.get(b);
    if (!d) throw new Error(`buffer ${b.name} is not allocated`);
    return d;
  }

  private withVar(v: PrimVar, value: number, body: () => void): void {
    const prev = this.vars.get(v);
    this.vars.set(v, value);
    body();
    if (prev === undefined) this.vars.delete(v);
    else this.vars.set(v, prev);
  }

  private stmt(s: Stmt): void {
    switch (s.kind) {
      case 'for': {
        const lo = this.expr(s.min);
        const hi = lo + this.expr(s.extent);
        for (let i = lo; i < hi; i++) this.withVar(s.loopVar, i, () => this.stmt(s.body));
        return;
      }
      case 'block_realize': {
        const b = s.block;
        const values = s.iterValues.map((v) => this.expr(v));
        if (!this.expr(s.predicate)) return;
        const doms = b.iterVars.map((iv) => this.expr(iv.dom.min));
        const saved = b.iterVars.map((iv) => this.vars.get(iv.var));
        b.iterVars.forEach((iv, i) => this.vars.set(iv.var, values[i]!));
        const first = b.iterVars.every((iv, i) => iv.iterKind !== 'reduce' || values[i] === doms[i]);
        if (b.init && first) this.stmt(b.init);
        this.stmt(b.body);
        b.iterVars.forEach((iv, i) => (saved[i] === undefined ? this.vars.delete(iv.var) : this.vars.set(iv.var, saved[i])));
        return;
      }
      case 'store': {
        const value = this.expr(s.value);
        this.data(s.buffer)[this.offset(s.buffer, s.indices)] = convert(value, s.buffer.dtype);
        return;
      }
      case 'allocate':
        this.buffers.set(s.buffer, new Float64Array(this.elements(s.buffer)).fill(Number.NaN));
        this.stmt(s.body);
        this.buffers.delete(s.buffer);
        return;
      case 'if':
        if (this.expr(s.cond)) this.stmt(s.then);
        else if (s.else) this.stmt(s.else);
        return;
      case 'let':
        this.withVar(s.var, this.expr(s.value), () => this.stmt(s.body));
        return;
      case 'seq':
        for (const x of s.stmts) this.stmt(x);
        return;
      case 'evaluate':
        this.expr(s.value);
        return;
    }
  }

  expr(e: PrimExpr): number {
    switch (e.kind) {
      case 'int':
      case 'float':
        return e.value;
      case 'bool':
        return e.value ? 1 : 0;
      case 'var': {
        const v = this.vars.get(e);
        if (v === undefined) throw new Error(`variable '${e.name}' has no value here`);
        return v;
      }
      case 'binary':
        return binary(e.op, this.expr(e.a), this.expr(e.b));
      case 'not':
        return this.expr(e.a) ? 0 : 1;
      case 'select':
        return this.expr(e.cond) ? this.expr(e.t) : this.expr(e.f);
      case 'cast':
        return convert(this.expr(e.value), e.dtype);
      case 'call':
        return intrinsic(
          e.op,
          e.args.map((a) => this.expr(a)),
        );
      case 'load':
        return this.data(e.buffer)[this.offset(e.buffer, e.indices)]!;
    }
  }
}

/** A number as a value of `dtype`: rounded for float32, truncated for integers, 0/1 for bool. */
function convert(x: number, dtype: PrimExpr['dtype']): number {
  if (dtype === 'bool') return x ? 1 : 0;
  if (dtype === 'float32') return Math.fround(x);
  if (isInt(dtype)) return Number.isFinite(x) ? Math.trunc(x) : x;
  return x;
}

function binary(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'add':
      return a + b;
    case 'sub':
      return a - b;
    case 'mul':
      return a * b;
    case 'div':
      return a / b;
    case 'floordiv':
      return Math.floor(a / b);
    case 'floormod':
      return a - Math.floor(a / b) * b;
    case 'truncdiv':
      return Math.trunc(a / b);
    case 'truncmod':
      return a % b;
    case 'min':
      return Math.min(a, b);
    case 'max':
      return Math.max(a, b);
    case 'eq':
      return a === b ? 1 : 0;
    case 'ne':
      return a !== b ? 1 : 0;
    case 'lt':
      return a < b ? 1 : 0;
    case 'le':
      return a <= b ? 1 : 0;
    case 'gt':
      return a > b ? 1 : 0;
    case 'ge':
      return a >= b ? 1 : 0;
    case 'and':
      return a && b ? 1 : 0;
    case 'or':
      return a || b ? 1 : 0;
    case 'bitand':
      return Number(BigInt(a) & BigInt(b));
    case 'bitor':
      return Number(BigInt(a) | BigInt(b));
    case 'bitxor':
      return Number(BigInt(a) ^ BigInt(b));
    case 'shl':
      return a * 2 ** b;
    case 'shr':
      return Math.floor(a / 2 ** b);
  }
}

/** erf to about 1e-15: its Taylor series near 0, a continued fraction of erfc further out. */
export function erf(x: number): number {
  const t = Math.abs(x);
  if (t < 2.5) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 60; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let cf = 0;
  for (let n = 60; n >= 1; n--) cf = n / 2 / (t + cf);
  return Math.sign(x) * (1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + cf));
}

const INTRINSICS: Record<string, (...xs: number[]) => number> = {
  exp: Math.exp,
  exp2: (x) => 2 ** x,
  log: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  log1p: Math.log1p,
  expm1: Math.expm1,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  asinh: Math.asinh,
  acosh: Math.acosh,
  atanh: Math.atanh,
  erf,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  floor: Math.floor,
  ceil: Math.ceil,
  // Round half to even, as WGSL and C's nearbyint do.
  round: (x) => {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  },
  trunc: Math.trunc,
  pow: Math.pow,
  atan2: Math.atan2,
  fmod: (a, b) => a % b,
  abs: Math.abs,
  sign: Math.sign,
  isnan: (x) => (Number.isNaN(x) ? 1 : 0),
  isinf: (x) => (x === Infinity || x === -Infinity ? 1 : 0),
  isfinite: (x) => (Number.isFinite(x) ? 1 : 0),
  workgroup_barrier: () => 0,
  storage_barrier: () => 0,
};

function intrinsic(op: string, args: readonly number[]): number {
  const f = INTRINSICS[op];
  if (!f) throw new Error(`the interpreter does not know intrinsic '${op}'`);
  return f(...args);
}

/** The value of a prim expression without loads (a shape, a tir_var) given its variables' values. */
export function evalPrim(e: PrimExpr, vars: ReadonlyMap<PrimVar, number>): number {
  return new Interpreter({}, vars).expr(e);
}

/** Runs `f` on `args` (buffers are written in place). */
export function runPrimFunc(f: PrimFunc, args: readonly PrimArg[], options: RunOptions = {}): void {
  new Interpreter(options.sizes ?? {}).run(f, args);
}

/** A deterministic generator of numbers in [0, 1) (mulberry32), so failures reproduce. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic pseudo-random float32 values in [lo, hi). */
export function randomArray(length: number, seed: number, lo = -1, hi = 1): Float64Array {
  const next = mulberry32(seed);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.fround(lo + next() * (hi - lo));
  return out;
}

/** The largest absolute and relative difference between two arrays. */
export function maxError(actual: ArrayLike<number>, expected: ArrayLike<number>): { abs: number; rel: number } {
  if (actual.length !== expected.length) throw new Error(`lengths differ: ${actual.length} vs ${expected.length}`);
  let abs = 0;
  let rel = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (Number.isNaN(d) && !(Number.isNaN(actual[i]!) && Number.isNaN(expected[i]!))) return { abs: NaN, rel: NaN };
    if (actual[i] === expected[i]) continue;
    abs = Math.max(abs, d);
    rel = Math.max(rel, d / Math.max(Math.abs(expected[i]!), 1e-30));
  }
  return { abs, rel };
}
