/**
 * Parsing prim expressions in two steps: first a tree where literals have no
 * type yet, then typed expressions, with each unsuffixed literal taking the
 * type of its sibling operands or of its position (see literal.ts).
 */
import { fail, M } from '../../support/messages.ts';
import { type DataType, parseDataType, shortName } from '../dtype.ts';
import {
  binary,
  type BinaryOp,
  boolImm,
  call,
  cast,
  floatImm,
  intImm,
  flatLoad,
  load,
  not,
  type PrimExpr,
  type PrimVar,
  select,
} from '../prim/expr.ts';
import { intrinsicInfo, isIntrinsic, type Intrinsic } from '../prim/intrinsics.ts';
import type { Buffer } from '../tir/buffer.ts';
import type { Cursor } from './cursor.ts';
import type { Token } from './lexer.ts';
import { type LiteralClass, literalType } from './literal.ts';
import { PRECEDENCE } from './print-prim.ts';

/** What a name means where a prim expression is parsed. */
export interface PrimScope {
  lookup(name: string): PrimVar | Buffer | undefined;
  /** When present, an unknown name defines a new variable (parameter shapes, match_cast). */
  define?: (name: string) => PrimVar;
  /** In a lowered PrimFunc, buffers are indexed with one flat element offset. */
  readonly flat?: boolean;
}

type Ast =
  | { k: 'lit'; cls: LiteralClass; value: number; suffix?: DataType; tok: Token }
  | { k: 'typed'; e: PrimExpr }
  | { k: 'bin'; op: BinaryOp; a: Ast; b: Ast; tok: Token }
  | { k: 'not'; a: Ast; tok: Token }
  | { k: 'select'; c: Ast; t: Ast; f: Ast; tok: Token }
  | { k: 'call'; op: Intrinsic; args: Ast[]; tok: Token }
  | { k: 'cast'; dtype: DataType; a: Ast; tok: Token }
  | { k: 'load'; buffer: Buffer; indices: Ast[]; tok: Token };

const BINARY: Record<string, BinaryOp> = {
  '+': 'add',
  '-': 'sub',
  '*': 'mul',
  '/': 'div',
  '//': 'floordiv',
  '%': 'floormod',
  '==': 'eq',
  '!=': 'ne',
  '<': 'lt',
  '<=': 'le',
  '>': 'gt',
  '>=': 'ge',
  '&&': 'and',
  '||': 'or',
  '&': 'bitand',
  '|': 'bitor',
  '^': 'bitxor',
  '<<': 'shl',
  '>>': 'shr',
};

const FUNCTION_OPS: Record<string, BinaryOp> = { min: 'min', max: 'max', truncdiv: 'truncdiv', truncmod: 'truncmod' };

const SPECIAL_FLOAT = /^(inf|nan)(bf16|f16|f32|f64)?$/;

export class PrimParser {
  constructor(
    private readonly c: Cursor,
    private readonly scope: PrimScope,
  ) {}

  /** Parses a prim expression for a position that calls for type `expected`. */
  parse(expected?: DataType): PrimExpr {
    return this.build(this.binary(1), expected);
  }

  /** An integer expression in an index or shape position. */
  index(): PrimExpr {
    return this.parse('int64');
  }

  // --- step 1: untyped tree -----------------------------------------------------------

  private binary(minPrec: number): Ast {
    let left = this.unary();
    for (;;) {
      const t = this.c.peek();
      const prec = t.kind === 'punct' ? PRECEDENCE[t.text] : undefined;
      if (prec === undefined || prec < minPrec) return left;
      this.c.next();
      const right = this.binary(prec + 1);
      if (prec === 3 && this.c.peek().kind === 'punct' && PRECEDENCE[this.c.peek().text] === 3) {
        this.c.error('an operator other than a comparison (comparisons do not chain; use parentheses)');
      }
      left = { k: 'bin', op: BINARY[t.text]!, a: left, b: right, tok: t };
    }
  }

  private unary(): Ast {
    const t = this.c.peek();
    if (this.c.accept('-')) {
      const a = this.unary();
      if (a.k === 'lit') return { ...a, value: -a.value, tok: t };
      return { k: 'bin', op: 'sub', a: { k: 'lit', cls: 'int', value: 0, tok: t }, b: a, tok: t };
    }
    if (this.c.accept('!')) return { k: 'not', a: this.unary(), tok: t };
    return this.primary();
  }

  private primary(): Ast {
    const t = this.c.peek();
    if (t.kind === 'int' || t.kind === 'float') {
      this.c.next();
      return this.literal(t);
    }
    if (this.c.accept('(')) {
      const inner = this.binary(1);
      this.c.expect(')');
      return inner;
    }
    if (t.kind !== 'name') return this.c.error('an expression');
    this.c.next();
    const name = t.text;
    if (name === 'true' || name === 'false') return { k: 'typed', e: boolImm(name === 'true') };
    const special = SPECIAL_FLOAT.exec(name);
    if (special) {
      const suffix = special[2] ? parseDataType(special[2]) : undefined;
      const value = special[1] === 'inf' ? Infinity : NaN;
      return { k: 'lit', cls: 'float', value, ...(suffix ? { suffix } : {}), tok: t };
    }
    const callable = this.c.at('(') && !this.c.peek().newlineBefore;
    if (callable) {
      const dtype = parseDataType(name);
      if (dtype) {
        const [a] = this.args(t, 1);
        return { k: 'cast', dtype, a: a!, tok: t };
      }
      if (name === 'select') {
        const [c, x, y] = this.args(t, 3);
        return { k: 'select', c: c!, t: x!, f: y!, tok: t };
      }
      const fop = FUNCTION_OPS[name];
      if (fop) {
        const [a, b] = this.args(t, 2);
        return { k: 'bin', op: fop, a: a!, b: b!, tok: t };
      }
      if (isIntrinsic(name)) return { k: 'call', op: name, args: this.args(t, intrinsicInfo(name).arity), tok: t };
      if (this.scope.lookup(name) === undefined) this.c.fail(M.unknownName, { what: 'function', name }, t);
    }
    const found = this.scope.lookup(name);
    if (found?.kind === 'buffer') {
      this.c.expect('[');
      const indices: Ast[] = [];
      while (!this.c.at(']')) {
        indices.push(this.binary(1));
        if (!this.c.accept(',')) break;
      }
      this.c.expect(']');
      return { k: 'load', buffer: found, indices, tok: t };
    }
    if (found) return { k: 'typed', e: found };
    if (this.scope.define) return { k: 'typed', e: this.scope.define(name) };
    return this.c.fail(M.unknownName, { what: 'variable', name }, t);
  }

  private args(t: Token, count: number): Ast[] {
    this.c.expect('(');
    const out: Ast[] = [];
    while (!this.c.at(')')) {
      out.push(this.binary(1));
      if (!this.c.accept(',')) break;
    }
    this.c.expect(')');
    if (out.length !== count) {
      this.c.fail(
        M.expectedToken,
        { expected: `${count} argument${count === 1 ? '' : 's'} to ${t.text}`, found: String(out.length) },
        t,
      );
    }
    return out;
  }

  private literal(t: Token): Ast {
    const m = /^([0-9.eE+-]+?)(bool|[iuf]\d+|bf16)?$/.exec(t.text);
    const suffixText = m?.[2];
    const suffix = suffixText ? parseDataType(suffixText) : undefined;
    if (!m || (suffixText && !suffix)) this.c.fail(M.badLiteral, { literal: t.text, reason: 'unknown dtype suffix' }, t);
    const cls: LiteralClass = t.kind === 'float' ? 'float' : 'int';
    const value = Number(m[1]);
    if (cls === 'int' && !Number.isSafeInteger(value)) {
      this.c.fail(M.badLiteral, { literal: t.text, reason: 'integer literals must lie within ±2^53' }, t);
    }
    return { k: 'lit', cls, value, ...(suffix ? { suffix } : {}), tok: t };
  }

  // --- step 2: types -----------------------------------------------------------------

  /** The type an expression has on its own; undefined for trees of unsuffixed literals. */
  private natural(a: Ast): DataType | undefined {
    switch (a.k) {
      case 'lit':
        return a.suffix;
      case 'typed':
        return a.e.dtype;
      case 'bin':
        if (isLogicOrCompare(a.op)) return 'bool';
        return this.natural(a.a) ?? this.natural(a.b);
      case 'not':
        return 'bool';
      case 'select':
        return this.natural(a.t) ?? this.natural(a.f);
      case 'call':
        if (a.args.length === 0 || isPredicate(a.op)) return this.callType(a.op, []);
        return firstDefined(a.args.map((x) => this.natural(x)));
      case 'cast':
        return a.dtype;
      case 'load':
        return a.buffer.dtype;
    }
  }

  /** The type of a call whose type does not depend on its arguments' types. */
  private callType(op: Intrinsic, _args: readonly PrimExpr[]): DataType {
    if (isPredicate(op)) return 'bool';
    return intrinsicInfo(op).resultType([], (problem) => {
      throw new Error(problem);
    });
  }

  private classOf(a: Ast): LiteralClass {
    switch (a.k) {
      case 'lit':
        return a.cls;
      case 'bin':
        return this.classOf(a.a);
      case 'select':
        return this.classOf(a.t);
      case 'call':
        return a.args[0] ? this.classOf(a.args[0]) : 'int';
      default:
        return 'int';
    }
  }

  private build(a: Ast, expected: DataType | undefined): PrimExpr {
    switch (a.k) {
      case 'lit': {
        const dtype = a.suffix ?? literalType(a.cls, expected);
        return this.c.located(a.tok, () => {
          if (dtype === 'bool') return boolImm(a.value !== 0);
          if (a.cls === 'float' && !isFloatType(dtype)) {
            return fail(M.typeMismatch, { what: 'literal', expected: shortName(dtype), found: 'a float literal' });
          }
          return isFloatType(dtype) ? floatImm(a.value, dtype) : intImm(a.value, dtype);
        });
      }
      case 'typed':
        return a.e;
      case 'bin': {
        if (a.op === 'and' || a.op === 'or') {
          const x = this.build(a.a, 'bool');
          const y = this.build(a.b, 'bool');
          return this.c.located(a.tok, () => binary(a.op, x, y));
        }
        const outer = isLogicOrCompare(a.op) ? undefined : expected;
        const d = this.natural(a.a) ?? this.natural(a.b) ?? literalType(this.classOf(a), outer);
        const x = this.build(a.a, d);
        const y = this.build(a.b, d);
        return this.c.located(a.tok, () => binary(a.op, x, y));
      }
      case 'not': {
        const x = this.build(a.a, 'bool');
        return this.c.located(a.tok, () => not(x));
      }
      case 'select': {
        const cond = this.build(a.c, 'bool');
        const d = this.natural(a.t) ?? this.natural(a.f) ?? literalType(this.classOf(a.t), expected);
        const x = this.build(a.t, d);
        const y = this.build(a.f, d);
        return this.c.located(a.tok, () => select(cond, x, y));
      }
      case 'call': {
        const outer = isPredicate(a.op) ? undefined : expected;
        const d =
          firstDefined(a.args.map((x) => this.natural(x))) ??
          (a.args[0] ? literalType(this.classOf(a.args[0]), outer) : undefined);
        const args = a.args.map((x) => this.build(x, d));
        return this.c.located(a.tok, () => call(a.op, args));
      }
      case 'cast': {
        const x = this.build(a.a, undefined);
        return cast(a.dtype, x);
      }
      case 'load': {
        const indices = a.indices.map((i) => this.build(i, undefined));
        const rank = a.buffer.shape.length;
        if (indices.length !== rank && !(this.scope.flat && indices.length === 1)) {
          const expected = this.scope.flat ? `${rank} indices or one flat offset` : `${rank} indices`;
          return this.c.fail(
            M.typeMismatch,
            { what: `load of ${a.buffer.name}`, expected, found: String(indices.length) },
            a.tok,
          );
        }
        if (indices.length !== rank) return this.c.located(a.tok, () => flatLoad(a.buffer, indices[0]!));
        return this.c.located(a.tok, () => load(a.buffer, indices));
      }
    }
  }
}

function isLogicOrCompare(op: BinaryOp): boolean {
  return op === 'eq' || op === 'ne' || op === 'lt' || op === 'le' || op === 'gt' || op === 'ge' || op === 'and' || op === 'or';
}

function isPredicate(op: Intrinsic): boolean {
  return op === 'isnan' || op === 'isinf' || op === 'isfinite';
}

function isFloatType(t: DataType): boolean {
  return t === 'float16' || t === 'bfloat16' || t === 'float32' || t === 'float64';
}

function firstDefined<T>(xs: readonly (T | undefined)[]): T | undefined {
  for (const x of xs) if (x !== undefined) return x;
  return undefined;
}
