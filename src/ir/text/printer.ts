/**
 * The text format printer. Every module prints deterministically: functions
 * in canonical order, attributes by key, variables named from their hints
 * and made unique per function.
 */
import { atomKey } from '../arith/canonical.ts';
import { isFloat, shortName } from '../dtype.ts';
import { shortestFloat } from '../float-bits.ts';
import {
  type Binding,
  type BindingBlock,
  type Constant,
  type Expr,
  type ExternFunc,
  type GraphFunc,
  intrinsicSinfo,
  type SeqExpr,
} from '../graph/expr.ts';
import type { StructInfo } from '../graph/struct-info.ts';
import { type IRModule, sortedFunctionNames } from '../module.ts';
import type { PrimExpr } from '../prim/expr.ts';
import { bytesEqual, decodeValues, encodeValues } from '../tensor-data.ts';
import { NameTable } from './names.ts';
import { printAttrList, printAttrs } from './print-attrs.ts';
import { PrimPrinter } from './print-prim.ts';
import { TirPrinter } from './print-tir.ts';

export interface PrintOptions {
  /** Constants with at most this many elements print their values inline; larger ones print their hash. Default 16. */
  readonly inlineConstantLimit?: number;
}

const INDENT = '  ';

export function printModule(m: IRModule, options: PrintOptions = {}): string {
  const parts: string[] = [];
  const attrs = printAttrs(m.attrs);
  if (attrs) parts.push(`module ${attrs}`);
  for (const name of sortedFunctionNames(m)) {
    const f = m.functions.get(name)!;
    const names = new NameTable();
    switch (f.kind) {
      case 'prim_func':
        parts.push(new TirPrinter(names).primFunc(name, f));
        break;
      case 'func':
        parts.push(new GraphPrinter(names, options).func(name, f));
        break;
      case 'extern_func':
        parts.push(new GraphPrinter(names, options).extern(name, f));
        break;
    }
  }
  return `${parts.join('\n\n')}\n`;
}

/** A prim expression on its own, for messages and debugging. */
export function printPrimExpr(e: PrimExpr, names: NameTable = new NameTable()): string {
  return new PrimPrinter(names).print(e);
}

export function printStructInfo(s: StructInfo, names: NameTable = new NameTable()): string {
  return new GraphPrinter(names, {}).sinfo(s);
}

/** A shape as `(n, 4)`, for messages. */
export function printShape(dims: readonly PrimExpr[], names: NameTable = new NameTable()): string {
  return shapeTuple(dims.map((d) => new PrimPrinter(names).index(d)));
}

/** `(n, 4)`; a single dimension keeps a trailing comma, as in Python: `(n,)`. */
function shapeTuple(dims: readonly string[]): string {
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
}

class GraphPrinter {
  private readonly prim: PrimPrinter;

  constructor(
    private readonly names: NameTable,
    private readonly options: PrintOptions,
  ) {
    this.prim = new PrimPrinter(names);
  }

  func(name: string, f: GraphFunc): string {
    const params = f.params.map((p) => {
      const sinfo = this.sinfo(p.sinfo);
      return `${this.names.define(p, p.name)}: ${sinfo}`;
    });
    const attrs = printAttrs(f.attrs);
    const lines = [`func ${name}(${params.join(', ')}) -> ${this.sinfo(f.ret)}${attrs ? ` ${attrs}` : ''} {`];
    this.seqBody(f.body, 1, lines);
    lines.push(`${INDENT}return ${this.expr(f.body.body, 1)}`);
    lines.push('}');
    return lines.join('\n');
  }

  extern(name: string, f: ExternFunc): string {
    return `extern_func ${name}: ${this.sinfo(f.sinfo)} = ${JSON.stringify(f.symbol)}`;
  }

  /** The blocks of a sequence; the caller prints its result. */
  private seqBody(s: SeqExpr, depth: number, out: string[]): void {
    for (const b of s.blocks) this.block(b, depth, out);
  }

  private block(b: BindingBlock, depth: number, out: string[]): void {
    if (!b.dataflow) {
      for (const x of b.bindings) out.push(...this.binding(x, depth));
      return;
    }
    const pad = INDENT.repeat(depth);
    out.push(`${pad}dataflow {`);
    for (const x of b.bindings) out.push(...this.binding(x, depth + 1));
    const outputs = b.bindings.filter((x) => !x.var.dataflow).map((x) => this.names.get(x.var)!);
    if (outputs.length > 0) out.push(`${pad}${INDENT}output ${outputs.join(', ')}`);
    out.push(`${pad}}`);
  }

  private binding(b: Binding, depth: number): string[] {
    const pad = INDENT.repeat(depth);
    if (b.kind === 'match_cast') {
      const value = this.expr(b.value, depth);
      const name = this.names.define(b.var, b.var.name);
      return `${pad}${name} = match_cast(${value}, ${this.sinfo(b.var.sinfo)})`.split('\n');
    }
    const value = this.expr(b.value, depth);
    const own = intrinsicSinfo(b.value);
    const annotate = !own || !sinfoEqual(own, b.var.sinfo);
    const name = this.names.define(b.var, b.var.name);
    const head = annotate ? `${name}: ${this.sinfo(b.var.sinfo)}` : name;
    return `${pad}${head} = ${value}`.split('\n');
  }

  /** An expression; multi-line ones (if) are indented for `depth`. */
  expr(e: Expr, depth: number): string {
    switch (e.kind) {
      case 'graph_var':
        return this.names.nameOf(e, e.name);
      case 'constant':
        return this.constant(e);
      case 'tuple':
        return this.argTuple(e.fields, depth);
      case 'tuple_get':
        return `${this.expr(e.tuple, depth)}[${e.index}]`;
      case 'shape':
        return `shape(${e.values.map((v) => this.prim.index(v)).join(', ')})`;
      case 'prim_value':
        return `prim(${this.prim.print(e.value)})`;
      case 'string':
        return JSON.stringify(e.value);
      case 'call': {
        const attrs = printAttrList(e.attrs);
        const args = this.args(e.args, depth);
        return `${e.op}(${[args, attrs].filter((x) => x !== '').join(', ')})`;
      }
      case 'call_global':
        return `@${e.func}(${this.args(e.args, depth)})`;
      case 'call_tir': {
        const vars = e.tirVars ? `, tir_vars: ${this.expr(e.tirVars, depth)}` : '';
        const dst = e.dst ? `, dst: ${this.expr(e.dst, depth)}` : '';
        return `call_tir(${e.func}, ${this.argTuple(e.args, depth)}, out: ${this.sinfo(e.out)}${vars}${dst})`;
      }
      case 'call_dps_packed':
        return `call_dps_packed(${JSON.stringify(e.func)}, ${this.argTuple(e.args, depth)}, out: ${this.sinfo(e.out)})`;
      case 'if': {
        const pad = INDENT.repeat(depth);
        const lines = [`if ${this.expr(e.cond, depth)} {`];
        this.seqBody(e.then, depth + 1, lines);
        lines.push(`${pad}${INDENT}${this.expr(e.then.body, depth + 1)}`, `${pad}} else {`);
        this.seqBody(e.else, depth + 1, lines);
        lines.push(`${pad}${INDENT}${this.expr(e.else.body, depth + 1)}`, `${pad}}`);
        return lines.join('\n');
      }
    }
  }

  /** `(a, b)`, `(a,)`, `()`: a tuple, also the argument list of call_tir and call_dps_packed. */
  private argTuple(xs: readonly Expr[], depth: number): string {
    return xs.length === 1 ? `(${this.expr(xs[0]!, depth)},)` : `(${this.args(xs, depth)})`;
  }

  private args(xs: readonly Expr[], depth: number): string {
    return xs.map((x) => this.expr(x, depth)).join(', ');
  }

  private constant(c: Constant): string {
    const type = `${shortName(c.dtype)}[${c.shape.join(', ')}]`;
    const inline = this.inlineValues(c);
    return `const(${type}, ${inline ?? JSON.stringify(c.blob.hash)})`;
  }

  /** `[1.0, 2.0]` when the constant is small, its bytes are at hand and they read back exactly. */
  private inlineValues(c: Constant): string | undefined {
    const count = c.shape.reduce((a, b) => a * b, 1);
    if (count > (this.options.inlineConstantLimit ?? 16)) return undefined;
    let bytes: Uint8Array;
    try {
      bytes = c.blob.bytes();
    } catch {
      return undefined;
    }
    const values = decodeValues(bytes, c.dtype);
    if (!bytesEqual(encodeValues(values, c.dtype), bytes)) return undefined;
    const text = values.map((v) =>
      typeof v === 'boolean'
        ? String(v)
        : typeof v === 'bigint'
          ? v.toString()
          : isFloat(c.dtype)
            ? shortestFloat(v, c.dtype)
            : String(v),
    );
    return `[${text.join(', ')}]`;
  }

  sinfo(s: StructInfo): string {
    switch (s.kind) {
      case 'tensor': {
        const parts: string[] = [];
        if (s.shape) parts.push(shapeTuple(s.shape.map((d) => this.prim.index(d))));
        else if (s.ndim >= 0) parts.push(`ndim=${s.ndim}`);
        parts.push(shortName(s.dtype));
        if (s.device !== undefined) parts.push(`device=${JSON.stringify(s.device)}`);
        return `Tensor[${parts.join(', ')}]`;
      }
      case 'tuple':
        return `Tuple[${s.fields.map((f) => this.sinfo(f)).join(', ')}]`;
      case 'shape':
        if (s.values) return `Shape[${shapeTuple(s.values.map((d) => this.prim.index(d)))}]`;
        return s.ndim >= 0 ? `Shape[ndim=${s.ndim}]` : 'Shape';
      case 'prim':
        return s.value
          ? `Prim[${shortName(s.dtype)}, value=${this.prim.print(s.value, s.dtype)}]`
          : `Prim[${shortName(s.dtype)}]`;
      case 'object':
        return 'Object';
      case 'func': {
        const params = s.params ? `[${s.params.map((p) => this.sinfo(p)).join(', ')}]` : '...';
        return `Callable[${params}, ${this.sinfo(s.ret)}]`;
      }
    }
  }
}

/** Exact equality of struct info (same variables, same expressions). */
export function sinfoEqual(a: StructInfo, b: StructInfo): boolean {
  const dims = (x: readonly PrimExpr[] | undefined, y: readonly PrimExpr[] | undefined): boolean =>
    x === y || (x !== undefined && y !== undefined && x.length === y.length && x.every((d, i) => atomKey(d) === atomKey(y[i]!)));
  switch (a.kind) {
    case 'tensor':
      return b.kind === 'tensor' && a.dtype === b.dtype && a.ndim === b.ndim && a.device === b.device && dims(a.shape, b.shape);
    case 'tuple':
      return b.kind === 'tuple' && a.fields.length === b.fields.length && a.fields.every((f, i) => sinfoEqual(f, b.fields[i]!));
    case 'shape':
      return b.kind === 'shape' && a.ndim === b.ndim && dims(a.values, b.values);
    case 'prim':
      return (
        b.kind === 'prim' &&
        a.dtype === b.dtype &&
        (a.value === b.value || (a.value !== undefined && b.value !== undefined && atomKey(a.value) === atomKey(b.value)))
      );
    case 'object':
      return b.kind === 'object';
    case 'func':
      return (
        b.kind === 'func' &&
        sinfoEqual(a.ret, b.ret) &&
        (a.params === b.params ||
          (a.params !== undefined &&
            b.params !== undefined &&
            a.params.length === b.params.length &&
            a.params.every((p, i) => sinfoEqual(p, b.params![i]!))))
      );
  }
}
