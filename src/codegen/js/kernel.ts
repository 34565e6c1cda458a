/**
 * A PrimFunc as a JavaScript function over typed arrays.
 *
 * The function takes one array of arguments in the order of the PrimFunc's
 * parameters: tensors ({ shape, data }) for buffers, numbers for scalars. Its
 * prologue reads every symbolic variable off the first dimension where it
 * stands alone, then checks each buffer's dtype, rank and every dimension, so
 * a kernel called with the wrong tensors fails instead of reading out of
 * bounds. It translates lowered TIR (src/passes/tir/lower.ts): blocks,
 * unrolling and buffer strides are dealt with there; loops of every kind run
 * serially.
 */
import type { DataType } from '../../ir/dtype.ts';
import type { PrimExpr, PrimVar } from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import type { PrimFunc, Stmt } from '../../ir/tir/stmt.ts';
import { fail, M } from '../../support/messages.ts';
import { emitExpr, encode, type ExprContext } from './expr.ts';
import { IndentedWriter } from '../indented-writer.ts';
import { lowerPrimFunc } from '../../passes/tir/lower.ts';

export interface JsKernel {
  /** The JavaScript function's source, named `fnName`. */
  readonly source: string;
  readonly fnName: string;
  /** Helper functions it calls. */
  readonly helpers: ReadonlySet<string>;
}

const RESERVED = new Set(
  (
    'a await break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if implements import in instanceof interface let new null package private protected public return static ' +
    'super switch this throw true try typeof var void while with yield arguments eval undefined NaN Infinity Math Number ' +
    'BigInt Object Array Error'
  ).split(' '),
);

const STORAGE: Record<DataType, string> = {
  bool: 'Uint8Array',
  int8: 'Int8Array',
  int16: 'Int16Array',
  int32: 'Int32Array',
  int64: 'BigInt64Array',
  uint8: 'Uint8Array',
  uint16: 'Uint16Array',
  uint32: 'Uint32Array',
  uint64: 'BigUint64Array',
  float16: 'Uint16Array',
  bfloat16: 'Uint16Array',
  float32: 'Float32Array',
  float64: 'Float64Array',
};

export function emitKernel(kernelName: string, f: PrimFunc, fnName = `k_${kernelName}`): JsKernel {
  return new KernelEmitter(kernelName, lowerPrimFunc(f)).emit(fnName);
}

class KernelEmitter extends IndentedWriter implements ExprContext {
  private readonly names = new Map<object, string>();
  private readonly taken = new Set<string>(RESERVED);
  /** The typed array each buffer in scope is in. */
  private readonly buffers = new Map<Buffer, string>();
  private readonly helpers = new Set<string>();

  constructor(
    private readonly kernel: string,
    private readonly f: PrimFunc,
  ) {
    super();
  }

  emit(fnName: string): JsKernel {
    this.prologue();
    this.stmt(this.f.body);
    const source = `function ${fnName}(a) {\n${this.lines.join('\n')}\n}`;
    return { source, fnName, helpers: this.helpers };
  }

  // --- ExprContext ----------------------------------------------------------------------

  varName(v: PrimVar): string {
    const n = this.names.get(v);
    if (n === undefined) {
      return fail(M.codegenUnsupported, {
        target: 'js',
        kernel: this.kernel,
        what: `symbolic variable '${v.name}' is used where it has no value (it is not a parameter, a dimension of a parameter, a loop or a let)`,
      });
    }
    return n;
  }

  element(load: PrimExpr & { kind: 'load' }): string {
    return this.access(load.buffer, load.indices);
  }

  use(helper: string): string {
    this.helpers.add(helper);
    return helper;
  }

  unsupported(what: string): never {
    return fail(M.codegenUnsupported, { target: 'js', kernel: this.kernel, what });
  }

  // --- names and lines --------------------------------------------------------------------

  private fresh(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=[0-9])/, '_') || 'v';
    let name = base;
    for (let i = 1; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }

  private define(v: PrimVar): string {
    const name = this.fresh(v.name);
    this.names.set(v, name);
    return name;
  }

  private expr(e: PrimExpr): string {
    return emitExpr(e, this);
  }

  // --- prologue ---------------------------------------------------------------------------

  private prologue(): void {
    const tensors = new Map<Buffer, string>();
    this.f.params.forEach((p, i) => {
      if (p.kind === 'buffer') {
        const t = this.fresh(`${p.name}_t`);
        tensors.set(p, t);
        this.line(`const ${t} = a[${i}];`);
      } else {
        this.line(`const ${this.define(p)} = a[${i}];`);
      }
    });
    // Symbolic variables come from the first dimension where they stand alone.
    for (const [b, t] of tensors) {
      b.shape.forEach((d, k) => {
        if (d.kind === 'var' && !this.names.has(d)) this.line(`const ${this.define(d)} = ${t}.shape[${k}];`);
      });
    }
    for (const [b, t] of tensors) {
      const q = JSON.stringify(b.name);
      this.line(
        `if (${t}.dtype !== ${JSON.stringify(b.dtype)} || ${t}.shape.length !== ${b.shape.length}) ` +
          `${this.use('$shapeError')}(${JSON.stringify(this.kernel)}, ${q}, \`is \${${t}.dtype}[\${${t}.shape.join(', ')}], expected ${b.dtype} of rank ${b.shape.length}\`);`,
      );
      b.shape.forEach((d, k) => {
        if (d.kind === 'var' && this.names.get(d) !== undefined && this.boundHere(d, b, k)) return;
        const want = this.expr(d);
        this.line(
          `if (${t}.shape[${k}] !== ${want}) ${this.use('$shapeError')}(${JSON.stringify(this.kernel)}, ${q}, \`dimension ${k} is \${${t}.shape[${k}]}, expected \${${want}}\`);`,
        );
      });
    }
    for (const [b, t] of tensors) {
      const data = this.fresh(b.name);
      this.line(`const ${data} = ${t}.data;`);
      this.buffers.set(b, data);
    }
  }

  /** Whether dimension k of b is where variable d was read from (so it needs no check). */
  private boundHere(d: PrimVar, b: Buffer, k: number): boolean {
    for (const p of this.f.params) {
      if (p.kind !== 'buffer') continue;
      for (let j = 0; j < p.shape.length; j++) {
        if (p.shape[j] === d) return p === b && j === k;
      }
    }
    return false;
  }

  /** `data[offset]`: lowered functions index every buffer with one flat element offset. */
  private access(b: Buffer, indices: readonly PrimExpr[]): string {
    const data = this.buffers.get(b);
    if (!data) return this.unsupported(`buffer '${b.name}' is accessed outside the statement that allocates it`);
    return `${data}[${this.expr(indices[0]!)}]`;
  }

  // --- statements -------------------------------------------------------------------------

  private stmt(s: Stmt): void {
    switch (s.kind) {
      case 'for': {
        const min = this.expr(s.min);
        const extent = this.expr(s.extent);
        const v = this.define(s.loopVar);
        const simple = min === '0';
        if (simple && /^[A-Za-z0-9_]+$/.test(extent)) {
          this.block(`for (let ${v} = 0; ${v} < ${extent}; ${v}++) {`, () => this.stmt(s.body));
        } else {
          const end = this.fresh(`${v}_end`);
          this.block(`for (let ${v} = ${min}, ${end} = ${min} + ${extent}; ${v} < ${end}; ${v}++) {`, () => this.stmt(s.body));
        }
        return;
      }
      case 'block_realize':
        throw new Error(`internal error: block '${s.block.name}' reached the JavaScript emitter unlowered`);
      case 'store':
        this.line(`${this.access(s.buffer, s.indices)} = ${encode(s.buffer.dtype, this.expr(s.value), this)};`);
        return;
      case 'allocate': {
        const b = s.buffer;
        this.block('{', () => {
          const data = this.fresh(b.name);
          const size = b.shape.length === 0 ? '1' : b.shape.map((d) => this.expr(d)).join(' * ');
          this.line(`const ${data} = new ${STORAGE[b.dtype]}(${size});`);
          this.buffers.set(b, data);
          this.stmt(s.body);
          this.buffers.delete(b);
        });
        return;
      }
      case 'if':
        this.block(this.ifOpen(this.expr(s.cond)), () => this.stmt(s.then), s.else ? '} else {' : '}');
        if (s.else) {
          this.depth++;
          this.stmt(s.else);
          this.depth--;
          this.line('}');
        }
        return;
      case 'let':
        this.block('{', () => {
          const value = this.expr(s.value);
          this.line(`const ${this.define(s.var)} = ${value};`);
          this.stmt(s.body);
        });
        return;
      case 'seq':
        for (const x of s.stmts) this.stmt(x);
        return;
      case 'evaluate':
        this.line(`${this.expr(s.value)};`);
        return;
    }
  }
}
