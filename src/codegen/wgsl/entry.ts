/**
 * The body of one entry point: a launch's lowered statement (blocks,
 * unrolling, flattening and thread bindings already lowered, see
 * src/passes/tir) as WGSL run by every invocation. Buffers reached through
 * bindings are written as placeholders (`$R<ordinal>$`, and `$V<ordinal>$`
 * for a buffer's vector view, see lanes.ts): their names depend on the
 * binding numbers, known only once the whole body is emitted.
 */
import { type DataType, isFloat } from '../../ir/dtype.ts';
import { type BufferLoad, intImm, type PrimExpr, type PrimVar, substitute, usesVar, visitPrim } from '../../ir/prim/expr.ts';
import { simplify } from '../../ir/arith/analyzer.ts';
import type { Intrinsic } from '../../ir/prim/intrinsics.ts';
import { printPrimExpr } from '../../ir/text/printer.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import { type Allocate, type For, type Stmt, visitStmts } from '../../ir/tir/stmt.ts';
import { emitExpr, encode, type ExprContext, typeOf } from './expr.ts';
import type { HelperName } from './helpers.ts';
import { laneCount, VECTOR_WIDTH, vectorReads } from './lanes.ts';
import type { LaunchPlan } from './launch.ts';
import type { Namer } from './names.ts';
import { gpuStorage, intLiteral, NO_FLOAT64, storageBytes } from './types.ts';
import { IndentedWriter } from '../indented-writer.ts';

/** What the entry points of one kernel share. */
export interface KernelScope {
  readonly f16: boolean;
  readonly names: Namer;
  readonly helpers: Set<HelperName>;
  /** The uniform field of each kernel variable. */
  readonly fields: ReadonlyMap<PrimVar, string>;
  /** The binding-order ordinal of each parameter and workspace buffer. */
  readonly resources: ReadonlyMap<Buffer, number>;
  /** Module-scope declarations the entry points add (workgroup arrays). */
  readonly moduleDecls: string[];
  /** Set when a declaration holds f16 (the module then enables f16). */
  usesF16: boolean;
  unsupported(what: string): never;
}

export interface EntryBody {
  readonly lines: readonly string[];
  /** Ordinals of the bound buffers it uses. */
  readonly resources: ReadonlySet<number>;
  /** Those of them it stores to; the others it binds read-only (a compiler may then reorder and merge their loads). */
  readonly written: ReadonlySet<number>;
  /** Ordinals of the buffers it also reads through a vector view (`array<vec4<T>>`, read-only). */
  readonly vectors: ReadonlySet<number>;
  readonly uniforms: boolean;
  readonly workgroupBytes: number;
}

export const placeholder = (ordinal: number): string => `$R${ordinal}$`;
export const PLACEHOLDER = /\$R(\d+)\$/g;
export const vectorPlaceholder = (ordinal: number): string => `$V${ordinal}$`;
export const VECTOR_PLACEHOLDER = /\$V(\d+)\$/g;

/** `stmt` is the plan's launch with its thread bindings lowered; without `vectorLoads` every load is a scalar one. */
export function emitEntry(scope: KernelScope, plan: LaunchPlan, stmt: Stmt, vectorLoads = true): EntryBody {
  return new EntryEmitter(scope, plan, stmt, vectorLoads).emit();
}

class EntryEmitter extends IndentedWriter implements ExprContext {
  private readonly locals = new Map<PrimVar, string>();
  private readonly allocated = new Map<Buffer, string>();
  private readonly written = new Set<number>();
  private readonly vectors = new Set<number>();
  /** Buffers the launch stores to anywhere: they get no vector view. */
  private readonly storedTo = new Set<Buffer>();
  /** The values of the lets emitted so far, for alignment proofs. */
  private readonly letValues = new Map<PrimVar, PrimExpr>();
  /** While a vectorized loop's lane is emitted: the lane, and the vectors its loads read from. */
  private lane:
    | {
        readonly loopVar: PrimVar;
        readonly value: number;
        readonly index: number;
        readonly vectors: ReadonlyMap<BufferLoad, readonly string[]>;
      }
    | undefined;
  /** The vectors read so far in the WGSL scope being written, by `${ordinal}@${offset}`: later lanes there reuse them. */
  private vectorsInScope = new Map<string, string>();
  private workgroupBytes = 0;
  private blockX = 'i32(wid.x)';

  constructor(
    private readonly scope: KernelScope,
    private readonly plan: LaunchPlan,
    private readonly body: Stmt,
    private readonly vectorLoads: boolean,
  ) {
    super();
    visitStmts(body, (s) => {
      if (s.kind === 'store') this.storedTo.add(s.buffer);
    });
  }

  get f16(): boolean {
    return this.scope.f16;
  }

  emit(): EntryBody {
    if (this.plan.foldX) {
      // The runtime may spread a grid x over x and y; invocations past it return (uniformly: a workgroup at a time).
      this.blockX = this.scope.names.fresh('blockIdx_x');
      this.line(`let ${this.blockX} = i32(wid.x + wid.y * nwg.x);`);
      const bounds = [...new Set(this.plan.blockXLoops.map((l) => this.index(l.extent)))];
      this.line(`if (${this.blockX} >= ${bounds.reduce((a, b) => `max(${a}, ${b})`)}) { return; }`);
    }
    this.stmt(this.body);
    // What the entry point uses is read off its code, so it binds exactly what the shader refers to.
    const text = this.lines.join('\n');
    const resources = new Set([...text.matchAll(PLACEHOLDER)].map((m) => Number(m[1])));
    const uniforms = /(?<![A-Za-z0-9_])u\./.test(text);
    return {
      lines: this.lines,
      resources,
      written: this.written,
      vectors: this.vectors,
      uniforms,
      workgroupBytes: this.workgroupBytes,
    };
  }

  // --- ExprContext ----------------------------------------------------------------------

  varRef(v: PrimVar): string {
    const local = this.locals.get(v);
    if (local !== undefined) return local;
    const field = this.scope.fields.get(v);
    if (field === undefined) {
      return this.unsupported(
        `symbolic variable '${v.name}' is used where it has no value (it is not a parameter, a dimension of a parameter, a loop or a let)`,
      );
    }
    return v.dtype === 'bool' ? `(u.${field} != 0i)` : `u.${field}`;
  }

  element(load: BufferLoad): string {
    const vector = this.lane?.vectors.get(load);
    if (vector) return `${vector[Math.floor(this.lane!.index / VECTOR_WIDTH)]!}.${'xyzw'[this.lane!.index % VECTOR_WIDTH]!}`;
    return this.access(load.buffer, load.indices);
  }

  use(helper: HelperName): string {
    this.scope.helpers.add(helper);
    return helper;
  }

  unsupported(what: string): never {
    return this.scope.unsupported(what);
  }

  threadIndex(op: Intrinsic): string {
    const c = op[op.length - 1]!;
    if (op.startsWith('thread')) return `i32(lid.${c})`;
    return c === 'x' ? this.blockX : `i32(wid.${c})`;
  }

  // --- lines and names --------------------------------------------------------------------

  private define(v: PrimVar): string {
    const name = this.scope.names.fresh(v.name);
    this.locals.set(v, name);
    return name;
  }

  private expr(e: PrimExpr): string {
    return emitExpr(e, this);
  }

  /**
   * In a vectorized loop's lane, `e` with the lane's constant folded in (`acc[63i]`, not
   * `acc[(7i + 56i)]`); values read from buffers are left as written (see simplify-tir's keepDataExprs).
   */
  private laneFolded(e: PrimExpr): PrimExpr {
    const lane = this.lane;
    if (!lane || !usesVar(e, lane.loopVar) || readsMemory(e)) return e;
    return simplify(substitute(e, new Map([[lane.loopVar, intImm(lane.value, lane.loopVar.dtype)]])));
  }

  /** An integer expression as an i32 (indices, extents). */
  private index(indexExpr: PrimExpr): string {
    const e = this.laneFolded(indexExpr);
    const t = typeOf(e.dtype, this);
    if (t === 'i32') return this.expr(e);
    if (t === 'u32') return `i32(${this.expr(e)})`;
    return this.unsupported(`index or extent ${printPrimExpr(e)} is not an integer`);
  }

  // --- buffers ------------------------------------------------------------------------------

  /** `name[offset]`: lowered functions index every buffer with one flat element offset. */
  private access(b: Buffer, indices: readonly PrimExpr[], write = false): string {
    let name = this.allocated.get(b);
    if (name === undefined) {
      const ordinal = this.scope.resources.get(b);
      if (ordinal === undefined)
        return this.unsupported(`buffer '${b.name}' is accessed outside the statement that allocates it`);
      name = placeholder(ordinal);
      if (write) this.written.add(ordinal);
    }
    return `${name}[${this.index(indices[0]!)}]`;
  }

  private declareArray(s: Allocate): void {
    const b = s.buffer;
    const storage = gpuStorage(b.dtype, this.scope.f16) ?? this.unsupported(`buffer '${b.name}': ${NO_FLOAT64}`);
    if (storage === 'f16') this.scope.usesF16 = true;
    let size = 1;
    for (const d of b.shape) {
      if (d.kind !== 'int') {
        return this.unsupported(
          `${b.scope} buffer '${b.name}' has a dimension ${printPrimExpr(d)} known only at run time: WGSL arrays in ${b.scope === 'shared' ? 'workgroup' : 'function'} memory need a constant size`,
        );
      }
      size *= d.value;
    }
    const name = this.scope.names.fresh(b.name);
    // WGSL arrays have at least one element.
    const type = `array<${storage}, ${Math.max(size, 1)}>`;
    if (b.scope === 'shared') {
      this.scope.moduleDecls.push(`var<workgroup> ${name}: ${type};`);
      // WebGPU counts each workgroup variable rounded up to 16 bytes.
      this.workgroupBytes += Math.ceil((Math.max(size, 1) * storageBytes(storage)) / 16) * 16;
    } else {
      this.line(`var ${name}: ${type};`);
    }
    this.allocated.set(b, name);
  }

  // --- statements -------------------------------------------------------------------------

  private serialLoop(s: For): void {
    const t = typeOf(s.loopVar.dtype, this);
    const zero = s.min.kind === 'int' && s.min.value === 0;
    const min = this.expr(s.min);
    const extent = this.expr(s.extent);
    const v = this.define(s.loopVar);
    let end = extent;
    if (!zero || !/^[A-Za-z0-9_.]+$/.test(extent)) {
      // Loop bounds are evaluated once, as TensorIR defines them.
      end = this.scope.names.fresh(`${v}_end`);
      this.line(`let ${end}: ${t} = ${zero ? extent : `${min} + ${extent}`};`);
    }
    this.block(`for (var ${v}: ${t} = ${min}; ${v} < ${end}; ${v}++) {`, () => this.stmt(s.body));
  }

  /** A vectorized loop written out lane by lane, its contiguous aligned loads read as vectors first (lanes.ts). */
  private laneLoop(s: For, lanes: number): void {
    const vectors = new Map<BufferLoad, readonly string[]>();
    const reads = this.vectorLoads ? vectorReads(s, lanes, (b) => this.hasVectorView(b), this.letValues) : [];
    for (const r of reads) {
      const ordinal = this.scope.resources.get(r.buffer)!;
      this.vectors.add(ordinal);
      const base = `(${this.index(r.base)} >> 2u)`;
      const names: string[] = [];
      for (let g = 0; g < lanes / VECTOR_WIDTH; g++) {
        const read = `${vectorPlaceholder(ordinal)}[${g === 0 ? base : `${base} + ${g}i`}]`;
        let name = this.vectorsInScope.get(read);
        if (name === undefined) {
          name = this.scope.names.fresh(`${r.buffer.name}_v`);
          this.line(`let ${name} = ${read};`);
          this.vectorsInScope.set(read, name);
        }
        names.push(name);
      }
      for (const load of r.loads) vectors.set(load, names);
    }
    const t = typeOf(s.loopVar.dtype, this) === 'u32' ? 'u32' : 'i32';
    const min = (s.min as { value: number }).value;
    for (let lane = 0; lane < lanes; lane++) {
      this.locals.set(s.loopVar, intLiteral(min + lane, t));
      this.lane = { loopVar: s.loopVar, value: min + lane, index: lane, vectors };
      this.stmt(s.body);
    }
    this.lane = undefined;
    this.locals.delete(s.loopVar);
  }

  /** `{ ... }` whose lets, vector reads among them, are not seen after it. */
  protected override block(open: string, body: () => void, close = '}'): void {
    super.block(open, () => this.scoped(body), close);
  }

  private scoped(body: () => void): void {
    const outer = this.vectorsInScope;
    this.vectorsInScope = new Map(outer);
    body();
    this.vectorsInScope = outer;
  }

  /** Whether loads of `b` may go through a vector view: a bound buffer of 32- or 16-bit elements this launch never writes. */
  private hasVectorView(b: Buffer): boolean {
    return (
      this.scope.resources.has(b) &&
      !this.allocated.has(b) &&
      !this.storedTo.has(b) &&
      gpuStorage(b.dtype, this.f16) !== undefined
    );
  }

  /** A value as its buffer stores it; a cast to the buffer's type right before the store already rounds or wraps. */
  private stored(dtype: DataType, value: PrimExpr): string {
    if (value.kind === 'cast' && value.dtype === dtype) {
      if (isFloat(dtype) && typeOf(value.value.dtype, this) === 'f32') return encode(dtype, this.expr(value.value), this);
      if (dtype === 'int8' || dtype === 'int16' || dtype === 'uint8' || dtype === 'uint16') return this.expr(value);
    }
    return encode(dtype, this.expr(value), this);
  }

  private stmt(s: Stmt): void {
    switch (s.kind) {
      case 'for': {
        const lanes = laneCount(s);
        if (lanes === undefined) this.serialLoop(s);
        else this.laneLoop(s, lanes);
        return;
      }
      case 'block_realize':
        throw new Error(`internal error: block '${s.block.name}' reached the WGSL emitter unlowered`);
      case 'store':
        this.line(`${this.access(s.buffer, s.indices, true)} = ${this.stored(s.buffer.dtype, s.value)};`);
        return;
      case 'allocate':
        if (s.buffer.scope === 'global') {
          return this.unsupported(
            `global buffer '${s.buffer.name}' is allocated inside a launch; only allocations at the top of a kernel become workspace buffers`,
          );
        }
        this.declareArray(s);
        this.stmt(s.body);
        this.allocated.delete(s.buffer);
        return;
      case 'if': {
        const otherwise = s.else;
        this.block(this.ifOpen(this.expr(this.laneFolded(s.cond))), () => this.stmt(s.then), otherwise ? '} else {' : '}');
        if (otherwise) {
          this.depth++;
          this.scoped(() => this.stmt(otherwise));
          this.depth--;
          this.line('}');
        }
        return;
      }
      case 'let': {
        this.letValues.set(s.var, s.value);
        const value = this.expr(s.value);
        this.line(`let ${this.define(s.var)}: ${typeOf(s.var.dtype, this)} = ${value};`);
        this.stmt(s.body);
        return;
      }
      case 'seq':
        for (const x of s.stmts) this.stmt(x);
        return;
      case 'evaluate': {
        const barrier = barrierOf(s.value);
        if (barrier) this.line(`${barrier}();`);
        else this.line(`_ = ${this.expr(s.value)};`);
        return;
      }
    }
  }
}

function barrierOf(e: PrimExpr): string | undefined {
  if (e.kind !== 'call') return undefined;
  if (e.op === 'workgroup_barrier') return 'workgroupBarrier';
  if (e.op === 'storage_barrier') return 'storageBarrier';
  return undefined;
}

function readsMemory(e: PrimExpr): boolean {
  let found = false;
  visitPrim(e, (x) => {
    if (x.kind === 'load') found = true;
  });
  return found;
}
