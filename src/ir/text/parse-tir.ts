/** Parsing PrimFuncs and their statements. */
import { M } from '../../support/messages.ts';
import { Analyzer } from '../arith/analyzer.ts';
import { NO_ATTRS } from '../attrs.ts';
import { type DataType, INDEX_DTYPE, isInt, parseDataType } from '../dtype.ts';
import { boolImm, intImm, type PrimExpr, type PrimVar, primVar, sub } from '../prim/expr.ts';
import { type Buffer, buffer, type StorageScope } from '../tir/buffer.ts';
import { inferBlockRegions } from '../tir/regions.ts';
import {
  allocate,
  blockRealize,
  type BufferRegion,
  evaluate,
  type For,
  type ForKind,
  forLoop,
  ifThenElse,
  type IterVar,
  letStmt,
  type PrimFunc,
  primFunc,
  type PrimParam,
  type Range,
  seq,
  type Stmt,
  store,
  THREAD_TAGS,
  type ThreadTag,
} from '../tir/stmt.ts';
import type { Cursor } from './cursor.ts';
import type { Token } from './lexer.ts';
import { recordLocation } from './locations.ts';
import { PrimParser, type PrimScope } from './parse-prim.ts';

type Entry = PrimVar | Buffer;

/** Nested lexical scopes of one function. */
export class Scopes implements PrimScope {
  private readonly stack: Map<string, Entry>[] = [new Map<string, Entry>()];

  lookup(name: string): Entry | undefined {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const hit = this.stack[i]!.get(name);
      if (hit) return hit;
    }
    return undefined;
  }

  bind(name: string, e: Entry): void {
    this.stack[this.stack.length - 1]!.set(name, e);
  }

  push(): void {
    this.stack.push(new Map());
  }

  pop(): void {
    this.stack.pop();
  }
}

const LOOP_KINDS: Record<string, ForKind> = {
  range: 'serial',
  parallel: 'parallel',
  vectorized: 'vectorized',
  unrolled: 'unrolled',
  thread_binding: 'thread_binding',
};

export class TirParser {
  private readonly scopes = new Scopes();
  private readonly loops = new Map<PrimVar, For | { min: PrimExpr; extent: PrimExpr }>();
  private readonly analyzer = new Analyzer();

  constructor(private readonly c: Cursor) {}

  /** Types of the scalar parameters of the function being parsed, known before its buffers. */
  private scalarTypes = new Map<string, DataType>();

  /** Whether the function being parsed is lowered (flat buffer indices). */
  private flat = false;

  private prim(define = false): PrimParser {
    if (!define) return new PrimParser(this.c, this.flat ? { lookup: (n) => this.scopes.lookup(n), flat: true } : this.scopes);
    return new PrimParser(this.c, {
      lookup: (n) => this.scopes.lookup(n),
      define: (n) => {
        // A dimension named like a scalar parameter written later is that parameter, with its type.
        const v = primVar(n, this.scalarTypes.get(n) ?? INDEX_DTYPE);
        this.scopes.bind(n, v);
        return v;
      },
    });
  }

  /** After `prim_func NAME`. */
  primFunc(): PrimFunc {
    this.c.expect('(');
    this.scalarTypes = this.lookAheadScalarParams();
    const params: PrimParam[] = [];
    while (!this.c.at(')')) {
      const nameTok = this.c.expectName();
      this.c.expect(':');
      const dtypeTok = this.c.peek();
      const dtype = this.dtype();
      if (this.c.at('[')) {
        const b = this.bufferRest(nameTok.text, dtype, true);
        if (this.scopes.lookup(nameTok.text))
          this.c.fail(M.duplicateDefinition, { what: 'parameter', name: nameTok.text }, nameTok);
        this.scopes.bind(nameTok.text, b);
        params.push(b);
      } else {
        // A scalar parameter; it may already stand in a buffer's shape.
        const existing = this.scopes.lookup(nameTok.text);
        if (existing?.kind === 'buffer') this.c.fail(M.duplicateDefinition, { what: 'parameter', name: nameTok.text }, nameTok);
        if (existing && existing.dtype !== dtype) {
          this.c.fail(M.typeMismatch, { what: `parameter ${nameTok.text}`, expected: existing.dtype, found: dtype }, dtypeTok);
        }
        const v = existing ?? primVar(nameTok.text, dtype);
        this.scopes.bind(nameTok.text, v);
        params.push(v);
      }
      if (!this.c.accept(',')) break;
    }
    this.c.expect(')');
    const attrs = this.c.acceptName('attrs') ? (this.c.expect('('), this.c.attrList()) : NO_ATTRS;
    this.flat = attrs.lowered === true;
    const body = this.braced();
    this.flat = false;
    return primFunc(params, body, attrs);
  }

  /** `name: dtype` parameters not followed by `[` (scalars), scanning to the closing `)`. */
  private lookAheadScalarParams(): Map<string, DataType> {
    const out = new Map<string, DataType>();
    let depth = 0;
    for (let k = 0; ; k++) {
      const t = this.c.peek(k);
      if (t.kind === 'eof') break;
      if (t.kind === 'punct' && (t.text === '(' || t.text === '[')) depth++;
      else if (t.kind === 'punct' && (t.text === ')' || t.text === ']')) {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && t.kind === 'name' && this.c.at(':', k + 1)) {
        const d = parseDataType(this.c.peek(k + 2).text);
        if (d && (this.c.at(',', k + 3) || this.c.at(')', k + 3))) out.set(t.text, d);
      }
    }
    return out;
  }

  private dtype(): DataType {
    const t = this.c.expectName();
    const d = parseDataType(t.text);
    if (!d) this.c.fail(M.unknownName, { what: 'dtype', name: t.text }, t);
    return d;
  }

  /** `[dims] strides(...) scope` after the dtype. */
  private bufferRest(name: string, dtype: DataType, defineVars: boolean): Buffer {
    this.c.expect('[');
    const shape: PrimExpr[] = [];
    while (!this.c.at(']')) {
      shape.push(this.prim(defineVars).index());
      if (!this.c.accept(',')) break;
    }
    this.c.expect(']');
    let strides: PrimExpr[] = [];
    if (this.c.acceptName('strides')) {
      this.c.expect('(');
      strides = [];
      while (!this.c.at(')')) {
        strides.push(this.prim(defineVars).index());
        if (!this.c.accept(',')) break;
      }
      this.c.expect(')');
    }
    let scope: StorageScope = 'global';
    for (const s of ['global', 'shared', 'local'] as const) if (this.c.acceptName(s)) scope = s;
    return buffer(name, shape, dtype, { strides, scope });
  }

  /** `{ stmts }` in a new scope. */
  private braced(): Stmt {
    this.c.expect('{');
    this.scopes.push();
    const body = this.stmtsUntilBrace();
    this.scopes.pop();
    this.c.expect('}');
    return body;
  }

  private stmtsUntilBrace(): Stmt {
    const out: Stmt[] = [];
    while (!this.c.at('}')) {
      if (this.c.peek().kind === 'eof') this.c.error("'}'");
      // alloc and let without braces take the rest of the sequence as their body
      out.push(this.stmt());
    }
    return seq(out);
  }

  private stmt(): Stmt {
    const t = this.c.peek();
    // An IR factory that rejects what was written throws without a place: give it the statement's.
    return recordLocation(
      this.c.located(t, () => this.stmtAt(t)),
      this.c.location(t),
    );
  }

  private stmtAt(t: Token): Stmt {
    if (t.kind !== 'name') return this.c.error('a statement');
    switch (t.text) {
      case 'for':
        return this.forStmt();
      case 'block':
        return this.blockStmt();
      case 'alloc':
        return this.allocStmt();
      case 'let':
        return this.letStmt();
      case 'if':
        return this.ifStmt();
      case 'eval': {
        this.c.next();
        return evaluate(this.prim().parse());
      }
      default:
        return this.storeStmt();
    }
  }

  private storeStmt(): Stmt {
    const t = this.c.expectName();
    const b = this.scopes.lookup(t.text);
    if (!b) this.c.fail(M.unknownName, { what: 'buffer', name: t.text }, t);
    if (b.kind !== 'buffer') this.c.error(`a statement ('${t.text}' is a variable, not a buffer)`, t);
    this.c.expect('[');
    const indices: PrimExpr[] = [];
    while (!this.c.at(']')) {
      indices.push(this.prim().parse());
      if (!this.c.accept(',')) break;
    }
    this.c.expect(']');
    const eq = this.c.expect('=');
    const value = this.prim().parse(b.dtype);
    return this.c.located(eq, () => {
      if (indices.length !== b.shape.length && !(this.flat && indices.length === 1)) {
        const expected = this.flat ? `${b.shape.length} indices or one flat offset` : `${b.shape.length} indices`;
        return this.c.fail(M.typeMismatch, { what: `store to ${t.text}`, expected, found: String(indices.length) }, t);
      }
      if (value.dtype !== b.dtype) {
        return this.c.fail(M.typeMismatch, { what: `store to ${t.text}`, expected: b.dtype, found: value.dtype }, eq);
      }
      return store(b, indices, value);
    });
  }

  /** The body of alloc/let: braced, or the rest of the enclosing sequence. */
  private scopedBody(): Stmt {
    if (this.c.at('{')) return this.braced();
    this.scopes.push();
    const rest = this.stmtsUntilBrace();
    this.scopes.pop();
    return rest;
  }

  private allocStmt(): Stmt {
    this.c.next();
    const name = this.c.expectName();
    this.c.expect(':');
    const b = this.bufferRest(name.text, this.dtype(), false);
    this.scopes.push();
    this.scopes.bind(name.text, b);
    const body = this.scopedBody();
    this.scopes.pop();
    return allocate(b, body);
  }

  private letStmt(): Stmt {
    this.c.next();
    const name = this.c.expectName();
    const declared = this.c.accept(':') ? this.dtype() : undefined;
    this.c.expect('=');
    const value = this.prim().parse(declared);
    const v = primVar(name.text, value.dtype);
    this.scopes.push();
    this.scopes.bind(name.text, v);
    const body = this.scopedBody();
    this.scopes.pop();
    return letStmt(v, value, body);
  }

  private ifStmt(): Stmt {
    this.c.next();
    const cond = this.prim().parse('bool');
    const then = this.braced();
    if (!this.c.acceptName('else')) return ifThenElse(cond, then);
    const otherwise = this.c.atName('if') ? this.ifStmt() : this.braced();
    return ifThenElse(cond, then, otherwise);
  }

  private forStmt(): Stmt {
    this.c.next();
    const names = [this.c.expectName()];
    let dtype: DataType = INDEX_DTYPE;
    if (this.c.accept(':')) dtype = this.dtype();
    while (this.c.accept(',')) names.push(this.c.expectName());
    this.c.expectName('in');
    const kindTok = this.c.expectName();
    if (kindTok.text === 'grid') {
      this.c.expect('(');
      const extents: PrimExpr[] = [];
      while (!this.c.at(')')) {
        extents.push(this.bound(dtype));
        if (!this.c.accept(',')) break;
      }
      this.c.expect(')');
      if (extents.length !== names.length) {
        this.c.fail(
          M.typeMismatch,
          { what: 'grid', expected: `${names.length} extents`, found: String(extents.length) },
          kindTok,
        );
      }
      this.scopes.push();
      const vars = names.map((n) => {
        const v = primVar(n.text, dtype);
        this.scopes.bind(n.text, v);
        return v;
      });
      vars.forEach((v, i) => this.loops.set(v, { min: intImm(0, dtype), extent: extents[i]! }));
      let body = this.braced();
      this.scopes.pop();
      const at = this.c.location(names[0]);
      for (let i = vars.length - 1; i >= 0; i--)
        body = recordLocation(forLoop(vars[i]!, intImm(0, dtype), extents[i]!, body), at);
      vars.forEach((v) => this.loops.delete(v));
      return body;
    }
    const forKind = LOOP_KINDS[kindTok.text];
    if (!forKind) this.c.error('a loop kind (grid, range, parallel, vectorized, unrolled, thread_binding)', kindTok);
    if (names.length > 1) this.c.error("'grid' for several loop variables", kindTok);
    this.c.expect('(');
    const dom = this.domain(dtype, true);
    let thread: ThreadTag | undefined;
    if (forKind === 'thread_binding') {
      this.c.expect(',');
      const tagTok = this.c.expectString();
      if (!(THREAD_TAGS as readonly string[]).includes(tagTok.text)) {
        this.c.fail(M.unknownName, { what: 'thread tag', name: tagTok.text }, tagTok, [
          `expected one of ${THREAD_TAGS.join(', ')}`,
        ]);
      }
      thread = tagTok.text as ThreadTag;
    }
    this.c.expect(')');
    const annotations = this.c.acceptName('attrs') ? (this.c.expect('('), this.c.attrList()) : NO_ATTRS;
    const v = primVar(names[0]!.text, dtype);
    this.scopes.push();
    this.scopes.bind(v.name, v);
    this.loops.set(v, dom);
    const body = this.braced();
    this.loops.delete(v);
    this.scopes.pop();
    return forLoop(v, dom.min, dom.extent, body, { forKind, ...(thread ? { thread } : {}), annotations });
  }

  /** `extent`, `start, stop` (loops only) or `min +: extent`. */
  private domain(dtype: DataType, allowStartStop: boolean): Range {
    const first = this.bound(dtype);
    if (this.c.accept('+:')) return { min: first, extent: this.bound(dtype) };
    if (allowStartStop && this.c.at(',') && !(this.c.peek(1).kind === 'string')) {
      this.c.next();
      const stopTok = this.c.peek();
      const stop = this.bound(dtype);
      return { min: first, extent: this.c.located(stopTok, () => this.extentBetween(first, stop)) };
    }
    return { min: intImm(0, dtype), extent: first };
  }

  /** One end or the extent of a range: an integer expression (a float literal there is a mistake). */
  private bound(dtype: DataType): PrimExpr {
    const t = this.c.peek();
    const e = this.prim().parse(dtype);
    if (!isInt(e.dtype)) this.c.fail(M.typeMismatch, { what: 'range', expected: 'an integer expression', found: e.dtype }, t);
    return e;
  }

  private extentBetween(start: PrimExpr, stop: PrimExpr): PrimExpr {
    if (start.kind === 'int' && start.value === 0) return stop;
    if (start.kind === 'int' && stop.kind === 'int') return intImm(stop.value - start.value, stop.dtype);
    return this.analyzer.simplify(sub(stop, start));
  }

  private blockStmt(): Stmt {
    this.c.next();
    const nameTok = this.c.peek();
    const name = nameTok.kind === 'string' ? this.c.next().text : this.c.expectName().text;
    this.c.expect('(');
    const iterVars: IterVar[] = [];
    const values: PrimExpr[] = [];
    const defs: PrimVar[] = [];
    while (!this.c.at(')')) {
      const ivName = this.c.expectName();
      const dtype = this.c.accept(':') ? this.dtype() : INDEX_DTYPE;
      this.c.expect('=');
      const kindTok = this.c.expectName();
      if (kindTok.text !== 'spatial' && kindTok.text !== 'reduce') this.c.error("'spatial' or 'reduce'", kindTok);
      this.c.expect('(');
      const firstTok = this.c.peek();
      const first = this.domain(dtype, false);
      let dom: Range;
      let value: PrimExpr;
      if (this.c.accept(',')) {
        dom = first;
        value = this.prim().parse(dtype);
      } else {
        value = first.extent;
        const loop = value.kind === 'var' ? this.loops.get(value) : undefined;
        if (!loop || !(loop.min.kind === 'int' && loop.min.value === 0)) {
          this.c.fail(M.cannotInferDomain, { name: ivName.text }, firstTok);
        }
        dom = { min: intImm(0, dtype), extent: loop.extent };
      }
      this.c.expect(')');
      const v = primVar(ivName.text, dtype);
      defs.push(v);
      iterVars.push({ var: v, dom, iterKind: kindTok.text });
      values.push(value);
      if (!this.c.accept(',')) break;
    }
    this.c.expect(')');
    this.c.expect('{');
    // The predicate belongs to the realize: it speaks of the loops around the block, not its iterators.
    let predicate: PrimExpr = boolImm(true);
    if (this.c.acceptName('where')) predicate = this.prim().parse('bool');
    this.scopes.push();
    for (const v of defs) this.scopes.bind(v.name, v);
    let reads: BufferRegion[] | undefined;
    let writes: BufferRegion[] | undefined;
    if (this.c.atName('reads') && this.c.at('(', 1)) {
      this.c.next();
      reads = this.regions();
    }
    if (this.c.atName('writes') && this.c.at('(', 1)) {
      this.c.next();
      writes = this.regions();
    }
    const annotations =
      this.c.atName('attrs') && this.c.at('(', 1) ? (this.c.next(), this.c.expect('('), this.c.attrList()) : NO_ATTRS;
    let init: Stmt | undefined;
    if (this.c.atName('init') && this.c.at('{', 1)) {
      this.c.next();
      init = this.braced();
    }
    const body = this.stmtsUntilBrace();
    this.c.expect('}');
    this.scopes.pop();
    const draft = { name, iterVars, reads: [], writes: [], ...(init ? { init } : {}), body, annotations };
    const inferred = reads && writes ? undefined : inferBlockRegions(draft);
    return blockRealize(values, { ...draft, reads: reads ?? inferred!.reads, writes: writes ?? inferred!.writes }, predicate);
  }

  private regions(): BufferRegion[] {
    this.c.expect('(');
    const out: BufferRegion[] = [];
    while (!this.c.at(')')) {
      const t = this.c.expectName();
      const b = this.scopes.lookup(t.text);
      if (b?.kind !== 'buffer') this.c.fail(M.unknownName, { what: 'buffer', name: t.text }, t);
      this.c.expect('[');
      const region: Range[] = [];
      while (!this.c.at(']')) {
        region.push(this.regionRange());
        if (!this.c.accept(',')) break;
      }
      this.c.expect(']');
      out.push({ buffer: b, region });
      if (!this.c.accept(',')) break;
    }
    this.c.expect(')');
    return out;
  }

  private regionRange(): Range {
    const first = this.prim().parse();
    if (this.c.accept('+:')) return { min: first, extent: this.prim().parse() };
    if (this.c.accept(':')) {
      const stop = this.prim().parse();
      return { min: first, extent: this.extentBetween(first, stop) };
    }
    return { min: first, extent: intImm(1, first.dtype) };
  }
}
