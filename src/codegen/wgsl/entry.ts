/**
 * The body of one entry point: a launch's statement as WGSL run by every
 * invocation. A thread-bound loop becomes a `let` of the invocation's id
 * (guarded when its extent is below the workgroup size or grid of its tag);
 * an unrolled loop of constant extent is written out once per iteration;
 * every other loop runs serially. Buffers reached through bindings are
 * written as placeholders (`$R<ordinal>$`): their names depend on the
 * binding numbers, known only once the whole body is emitted.
 */
import { type DataType, isFloat } from '../../ir/dtype.ts';
import { type BufferLoad, intImm, type PrimExpr, type PrimVar } from '../../ir/prim/expr.ts';
import { printPrimExpr } from '../../ir/text/printer.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import { type Allocate, type For, type Stmt, type ThreadTag, visitStmts } from '../../ir/tir/stmt.ts';
import { emitExpr, encode, type ExprContext, typeOf } from './expr.ts';
import type { HelperName } from './helpers.ts';
import { type LaunchPlan, needsGuard, threadDim } from './launch.ts';
import type { Namer } from './names.ts';
import { gpuStorage, NO_FLOAT64, storageBytes } from './types.ts';
import { IndentedWriter } from '../indented-writer.ts';

/** Copies of a body that nested unrolled loops may make; past it they stay loops (the code would grow past what unrolling gains). */
const MAX_UNROLL = 64;

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
  readonly uniforms: boolean;
  readonly workgroupBytes: number;
}

export const placeholder = (ordinal: number): string => `$R${ordinal}$`;
export const PLACEHOLDER = /\$R(\d+)\$/g;

export function emitEntry(scope: KernelScope, plan: LaunchPlan): EntryBody {
  return new EntryEmitter(scope, plan).emit();
}

class EntryEmitter extends IndentedWriter implements ExprContext {
  private readonly locals = new Map<PrimVar, string>();
  private readonly allocated = new Map<Buffer, string>();
  private readonly strideCache = new Map<Buffer, readonly string[]>();
  private workgroupBytes = 0;
  /** Copies the enclosing unrolled loops make of the statement being emitted. */
  private unrolled = 1;
  private blockX = 'i32(wid.x)';

  constructor(
    private readonly scope: KernelScope,
    private readonly plan: LaunchPlan,
  ) {
    super();
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
    this.stmt(this.plan.stmt);
    // What the entry point uses is read off its code, so it binds exactly what the shader refers to.
    const text = this.lines.join('\n');
    const resources = new Set([...text.matchAll(PLACEHOLDER)].map((m) => Number(m[1])));
    const uniforms = /(?<![A-Za-z0-9_])u\./.test(text);
    return { lines: this.lines, resources, uniforms, workgroupBytes: this.workgroupBytes };
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
    return this.access(load.buffer, load.indices);
  }

  use(helper: HelperName): string {
    this.scope.helpers.add(helper);
    return helper;
  }

  unsupported(what: string): never {
    return this.scope.unsupported(what);
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

  /** An integer expression as an i32 (indices, extents). */
  private index(e: PrimExpr): string {
    const t = typeOf(e.dtype, this);
    if (t === 'i32') return this.expr(e);
    if (t === 'u32') return `i32(${this.expr(e)})`;
    return this.unsupported(`index or extent ${printPrimExpr(e)} is not an integer`);
  }

  // --- buffers ------------------------------------------------------------------------------

  private access(b: Buffer, indices: readonly PrimExpr[]): string {
    let name = this.allocated.get(b);
    if (name === undefined) {
      const ordinal = this.scope.resources.get(b);
      if (ordinal === undefined)
        return this.unsupported(`buffer '${b.name}' is accessed outside the statement that allocates it`);
      name = placeholder(ordinal);
    }
    if (indices.length !== b.shape.length && b.shape.length > 0) {
      return this.unsupported(`buffer '${b.name}' of rank ${b.shape.length} indexed with ${indices.length} indices`);
    }
    const strides = this.strides(b);
    const terms: string[] = [];
    indices.forEach((ix, k) => {
      if (ix.kind === 'int' && ix.value === 0) return;
      const stride = strides[k]!;
      const i = this.index(ix);
      terms.push(stride === '1' ? i : `(${i} * ${stride})`);
    });
    return `${name}[${terms.length === 0 ? '0' : terms.join(' + ')}]`;
  }

  /** Row-major strides (or the buffer's own), constant factors folded. */
  private strides(b: Buffer): readonly string[] {
    const cached = this.strideCache.get(b);
    if (cached) return cached;
    let out: string[];
    if (b.strides.length > 0) out = b.strides.map((s) => this.index(s));
    else {
      out = new Array<string>(b.shape.length);
      let factor = 1;
      const symbolic: string[] = [];
      for (let k = b.shape.length - 1; k >= 0; k--) {
        const parts = factor === 1 && symbolic.length > 0 ? symbolic : [...symbolic, String(factor)];
        out[k] = parts.length === 1 ? parts[0]! : `(${parts.join(' * ')})`;
        if (k === 0) break;
        const d = b.shape[k]!;
        if (d.kind === 'int') factor *= d.value;
        else symbolic.push(this.index(d));
      }
    }
    this.strideCache.set(b, out);
    return out;
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

  private threadId(tag: ThreadTag): string {
    const { block, dim } = threadDim(tag);
    const c = 'xyz'[dim]!;
    if (!block) return `i32(lid.${c})`;
    return dim === 0 ? this.blockX : `i32(wid.${c})`;
  }

  private threadLoop(s: For): void {
    const id = this.threadId(s.thread!);
    const t = typeOf(s.loopVar.dtype, this);
    const min = s.min.kind === 'int' && s.min.value === 0 ? undefined : this.index(s.min);
    const value = min === undefined ? id : `${id} + ${min}`;
    const v = this.define(s.loopVar);
    this.line(`let ${v}: ${t} = ${t === 'i32' ? value : `${t}(${value})`};`);
    if (!needsGuard(this.plan, s)) {
      this.stmt(s.body);
      return;
    }
    if (!threadDim(s.thread!).block && containsBarrier(s.body)) {
      this.unsupported(
        `${s.thread} loop '${s.loopVar.name}' of extent ${printPrimExpr(s.extent)} is narrower than the workgroup (${this.plan.workgroupSize[threadDim(s.thread!).dim]}) and contains a barrier, which the threads outside it would skip`,
      );
    }
    this.block(`if (${id} < ${this.index(s.extent)}) {`, () => this.stmt(s.body));
  }

  /**
   * An unrolled loop of constant extent: the body once per iteration, each in
   * a scope of its own with the loop variable a constant, so the driver can
   * fold the indices it feeds (a thread's register tile can stay in
   * registers instead of an array indexed at run time). A loop that would
   * take the copies of its enclosing unrolled loops past MAX_UNROLL, a
   * symbolic one, or one holding a workgroup allocation (declared once per
   * copy) stays a loop.
   */
  private unrolledLoop(s: For): void {
    const extent = s.extent.kind === 'int' ? s.extent.value : undefined;
    const min = s.min.kind === 'int' ? s.min.value : undefined;
    if (min === undefined || extent === undefined || this.unrolled * extent > MAX_UNROLL || allocatesShared(s.body)) {
      return this.serialLoop(s);
    }
    const t = typeOf(s.loopVar.dtype, this);
    this.unrolled *= extent;
    for (let i = 0; i < extent; i++) {
      this.block('{', () => {
        this.line(`let ${this.define(s.loopVar)}: ${t} = ${this.expr(intImm(min + i, s.loopVar.dtype))};`);
        this.stmt(s.body);
      });
    }
    this.unrolled /= extent;
  }

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
      case 'for':
        if (s.forKind === 'thread_binding' && s.thread) this.threadLoop(s);
        else if (s.forKind === 'unrolled') this.unrolledLoop(s);
        else this.serialLoop(s);
        return;
      case 'block_realize': {
        const blk = s.block;
        this.line(`// block ${blk.name.replace(/[^A-Za-z0-9_]/g, '_')}`);
        blk.iterVars.forEach((iv, i) => {
          const value = this.expr(s.iterValues[i]!);
          this.line(`let ${this.define(iv.var)}: ${typeOf(iv.var.dtype, this)} = ${value};`);
        });
        const body = (): void => {
          if (blk.init) {
            const first = blk.iterVars
              .filter((iv) => iv.iterKind === 'reduce')
              .map((iv) => `${this.varRef(iv.var)} == ${this.expr(iv.dom.min)}`);
            if (first.length === 0) this.stmt(blk.init);
            else this.block(`if (${first.join(' && ')}) {`, () => this.stmt(blk.init!));
          }
          this.stmt(blk.body);
        };
        if (s.predicate.kind === 'bool' && s.predicate.value) body();
        else this.block(`if (${this.expr(s.predicate)}) {`, body);
        return;
      }
      case 'store':
        this.line(`${this.access(s.buffer, s.indices)} = ${this.stored(s.buffer.dtype, s.value)};`);
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
      case 'if':
        this.block(`if (${this.expr(s.cond)}) {`, () => this.stmt(s.then), s.else ? '} else {' : '}');
        if (s.else) {
          this.depth++;
          this.stmt(s.else);
          this.depth--;
          this.line('}');
        }
        return;
      case 'let': {
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

function containsBarrier(s: Stmt): boolean {
  let found = false;
  visitStmts(s, (x) => {
    if (x.kind === 'evaluate' && barrierOf(x.value)) found = true;
  });
  return found;
}

function allocatesShared(s: Stmt): boolean {
  let found = false;
  visitStmts(s, (x) => {
    if (x.kind === 'allocate' && x.buffer.scope === 'shared') found = true;
  });
  return found;
}
