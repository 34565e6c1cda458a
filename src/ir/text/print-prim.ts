/**
 * Printing prim expressions. Literals carry a dtype suffix (`3i32`,
 * `1.5f16`) only where the parser would otherwise give them another type:
 * an unsuffixed literal takes the type of the other operand, else the type
 * its position calls for, else i64 / f32 (see literal.ts).
 */
import { type DataType, INDEX_DTYPE, shortName } from '../dtype.ts';
import { shortestFloat } from '../float-bits.ts';
import type { BinaryOp, PrimExpr } from '../prim/expr.ts';
import { type LiteralClass, literalType } from './literal.ts';
import type { NameTable } from './names.ts';

const SYMBOL: Partial<Record<BinaryOp, string>> = {
  add: '+',
  sub: '-',
  mul: '*',
  div: '/',
  floordiv: '//',
  floormod: '%',
  eq: '==',
  ne: '!=',
  lt: '<',
  le: '<=',
  gt: '>',
  ge: '>=',
  and: '&&',
  or: '||',
  bitand: '&',
  bitor: '|',
  bitxor: '^',
  shl: '<<',
  shr: '>>',
};

/** Binding strength of each infix operator; higher binds tighter. */
export const PRECEDENCE: Readonly<Record<string, number>> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 3,
  '<=': 3,
  '>': 3,
  '>=': 3,
  '|': 4,
  '^': 5,
  '&': 6,
  '<<': 7,
  '>>': 7,
  '+': 8,
  '-': 8,
  '*': 9,
  '/': 9,
  '//': 9,
  '%': 9,
};
const UNARY = 10;
const PRIMARY = 11;

export function isCompare(op: BinaryOp): boolean {
  return op === 'eq' || op === 'ne' || op === 'lt' || op === 'le' || op === 'gt' || op === 'ge';
}

/** Operators whose operands share the result's type (so literals among them type from each other). */
function isSameTypeOp(op: BinaryOp): boolean {
  return !isCompare(op) && op !== 'and' && op !== 'or';
}

/** Predicates (isnan, ...) whose type is bool whatever their argument. */
function isPredicateCall(e: PrimExpr): boolean {
  return e.kind === 'call' && e.dtype === 'bool';
}

/**
 * Whether the printed expression has a type of its own, that is, it is not
 * a tree of unsuffixed literals waiting for a type from around it.
 */
export function hasOwnType(e: PrimExpr): boolean {
  switch (e.kind) {
    case 'int':
    case 'float':
      return false;
    case 'bool':
    case 'var':
    case 'load':
    case 'cast':
    case 'not':
      return true;
    case 'binary':
      return isSameTypeOp(e.op) ? hasOwnType(e.a) || hasOwnType(e.b) : true;
    case 'select':
      return hasOwnType(e.t) || hasOwnType(e.f);
    case 'call':
      return e.args.length === 0 || isPredicateCall(e) || e.args.some(hasOwnType);
  }
}

/** The class of the first literal in an untyped tree. */
export function literalClassOf(e: PrimExpr): LiteralClass {
  switch (e.kind) {
    case 'int':
      return 'int';
    case 'float':
      return 'float';
    case 'binary':
      return literalClassOf(e.a);
    case 'select':
      return literalClassOf(e.t);
    case 'call':
      return e.args[0] ? literalClassOf(e.args[0]) : 'int';
    default:
      return 'int';
  }
}

interface Printed {
  readonly text: string;
  readonly prec: number;
}

export class PrimPrinter {
  constructor(private readonly names: NameTable) {}

  /** Prints `e` in a position that calls for type `expected` (undefined: no call). */
  print(e: PrimExpr, expected?: DataType): string {
    return this.fmt(e, expected, false).text;
  }

  /** A buffer index, shape dimension or extent: positions that call for i64. */
  index(e: PrimExpr): string {
    return this.print(e, INDEX_DTYPE);
  }

  private fmt(e: PrimExpr, expected: DataType | undefined, force: boolean): Printed {
    switch (e.kind) {
      case 'int': {
        const suffix = force || e.dtype !== literalType('int', expected) ? shortName(e.dtype) : '';
        return { text: `${e.value}${suffix}`, prec: e.value < 0 ? UNARY : PRIMARY };
      }
      case 'float': {
        const suffix = force || e.dtype !== literalType('float', expected) ? shortName(e.dtype) : '';
        const body = shortestFloat(e.value, e.dtype);
        return { text: `${body}${suffix}`, prec: body.startsWith('-') ? UNARY : PRIMARY };
      }
      case 'bool':
        return { text: e.value ? 'true' : 'false', prec: PRIMARY };
      case 'var':
        return { text: this.names.nameOf(e, e.name), prec: PRIMARY };
      case 'not': {
        const a = this.fmt(e.a, undefined, false);
        return { text: `!${a.prec < UNARY ? `(${a.text})` : a.text}`, prec: UNARY };
      }
      case 'binary': {
        const mode =
          isCompare(e.op) || e.op === 'and' || e.op === 'or'
            ? this.operandMode([e.a, e.b], e.a.dtype, undefined, false)
            : this.operandMode([e.a, e.b], e.dtype, expected, force);
        const sym = SYMBOL[e.op];
        const a = this.fmt(e.a, mode.expected, mode.force);
        const b = this.fmt(e.b, mode.expected, mode.force);
        if (!sym) return { text: `${e.op}(${a.text}, ${b.text})`, prec: PRIMARY };
        const p = PRECEDENCE[sym]!;
        const compare = p === 3;
        const left = a.prec < p || (compare && a.prec === p) ? `(${a.text})` : a.text;
        const right = b.prec <= p ? `(${b.text})` : b.text;
        return { text: `${left} ${sym} ${right}`, prec: p };
      }
      case 'select': {
        const mode = this.operandMode([e.t, e.f], e.dtype, expected, force);
        const c = this.fmt(e.cond, undefined, false).text;
        return {
          text: `select(${c}, ${this.fmt(e.t, mode.expected, mode.force).text}, ${this.fmt(e.f, mode.expected, mode.force).text})`,
          prec: PRIMARY,
        };
      }
      case 'cast':
        return { text: `${shortName(e.dtype)}(${this.fmt(e.value, undefined, false).text})`, prec: PRIMARY };
      case 'call': {
        const argType = e.args[0]?.dtype ?? e.dtype;
        const mode = isPredicateCall(e)
          ? this.operandMode(e.args, argType, undefined, false)
          : this.operandMode(e.args, argType, expected, force);
        const args = e.args.map((a) => this.fmt(a, mode.expected, mode.force).text);
        return { text: `${e.op}(${args.join(', ')})`, prec: PRIMARY };
      }
      case 'load': {
        const name = this.names.nameOf(e.buffer, e.buffer.name);
        return { text: `${name}[${e.indices.map((i) => this.print(i)).join(', ')}]`, prec: PRIMARY };
      }
    }
  }

  /**
   * How to print operands that share type `d`: when one has a type of its
   * own, the others take theirs from it; else the parser types them from
   * `expected`, and when that would give another type than `d`, every
   * literal among them is printed with its suffix.
   */
  private operandMode(
    operands: readonly PrimExpr[],
    d: DataType,
    expected: DataType | undefined,
    force: boolean,
  ): { expected: DataType | undefined; force: boolean } {
    if (operands.some(hasOwnType)) return { expected: d, force: false };
    if (!force && operands[0] && literalType(literalClassOf(operands[0]), expected) === d) return { expected: d, force: false };
    return { expected: undefined, force: true };
  }
}
