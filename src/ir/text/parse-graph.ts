/** Parsing graph functions, extern declarations, struct info and graph expressions. */
import { M } from '../../support/messages.ts';
import { type AttrMap, NO_ATTRS } from '../attrs.ts';
import { type Blob, blobFromBytes, isHash, unresolvedBlob } from '../blob.ts';
import { byteSize, type DataType, parseDataType } from '../dtype.ts';
import {
  type Binding,
  bindingBlock,
  type BindingBlock,
  callDPSPacked,
  callTIR,
  constant,
  type Expr,
  type ExternFunc,
  externFunc,
  type GraphFunc,
  graphFunc,
  type GraphVar,
  graphVar,
  globalCall,
  ifExpr,
  intrinsicSinfo,
  isLeaf,
  matchCast,
  opCall,
  primValue,
  type SeqExpr,
  seqExpr,
  type ShapeExpr,
  shapeExpr,
  stringImm,
  tuple,
  tupleGet,
  varBinding,
} from '../graph/expr.ts';
import {
  funcSI,
  OBJECT_SI,
  primSI,
  shapeSI,
  type StructInfo,
  tensorSI,
  type TensorStructInfo,
  type TupleStructInfo,
  tupleSI,
} from '../graph/struct-info.ts';
import { type PrimExpr, type PrimVar, primVar } from '../prim/expr.ts';
import { type ElementValue, encodeValues } from '../tensor-data.ts';
import type { Cursor } from './cursor.ts';
import { EOF, NAME, type Token } from './lexer.ts';
import { recordLocation } from './locations.ts';
import { PrimParser } from './parse-prim.ts';
import type { OpHooks } from '../graph/op-hooks.ts';

/** inferOp serves bindings written without an annotation; normalizeAttrs fills in attribute defaults. */
export interface GraphParseOptions extends OpHooks {
  /** Bytes of a constant given by hash; without it such constants are unresolved references. */
  readonly resolveBlob?: (hash: string, byteLength: number) => Blob;
}

/** A reference to a global function, checked once the whole module is read. */
export interface GlobalRef {
  readonly name: string;
  readonly want: 'prim_func' | 'callable';
  readonly tok: Token;
}

type Entry = GraphVar | PrimVar;

export class GraphParser {
  private readonly scopes: Map<string, Entry>[] = [new Map<string, Entry>()];
  /** Dataflow variables whose block is still open. */
  private readonly openDataflow = new Set<GraphVar>();

  constructor(
    private readonly c: Cursor,
    private readonly options: GraphParseOptions,
    private readonly refs: GlobalRef[],
  ) {}

  // --- scopes --------------------------------------------------------------------------

  private lookup(name: string): Entry | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const hit = this.scopes[i]!.get(name);
      if (hit) return hit;
    }
    return undefined;
  }

  private bind(name: string, e: Entry, tok: Token): void {
    const top = this.scopes[this.scopes.length - 1]!;
    if (this.lookup(name) !== undefined) this.c.fail(M.duplicateDefinition, { what: 'variable', name }, tok);
    top.set(name, e);
  }

  private prim(define: boolean): PrimParser {
    return new PrimParser(this.c, {
      lookup: (n) => {
        const e = this.lookup(n);
        return e?.kind === 'var' ? e : undefined;
      },
      ...(define
        ? {
            define: (n: string) => {
              const v = primVar(n);
              this.scopes[this.scopes.length - 1]!.set(n, v);
              return v;
            },
          }
        : {}),
    });
  }

  // --- functions -------------------------------------------------------------------------

  /** After `func NAME`. */
  func(): GraphFunc {
    this.c.expect('(');
    const params: GraphVar[] = [];
    while (!this.c.at(')')) {
      const t = this.c.expectName();
      this.c.expect(':');
      const v = recordLocation(graphVar(t.text, this.sinfo(true)), this.c.location(t));
      this.bind(t.text, v, t);
      params.push(v);
      if (!this.c.accept(',')) break;
    }
    this.c.expect(')');
    this.c.expect('->');
    const ret = this.sinfo(false);
    const attrs = this.c.acceptName('attrs') ? (this.c.expect('('), this.c.attrList()) : NO_ATTRS;
    this.c.expect('{');
    const blocks = this.items(() => this.c.atName('return'));
    this.c.expectName('return');
    const result = this.expr();
    this.c.expect('}');
    return graphFunc(params, seqExpr(blocks, result), ret, attrs);
  }

  /** After `extern_func NAME`: `: Callable[...] = "symbol"`. */
  extern(): ExternFunc {
    this.c.expect(':');
    const t = this.c.peek();
    const s = this.sinfo(true);
    if (s.kind !== 'func') this.c.error('a Callable[...] struct info', t);
    this.c.expect('=');
    return externFunc(this.c.expectString().text, s);
  }

  /** Bindings and dataflow blocks until `stop()`. */
  private items(stop: () => boolean): BindingBlock[] {
    const blocks: BindingBlock[] = [];
    let plain: Binding[] = [];
    while (!stop()) {
      if (this.c.peek().kind === 'eof' || this.c.at('}')) this.c.error("'return'");
      if (this.c.atName('dataflow') && this.c.at('{', 1)) {
        if (plain.length > 0) blocks.push(bindingBlock(plain));
        plain = [];
        blocks.push(this.dataflowBlock());
      } else {
        plain.push(this.binding(false, undefined));
      }
    }
    if (plain.length > 0) blocks.push(bindingBlock(plain));
    return blocks;
  }

  private dataflowBlock(): BindingBlock {
    this.c.next();
    this.c.expect('{');
    const outputs = this.dataflowOutputs();
    const bindings: Binding[] = [];
    while (!this.c.at('}') && !this.c.atName('output')) bindings.push(this.binding(true, outputs));
    if (this.c.acceptName('output')) {
      do this.c.expectName();
      while (this.c.accept(','));
    }
    this.c.expect('}');
    for (const b of bindings) this.openDataflow.delete(b.var);
    return bindingBlock(bindings, true);
  }

  /**
   * The names a dataflow block exposes: those of its `output` line, or when it
   * has none, those used after the block.
   */
  private dataflowOutputs(): Set<string> {
    const toks = this.c.tokens;
    let i = this.c.pos;
    let depth = 0;
    const bound = new Set<string>();
    for (; i < toks.count; i++) {
      const kind = toks.kinds[i];
      if (kind === EOF) return bound;
      if (toks.isPunct(i, '{') || toks.isPunct(i, '(') || toks.isPunct(i, '[')) depth++;
      else if (toks.isPunct(i, '}') || toks.isPunct(i, ')') || toks.isPunct(i, ']')) {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && kind === NAME && toks.newlines[i] === 1) {
        if (toks.isName(i, 'output')) {
          const out = new Set<string>();
          for (let j = i + 1; j < toks.count && toks.kinds[j] === NAME; j += 2) {
            out.add(toks.text(j));
            if (!(j + 1 < toks.count && toks.isPunct(j + 1, ','))) break;
          }
          return out;
        }
        bound.add(toks.text(i));
      }
    }
    // No output line: the names used after the block, up to the end of the enclosing scope.
    const used = new Set<string>();
    depth = 0;
    for (i++; i < toks.count; i++) {
      if (toks.isPunct(i, '{')) depth++;
      else if (toks.isPunct(i, '}')) {
        if (depth === 0) break;
        depth--;
      } else if (toks.kinds[i] === NAME) {
        const name = toks.text(i);
        if (bound.has(name)) used.add(name);
      }
    }
    return used;
  }

  private binding(inDataflow: boolean, outputs: Set<string> | undefined): Binding {
    // An IR factory that rejects what was written throws without a place: give it the binding's.
    return this.c.located(this.c.peek(), () => this.bindingAt(inDataflow, outputs));
  }

  private bindingAt(inDataflow: boolean, outputs: Set<string> | undefined): Binding {
    const nameTok = this.c.expectName();
    const annotated = this.c.accept(':') ? this.sinfo(false) : undefined;
    this.c.expect('=');
    const dataflow = inDataflow && !outputs!.has(nameTok.text);
    if (this.c.atName('match_cast') && this.c.at('(', 1)) {
      this.c.next();
      this.c.expect('(');
      const value = this.expr();
      this.c.expect(',');
      const target = this.sinfo(true);
      this.c.expect(')');
      const v = recordLocation(graphVar(nameTok.text, target, dataflow), this.c.location(nameTok));
      this.bind(nameTok.text, v, nameTok);
      if (dataflow) this.openDataflow.add(v);
      return matchCast(v, value);
    }
    const valueTok = this.c.peek();
    const value = this.expr();
    const sinfo = annotated ?? this.inferSinfo(value, nameTok, valueTok);
    const v = recordLocation(graphVar(nameTok.text, sinfo, dataflow), this.c.location(nameTok));
    this.bind(nameTok.text, v, nameTok);
    if (dataflow) this.openDataflow.add(v);
    return varBinding(v, value);
  }

  private inferSinfo(value: Expr, nameTok: Token, valueTok: Token): StructInfo {
    const own = intrinsicSinfo(value);
    if (own) return own;
    if (value.kind === 'call' && this.options.inferOp) {
      const infer = this.options.inferOp;
      const args = value.args.map((a) => intrinsicSinfo(a)!);
      return this.c.located(valueTok, () => infer(value.op, args, value.attrs));
    }
    return this.c.fail(M.missingStructInfo, { name: nameTok.text }, nameTok);
  }

  // --- expressions ----------------------------------------------------------------------

  expr(): Expr {
    let e = this.primary();
    while (this.c.at('[') && !this.c.peek().newlineBefore) {
      this.c.next();
      const t = this.c.peek();
      if (t.kind !== 'int') this.c.error('a tuple index');
      this.c.next();
      this.c.expect(']');
      e = tupleGet(e, Number(t.text));
    }
    return e;
  }

  private primary(): Expr {
    const t = this.c.peek();
    if (t.kind === 'string') {
      this.c.next();
      return stringImm(t.text);
    }
    if (this.c.accept('(')) {
      const fields: Expr[] = [];
      let trailingComma = false;
      while (!this.c.at(')')) {
        fields.push(this.expr());
        trailingComma = false;
        if (!this.c.accept(',')) break;
        trailingComma = true;
      }
      this.c.expect(')');
      return fields.length === 1 && !trailingComma ? fields[0]! : tuple(fields);
    }
    if (this.c.accept('@')) {
      const name = this.c.expectName();
      this.refs.push({ name: name.text, want: 'callable', tok: name });
      const { args, attrs } = this.callArgs('@' + name.text);
      if (Object.keys(attrs).length > 0) this.c.error(`an argument (calls of global functions take no attributes)`, name);
      return globalCall(name.text, args);
    }
    if (t.kind !== 'name') return this.c.error('an expression');
    const callNext = this.c.at('(', 1) && !this.c.peek(1).newlineBefore;
    switch (t.text) {
      case 'const':
        if (callNext) return this.constant();
        break;
      case 'shape':
        if (callNext) return this.shapeValue();
        break;
      case 'prim':
        if (callNext) {
          this.c.next();
          this.c.expect('(');
          const v = this.prim(false).parse();
          this.c.expect(')');
          return primValue(v);
        }
        break;
      case 'call_tir':
        if (callNext) return this.callTIR();
        break;
      case 'call_dps_packed':
        if (callNext) return this.callDPS();
        break;
      case 'if':
        return this.ifValue();
    }
    this.c.next();
    // A name right before '(' is an operator, even where a value of that name is in scope
    // (an ONNX input named 'mean' beside the mean operator): values are never called.
    if (callNext) {
      const { args, attrs } = this.callArgs(t.text);
      const normalize = this.options.normalizeAttrs;
      return opCall(t.text, args, normalize ? this.c.located(t, () => normalize(t.text, attrs)) : attrs);
    }
    const local = this.lookup(t.text);
    if (local === undefined) return this.c.fail(M.unknownName, { what: 'variable', name: t.text }, t);
    if (local.kind === 'var') this.c.error(`a graph value ('${t.text}' is a symbolic variable; write prim(${t.text}))`, t);
    if (local.dataflow && !this.openDataflow.has(local)) this.c.fail(M.dataflowEscape, { name: t.text }, t);
    return local;
  }

  /** `(args..., key=value...)` of a call; arguments must be leaves. */
  private callArgs(what: string): { args: Expr[]; attrs: AttrMap } {
    this.c.expect('(');
    const args: Expr[] = [];
    const attrs: Record<string, ReturnType<Cursor['attrValue']>> = {};
    let inAttrs = false;
    while (!this.c.at(')')) {
      if (this.c.peek().kind === 'name' && this.c.at('=', 1)) {
        inAttrs = true;
        const k = this.c.next();
        this.c.next();
        if (Object.hasOwn(attrs, k.text)) this.c.fail(M.duplicateDefinition, { what: 'attribute', name: k.text }, k);
        attrs[k.text] = this.c.attrValue();
      } else {
        if (inAttrs) this.c.error('an attribute (key=value) after the first attribute');
        args.push(this.leaf(`an argument of ${what}`));
      }
      if (!this.c.accept(',')) break;
    }
    this.c.expect(')');
    return { args, attrs };
  }

  private leaf(what: string): Expr {
    const t = this.c.peek();
    const e = this.expr();
    if (!isLeaf(e)) this.c.fail(M.nestedCall, { what }, t);
    return e;
  }

  private argTuple(what: string): Expr[] {
    this.c.expect('(');
    const args: Expr[] = [];
    while (!this.c.at(')')) {
      args.push(this.leaf(what));
      if (!this.c.accept(',')) break;
    }
    this.c.expect(')');
    return args;
  }

  private outSinfo(): TensorStructInfo | TupleStructInfo {
    this.c.expectName('out');
    this.c.expect(':');
    const t = this.c.peek();
    const s = this.sinfo(false);
    if (s.kind !== 'tensor' && s.kind !== 'tuple') this.c.error('a Tensor[...] or Tuple[...] output', t);
    return s;
  }

  private callTIR(): Expr {
    this.c.next();
    this.c.expect('(');
    const name = this.c.expectName();
    this.refs.push({ name: name.text, want: 'prim_func', tok: name });
    this.c.expect(',');
    const args = this.argTuple('an argument of call_tir');
    this.c.expect(',');
    const out = this.outSinfo();
    let tirVars: ShapeExpr | undefined;
    let dst: GraphVar | undefined;
    if (this.c.accept(',')) {
      if (this.c.atName('dst')) dst = this.dstVar();
      else {
        this.c.expectName('tir_vars');
        this.c.expect(':');
        if (!this.c.atName('shape')) this.c.error('shape(...)');
        tirVars = this.shapeValue();
        if (this.c.accept(',')) dst = this.dstVar();
      }
    }
    this.c.expect(')');
    return callTIR(name.text, args, out, tirVars, dst);
  }

  /** `dst: v`: the planned tensor a call_tir writes its output into. */
  private dstVar(): GraphVar {
    this.c.expectName('dst');
    this.c.expect(':');
    if (this.c.peek().kind !== 'name') this.c.error('a variable (the dst of call_tir)');
    const e = this.leaf('the dst of call_tir');
    if (e.kind !== 'graph_var') this.c.error('a variable (the dst of call_tir)');
    return e;
  }

  private callDPS(): Expr {
    this.c.next();
    this.c.expect('(');
    const symbol = this.c.expectString().text;
    this.c.expect(',');
    const args = this.argTuple('an argument of call_dps_packed');
    this.c.expect(',');
    const out = this.outSinfo();
    this.c.expect(')');
    return callDPSPacked(symbol, args, out);
  }

  private shapeValue(): ShapeExpr {
    this.c.next();
    this.c.expect('(');
    const values: PrimExpr[] = [];
    while (!this.c.at(')')) {
      values.push(this.prim(false).index());
      if (!this.c.accept(',')) break;
    }
    this.c.expect(')');
    return shapeExpr(values);
  }

  private ifValue(): Expr {
    this.c.next();
    const condTok = this.c.peek();
    const cond = this.leaf('the condition of if');
    if (!isLeaf(cond)) this.c.fail(M.nestedCall, { what: 'the condition of if' }, condTok);
    const then = this.branch();
    this.c.expectName('else');
    const otherwise = this.branch();
    return ifExpr(cond, then, otherwise);
  }

  private branch(): SeqExpr {
    this.c.expect('{');
    this.scopes.push(new Map());
    const blocks = this.items(() => !this.atBindingStart());
    const result = this.expr();
    this.scopes.pop();
    this.c.expect('}');
    return seqExpr(blocks, result);
  }

  private atBindingStart(): boolean {
    if (this.c.atName('dataflow') && this.c.at('{', 1)) return true;
    return this.c.peek().kind === 'name' && (this.c.at('=', 1) || this.c.at(':', 1));
  }

  private constant(): Expr {
    const t = this.c.next();
    this.c.expect('(');
    const dtype = this.dtype();
    this.c.expect('[');
    const shape: number[] = [];
    while (!this.c.at(']')) {
      const d = this.c.peek();
      if (d.kind !== 'int' || !/^\d+$/.test(d.text)) this.c.error('a constant dimension (a non-negative integer)');
      shape.push(Number(this.c.next().text));
      if (!this.c.accept(',')) break;
    }
    this.c.expect(']');
    this.c.expect(',');
    const count = shape.reduce((a, b) => a * b, 1);
    const byteLength = count * byteSize(dtype);
    let blob: Blob;
    const dataTok = this.c.peek();
    if (dataTok.kind === 'string') {
      this.c.next();
      if (!isHash(dataTok.text))
        this.c.fail(M.badConstant, { reason: `'${dataTok.text}' is not a SHA-256 hash (64 hex digits)` }, dataTok);
      blob = this.options.resolveBlob
        ? this.options.resolveBlob(dataTok.text, byteLength)
        : unresolvedBlob(dataTok.text, byteLength);
    } else {
      const values = this.constantValues(dtype);
      if (values.length !== count) {
        this.c.fail(
          M.badConstant,
          { reason: `${dtype}[${shape.join(', ')}] has ${count} elements, ${values.length} were given` },
          dataTok,
        );
      }
      blob = blobFromBytes(encodeValues(values, dtype));
    }
    this.c.expect(')');
    return this.c.located(t, () => constant(blob, dtype, shape));
  }

  private constantValues(dtype: DataType): ElementValue[] {
    this.c.expect('[');
    const out: ElementValue[] = [];
    while (!this.c.at(']')) {
      const neg = this.c.accept('-');
      const t = this.c.next();
      if (t.kind === 'name' && (t.text === 'true' || t.text === 'false') && !neg) out.push(t.text === 'true');
      else if (t.kind === 'name' && (t.text === 'inf' || t.text === 'nan'))
        out.push((neg ? -1 : 1) * (t.text === 'inf' ? Infinity : NaN));
      else if (t.kind === 'int' && /^\d+$/.test(t.text)) {
        out.push(dtype === 'int64' || dtype === 'uint64' ? BigInt(neg ? `-${t.text}` : t.text) : (neg ? -1 : 1) * Number(t.text));
      } else if (t.kind === 'float' && /^[\d.eE+-]+$/.test(t.text)) out.push((neg ? -1 : 1) * Number(t.text));
      else this.c.error('a constant value', t);
      if (!this.c.accept(',')) break;
    }
    this.c.expect(']');
    return out;
  }

  private dtype(): DataType {
    const t = this.c.expectName();
    const d = parseDataType(t.text);
    if (!d) this.c.fail(M.unknownName, { what: 'dtype', name: t.text }, t);
    return d;
  }

  // --- struct info ----------------------------------------------------------------------

  /** Struct info; with `define`, unknown names in shapes define new symbolic variables. */
  sinfo(define: boolean): StructInfo {
    const t = this.c.expectName();
    switch (t.text) {
      case 'Tensor': {
        this.c.expect('[');
        let shape: PrimExpr[] | undefined;
        let ndim = -1;
        if (this.c.at('(')) {
          shape = this.dims(define);
          ndim = shape.length;
          this.c.expect(',');
        } else if (this.c.atName('ndim')) {
          ndim = this.ndim();
          this.c.expect(',');
        }
        const dtype = this.dtype();
        let device: string | undefined;
        if (this.c.accept(',')) {
          this.c.expectName('device');
          this.c.expect('=');
          device = this.c.expectString().text;
        }
        this.c.expect(']');
        return tensorSI(shape ?? (ndim >= 0 ? ndim : undefined), dtype, device);
      }
      case 'Tuple': {
        this.c.expect('[');
        const fields: StructInfo[] = [];
        while (!this.c.at(']')) {
          fields.push(this.sinfo(define));
          if (!this.c.accept(',')) break;
        }
        this.c.expect(']');
        return tupleSI(fields);
      }
      case 'Shape': {
        if (!this.c.accept('[')) return shapeSI(undefined);
        const s = this.c.at('(') ? shapeSI(this.dims(define)) : shapeSI(this.ndim());
        this.c.expect(']');
        return s;
      }
      case 'Prim': {
        this.c.expect('[');
        const dtype = this.dtype();
        let value: PrimExpr | undefined;
        if (this.c.accept(',')) {
          this.c.expectName('value');
          this.c.expect('=');
          value = this.prim(define).parse(dtype);
        }
        this.c.expect(']');
        return primSI(dtype, value);
      }
      case 'Object':
        return OBJECT_SI;
      case 'Callable': {
        this.c.expect('[');
        let params: StructInfo[] | undefined;
        if (this.c.accept('.')) {
          this.c.expect('.');
          this.c.expect('.');
        } else {
          this.c.expect('[');
          params = [];
          while (!this.c.at(']')) {
            params.push(this.sinfo(define));
            if (!this.c.accept(',')) break;
          }
          this.c.expect(']');
        }
        this.c.expect(',');
        const ret = this.sinfo(define);
        this.c.expect(']');
        return funcSI(params, ret);
      }
      default:
        return this.c.error('struct info (Tensor, Tuple, Shape, Prim, Object or Callable)', t);
    }
  }

  private dims(define: boolean): PrimExpr[] {
    this.c.expect('(');
    const out: PrimExpr[] = [];
    while (!this.c.at(')')) {
      out.push(this.prim(define).index());
      if (!this.c.accept(',')) break;
    }
    this.c.expect(')');
    return out;
  }

  private ndim(): number {
    this.c.expectName('ndim');
    this.c.expect('=');
    const t = this.c.peek();
    if (t.kind !== 'int' || !/^\d+$/.test(t.text)) this.c.error('a rank (non-negative integer)');
    return Number(this.c.next().text);
  }
}
