/** Printing PrimFuncs and their statements. */
import { atomKey } from '../arith/canonical.ts';
import { INDEX_DTYPE, shortName } from '../dtype.ts';
import { type PrimExpr, type PrimVar, usesVar } from '../prim/expr.ts';
import type { Buffer } from '../tir/buffer.ts';
import { inferBlockRegions } from '../tir/regions.ts';
import type { BlockRealize, BufferRegion, For, IterVar, PrimFunc, Range, Stmt } from '../tir/stmt.ts';
import { printAttrs } from './print-attrs.ts';
import type { NameTable } from './names.ts';
import { PrimPrinter } from './print-prim.ts';

const INDENT = '  ';

export class TirPrinter {
  private readonly prim: PrimPrinter;
  /** The loops around the statement being printed, for the `spatial(i)` shorthand. */
  private readonly loops = new Map<PrimVar, For>();

  constructor(private readonly names: NameTable) {
    this.prim = new PrimPrinter(names);
  }

  primFunc(name: string, f: PrimFunc): string {
    const params = f.params.map((p) => {
      if (p.kind === 'buffer') {
        const n = this.names.define(p, p.name);
        return `${n}: ${this.bufferType(p)}`;
      }
      return `${this.names.nameOf(p, p.name)}: ${shortName(p.dtype)}`;
    });
    const attrs = printAttrs(f.attrs);
    const lines = [`prim_func ${name}(${params.join(', ')})${attrs ? ` ${attrs}` : ''} {`];
    this.stmts(f.body, 1, lines);
    lines.push('}');
    return lines.join('\n');
  }

  /** `f32[n, 128]`, with strides and a scope other than global when present. */
  bufferType(b: Buffer): string {
    let s = `${shortName(b.dtype)}[${b.shape.map((d) => this.prim.index(d)).join(', ')}]`;
    if (b.strides.length > 0) s += ` strides(${b.strides.map((d) => this.prim.index(d)).join(', ')})`;
    if (b.scope !== 'global') s += ` ${b.scope}`;
    return s;
  }

  /** Prints a statement as lines at `depth`, flattening sequences. */
  stmts(s: Stmt, depth: number, out: string[]): void {
    const list = s.kind === 'seq' ? s.stmts : [s];
    list.forEach((x, i) => this.stmt(x, depth, out, i === list.length - 1));
  }

  private stmt(s: Stmt, depth: number, out: string[], last: boolean): void {
    const pad = INDENT.repeat(depth);
    switch (s.kind) {
      case 'for':
        this.forLoop(s, depth, out);
        return;
      case 'block_realize':
        this.blockRealize(s, depth, out);
        return;
      case 'store': {
        const name = this.names.nameOf(s.buffer, s.buffer.name);
        const idx = s.indices.map((i) => this.prim.print(i)).join(', ');
        out.push(`${pad}${name}[${idx}] = ${this.prim.print(s.value, s.buffer.dtype)}`);
        return;
      }
      case 'allocate': {
        const name = this.names.define(s.buffer, s.buffer.name);
        const head = `${pad}alloc ${name}: ${this.bufferType(s.buffer)}`;
        this.scoped(head, s.body, depth, out, last);
        return;
      }
      case 'let': {
        const value = this.prim.print(s.value);
        const name = this.names.define(s.var, s.var.name);
        this.scoped(`${pad}let ${name} = ${value}`, s.body, depth, out, last);
        return;
      }
      case 'if': {
        out.push(`${pad}if ${this.prim.print(s.cond)} {`);
        this.stmts(s.then, depth + 1, out);
        if (s.else) {
          out.push(`${pad}} else {`);
          this.stmts(s.else, depth + 1, out);
        }
        out.push(`${pad}}`);
        return;
      }
      case 'seq':
        this.stmts(s, depth, out);
        return;
      case 'evaluate':
        out.push(`${pad}eval ${this.prim.print(s.value)}`);
        return;
    }
  }

  /**
   * `alloc` and `let` scope over the rest of their sequence when they end
   * it; elsewhere their body is braced.
   */
  private scoped(head: string, body: Stmt, depth: number, out: string[], last: boolean): void {
    if (last) {
      out.push(head);
      this.stmts(body, depth, out);
      return;
    }
    out.push(`${head} {`);
    this.stmts(body, depth + 1, out);
    out.push(`${INDENT.repeat(depth)}}`);
  }

  private isGridLoop(s: Stmt): s is For {
    return (
      s.kind === 'for' &&
      s.forKind === 'serial' &&
      s.min.kind === 'int' &&
      s.min.value === 0 &&
      s.loopVar.dtype === INDEX_DTYPE &&
      Object.keys(s.annotations).length === 0
    );
  }

  private forLoop(s: For, depth: number, out: string[]): void {
    const pad = INDENT.repeat(depth);
    const nest: For[] = [s];
    if (this.isGridLoop(s)) {
      let inner = s.body;
      // A loop whose extent reads an outer loop variable (a triangular nest) cannot be
      // part of a grid: grid(...)'s extents are evaluated before any of its variables exist.
      while (this.isGridLoop(inner) && !nest.some((l) => usesVar((inner as For).extent, l.loopVar))) {
        nest.push(inner);
        inner = inner.body;
      }
    }
    for (const l of nest) this.loops.set(l.loopVar, l);
    if (nest.length > 1) {
      const extents = nest.map((l) => this.prim.index(l.extent));
      const vars = nest.map((l) => this.names.define(l.loopVar, l.loopVar.name));
      out.push(`${pad}for ${vars.join(', ')} in grid(${extents.join(', ')}) {`);
    } else {
      const dtype = s.loopVar.dtype;
      const dom = this.domain(s.min, s.extent, dtype);
      const v = this.names.define(s.loopVar, s.loopVar.name);
      const typed = dtype === INDEX_DTYPE ? v : `${v}: ${shortName(dtype)}`;
      const kind = s.forKind === 'serial' ? 'range' : s.forKind;
      const args = s.forKind === 'thread_binding' ? `${dom}, ${JSON.stringify(s.thread)}` : dom;
      const attrs = printAttrs(s.annotations);
      out.push(`${pad}for ${typed} in ${kind}(${args})${attrs ? ` ${attrs}` : ''} {`);
    }
    this.stmts(nest[nest.length - 1]!.body, depth + 1, out);
    out.push(`${pad}}`);
    for (const l of nest) this.loops.delete(l.loopVar);
  }

  /** `extent`, `start, stop` for constant ends, or `min +: extent`. */
  private domain(min: PrimExpr, extent: PrimExpr, dtype = INDEX_DTYPE): string {
    if (min.kind === 'int' && min.value === 0) return this.prim.print(extent, dtype);
    if (min.kind === 'int' && extent.kind === 'int' && min.dtype === extent.dtype) {
      return `${this.prim.print(min, dtype)}, ${this.prim.print({ ...extent, value: min.value + extent.value }, dtype)}`;
    }
    return `${this.prim.print(min, dtype)} +: ${this.prim.print(extent, dtype)}`;
  }

  private blockRealize(s: BlockRealize, depth: number, out: string[]): void {
    const pad = INDENT.repeat(depth);
    const inner = INDENT.repeat(depth + 1);
    const b = s.block;
    const iters = b.iterVars.map((iv, i) => this.iterBinding(iv, s.iterValues[i]!));
    out.push(`${pad}block ${printLabel(b.name)}(${iters.join(', ')}) {`);
    if (!(s.predicate.kind === 'bool' && s.predicate.value)) out.push(`${inner}where ${this.prim.print(s.predicate)}`);
    const inferred = inferBlockRegions(b);
    if (!regionsEqual(inferred.reads, b.reads)) out.push(`${inner}reads(${b.reads.map((r) => this.region(r)).join(', ')})`);
    if (!regionsEqual(inferred.writes, b.writes)) out.push(`${inner}writes(${b.writes.map((r) => this.region(r)).join(', ')})`);
    const attrs = printAttrs(b.annotations);
    if (attrs) out.push(`${inner}${attrs}`);
    if (b.init) {
      const lines: string[] = [];
      this.stmts(b.init, depth + 2, lines);
      if (lines.length === 1) out.push(`${inner}init { ${lines[0]!.trim()} }`);
      else out.push(`${inner}init {`, ...lines, `${inner}}`);
    }
    this.stmts(b.body, depth + 1, out);
    out.push(`${pad}}`);
  }

  private iterBinding(iv: IterVar, value: PrimExpr): string {
    const dtype = iv.var.dtype;
    const valueText = this.prim.print(value, dtype);
    const name = this.names.define(iv.var, iv.var.name);
    const typed = dtype === INDEX_DTYPE ? name : `${name}: ${shortName(dtype)}`;
    const loop = value.kind === 'var' ? this.loops.get(value) : undefined;
    const short =
      loop !== undefined &&
      loop.min.kind === 'int' &&
      loop.min.value === 0 &&
      iv.dom.min.kind === 'int' &&
      iv.dom.min.value === 0 &&
      loop.loopVar.dtype === dtype &&
      atomKey(loop.extent) === atomKey(iv.dom.extent);
    if (short) return `${typed} = ${iv.iterKind}(${valueText})`;
    const dom =
      iv.dom.min.kind === 'int' && iv.dom.min.value === 0
        ? this.prim.print(iv.dom.extent, dtype)
        : `${this.prim.print(iv.dom.min, dtype)} +: ${this.prim.print(iv.dom.extent, dtype)}`;
    return `${typed} = ${iv.iterKind}(${dom}, ${valueText})`;
  }

  private region(r: BufferRegion): string {
    const name = this.names.nameOf(r.buffer, r.buffer.name);
    const dims = r.region.map((rg) => this.range(rg));
    return `${name}[${dims.join(', ')}]`;
  }

  /** A point `i`, `0:n`, `2:5` for constant ends, or `min +: extent`. */
  private range(r: Range): string {
    if (r.extent.kind === 'int' && r.extent.value === 1) return this.prim.print(r.min);
    if (r.min.kind === 'int' && r.min.value === 0) return `0:${this.prim.print(r.extent)}`;
    if (r.min.kind === 'int' && r.extent.kind === 'int' && r.min.dtype === r.extent.dtype) {
      return `${this.prim.print(r.min)}:${this.prim.print({ ...r.extent, value: r.min.value + r.extent.value })}`;
    }
    return `${this.prim.print(r.min)} +: ${this.prim.print(r.extent)}`;
  }
}

function regionsEqual(a: readonly BufferRegion[], b: readonly BufferRegion[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (r, i) =>
        r.buffer === b[i]!.buffer &&
        r.region.length === b[i]!.region.length &&
        r.region.every(
          (x, j) => atomKey(x.min) === atomKey(b[i]!.region[j]!.min) && atomKey(x.extent) === atomKey(b[i]!.region[j]!.extent),
        ),
    )
  );
}

/** A block name: bare when it is an identifier, quoted otherwise. */
export function printLabel(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : JSON.stringify(name);
}
