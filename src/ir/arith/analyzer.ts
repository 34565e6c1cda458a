/**
 * The arithmetic analyzer: simplifies prim expressions to a canonical form,
 * computes constant integer bounds, and proves facts (`n*4 == 4*n`,
 * `0 <= i*4 + j < n*4`) under the ranges bound to variables.
 *
 * Integer +, -, × go through the polynomial form of `canonical.ts`; floordiv
 * and floormod are reduced with the bounds of what they divide; comparisons
 * are decided by bounding the difference of their sides.
 *
 * A proof of `s >= 0` tries, in order: constant interval bounds; a symbolic
 * lower bound, each variable with a (possibly symbolic) range replaced by
 * the end of it that minimizes its term; `c*floordiv(x, c)` traded for
 * `x - floormod(x, c)`; and a case split over the operands of a min, max or
 * select.
 *
 * Like TVM's analyzer it assumes integer arithmetic does not overflow and
 * never divides by zero: `floordiv(x*y, y)` is `x`.
 */
import { intRange, isFloat, isInt } from '../dtype.ts';
import {
  binary,
  type BinaryOp,
  boolImm,
  cast,
  type CompareOp,
  mapPrimChildren,
  not,
  type PrimExpr,
  type PrimVar,
  type Select,
  select,
} from '../prim/expr.ts';
import type { Range } from '../tir/stmt.ts';
import {
  addSums,
  asSingleAtom,
  atomKey,
  atomSum,
  CanonicalOverflow,
  compareToExpr,
  constSum,
  isConst,
  mulSums,
  scaleSum,
  type Sum,
  sumToExpr,
} from './canonical.ts';
import { ConstBounds } from './bounds.ts';
import type { ArithContext, Binding } from './context.ts';
import { DivMod } from './divmod.ts';
import { Prover } from './prover.ts';
import { castConstant, compareNumbers, foldBits, foldCall, foldFloat, literalValue } from './fold.ts';
import { EVERYTHING, intersectI, interval, type Interval } from './interval.ts';

const INVERSE: Partial<Record<BinaryOp, CompareOp>> = { eq: 'ne', ne: 'eq', lt: 'ge', le: 'gt', gt: 'le', ge: 'lt' };

export class Analyzer implements ArithContext {
  private readonly bindings = new Map<PrimVar, Binding>();
  private simplifyMemo = new WeakMap<PrimExpr, PrimExpr>();
  private canonicalMemo = new WeakMap<PrimExpr, Sum>();
  /** @internal */
  readonly resolving = new Set<PrimVar>();
  /** @internal */
  readonly bounds: ConstBounds = new ConstBounds(this);
  /** @internal */
  readonly prover: Prover = new Prover(this);
  /** @internal */
  readonly divmod: DivMod = new DivMod(this);

  // --- facts ------------------------------------------------------------------

  /**
   * Binds v to a range [min, min + extent) (symbolic ends allowed), which
   * replaces what was known about v, or to a constant interval [min, max]
   * (inclusive, ±Infinity for open ends), which narrows it.
   */
  bind(v: PrimVar, r: Range | Interval): void {
    this.invalidate();
    const prev = this.bindings.get(v);
    if ('extent' in r) this.bindings.set(v, { range: r, bound: EVERYTHING });
    else this.bindings.set(v, { ...(prev?.range ? { range: prev.range } : {}), bound: prev ? intersectI(prev.bound, r) : r });
  }

  /** Shape variables are never negative. */
  bindNonNegative(...vars: PrimVar[]): void {
    for (const v of vars) if (!((this.bindings.get(v)?.bound.min ?? -1) >= 0)) this.bind(v, interval(0, Infinity));
  }

  unbind(v: PrimVar): void {
    this.invalidate();
    this.bindings.delete(v);
  }

  /** Runs f with v bound to r, then restores what v was bound to before. */
  withBinding<T>(v: PrimVar, r: Range | Interval, f: () => T): T {
    const prev = this.bindings.get(v);
    this.bind(v, r);
    try {
      return f();
    } finally {
      this.invalidate();
      if (prev) this.bindings.set(v, prev);
      else this.bindings.delete(v);
    }
  }

  rangeOf(v: PrimVar): Range | undefined {
    return this.bindings.get(v)?.range;
  }

  /** @internal */
  binding(v: PrimVar): Binding | undefined {
    return this.bindings.get(v);
  }

  /** Constant bounds [min, max] of an integer expression (±Infinity when unbounded). */
  constIntBound(e: PrimExpr): Interval {
    return this.bounds.constIntBound(e);
  }

  private invalidate(): void {
    this.simplifyMemo = new WeakMap();
    this.canonicalMemo = new WeakMap();
    this.bounds.reset();
    this.prover.reset();
  }

  // --- simplification ------------------------------------------------------------

  simplify(e: PrimExpr): PrimExpr {
    const hit = this.simplifyMemo.get(e);
    if (hit) return hit;
    let out = this.simplifyNode(e);
    // Nothing changed: hand back the same object, so callers can tell.
    if (out !== e && atomKey(out) === atomKey(e)) out = e;
    this.simplifyMemo.set(e, out);
    return out;
  }

  private simplifyNode(e: PrimExpr): PrimExpr {
    switch (e.kind) {
      case 'int':
      case 'float':
      case 'bool':
        return e;
      case 'var':
        return isInt(e.dtype) ? this.toExpr(e) : e;
      case 'binary':
        if (isInt(e.dtype) && isCanonicalOp(e.op)) return this.toExpr(e);
        return this.simplifyBinary(e.op, this.simplify(e.a), this.simplify(e.b), e);
      case 'not':
        return this.simplifyNot(this.simplify(e.a));
      case 'select':
        return this.simplifySelect(e);
      case 'cast': {
        const v = this.simplify(e.value);
        if (v.dtype === e.dtype) return v;
        const lit = literalValue(v);
        const folded = lit === undefined ? undefined : castConstant(lit, e.dtype);
        if (folded) return folded;
        return v === e.value ? e : cast(e.dtype, v);
      }
      case 'call': {
        const s = mapPrimChildren(e, (c) => this.simplify(c));
        return s.kind === 'call' ? (foldCall(s) ?? s) : s;
      }
      case 'load':
        return mapPrimChildren(e, (c) => this.simplify(c));
    }
  }

  private simplifySelect(e: Select): PrimExpr {
    const cond = this.simplify(e.cond);
    const t = this.simplify(e.t);
    const f = this.simplify(e.f);
    if (cond.kind === 'bool') return cond.value ? t : f;
    if (atomKey(t) === atomKey(f)) return t;
    if (t.kind === 'bool' && f.kind === 'bool') return t.value ? cond : this.simplifyNot(cond);
    return cond === e.cond && t === e.t && f === e.f ? e : select(cond, t, f);
  }

  /** Simplifies an integer expression through its canonical form. */
  private toExpr(e: PrimExpr): PrimExpr {
    try {
      const s = this.canonical(e);
      checkFits(s);
      return sumToExpr(s);
    } catch (err) {
      if (err instanceof CanonicalOverflow) return mapPrimChildren(e, (c) => this.simplify(c));
      throw err;
    }
  }

  /** The canonical (sum of monomials) form of an integer expression. */
  canonical(e: PrimExpr): Sum {
    const hit = this.canonicalMemo.get(e);
    if (hit) return hit;
    const out = this.canonicalNode(e);
    this.canonicalMemo.set(e, out);
    return out;
  }

  private canonicalNode(e: PrimExpr): Sum {
    switch (e.kind) {
      case 'int':
        return constSum(e.value, e.dtype);
      case 'var': {
        const r = this.bindings.get(e)?.range;
        if (r?.extent.kind === 'int' && r.extent.value === 1 && !this.resolving.has(e)) {
          this.resolving.add(e);
          try {
            return this.canonical(r.min);
          } finally {
            this.resolving.delete(e);
          }
        }
        return atomSum(e);
      }
      case 'binary':
        switch (e.op) {
          case 'add':
            return this.divmod.fuseDivMod(addSums(this.canonical(e.a), this.canonical(e.b)));
          case 'sub':
            return this.divmod.fuseDivMod(addSums(this.canonical(e.a), this.canonical(e.b), -1));
          case 'mul':
            return mulSums(this.canonical(e.a), this.canonical(e.b));
          case 'floordiv':
            return this.divmod.floorDiv(this.canonical(e.a), this.canonical(e.b));
          case 'floormod':
            return this.divmod.floorMod(this.canonical(e.a), this.canonical(e.b));
          case 'truncdiv':
          case 'truncmod':
            return this.divmod.truncDivMod(e.op, this.canonical(e.a), this.canonical(e.b));
          case 'min':
          case 'max':
            return this.minMax(e.op, this.canonical(e.a), this.canonical(e.b));
          default:
            return atomOrConst(this.simplifyBinary(e.op, this.simplify(e.a), this.simplify(e.b), e));
        }
      default: {
        const s = this.simplify(e);
        // A select or cast may simplify to arithmetic, which belongs in the sum, not in an atom.
        if (s !== e && (s.kind === 'var' || (s.kind === 'binary' && isCanonicalOp(s.op)))) return this.canonical(s);
        return atomOrConst(s);
      }
    }
  }

  private minMax(op: 'min' | 'max', a: Sum, b: Sum): Sum {
    const d = addSums(a, b, -1);
    const aFirst = op === 'min' ? this.prover.proveNonNegative(scaleSum(d, -1)) : this.prover.proveNonNegative(d);
    if (aFirst) return a;
    const bFirst = op === 'min' ? this.prover.proveNonNegative(d) : this.prover.proveNonNegative(scaleSum(d, -1));
    if (bFirst) return b;
    // min(x + k, y + k) = min(x, y) + k
    const k = constSum(Math.min(a.base, b.base), a.dtype);
    const x = addSums(a, k, -1);
    const y = addSums(b, k, -1);
    const absorbed = this.absorbMinMax(op, x, y) ?? this.absorbMinMax(op, y, x);
    if (absorbed) return addSums(absorbed, k);
    const ex = sumToExpr(x);
    const ey = sumToExpr(y);
    const [p, q] = atomKey(ex) <= atomKey(ey) ? [ex, ey] : [ey, ex];
    return addSums(atomSum(binary(op, p, q)), k);
  }

  /**
   * max(max(p, q), y) is max(p, q) when y <= p or y <= q, and max(p, y)
   * when y >= q; likewise for min. Clamped slice bounds nest like this:
   * `max(max(n, 1) - 2, 0)` is `max(n, 2) - 2`.
   */
  private absorbMinMax(op: 'min' | 'max', nested: Sum, y: Sum): Sum | undefined {
    const inner = asSingleAtom(nested);
    if (inner?.kind !== 'binary' || inner.op !== op) return undefined;
    // u wins over v: max(u, v) = u (or min(u, v) = u)
    const wins = (u: Sum, v: Sum): boolean => this.prover.proveNonNegative(op === 'max' ? addSums(u, v, -1) : addSums(v, u, -1));
    const p = this.canonical(inner.a);
    const q = this.canonical(inner.b);
    if (wins(p, y) || wins(q, y)) return nested;
    if (wins(y, q)) return this.minMax(op, p, y);
    if (wins(y, p)) return this.minMax(op, q, y);
    return undefined;
  }

  private simplifyBinary(op: BinaryOp, a: PrimExpr, b: PrimExpr, orig: PrimExpr): PrimExpr {
    const rebuild = (): PrimExpr => (orig.kind === 'binary' && a === orig.a && b === orig.b ? orig : binary(op, a, b));
    switch (op) {
      case 'eq':
      case 'ne':
      case 'lt':
      case 'le':
      case 'gt':
      case 'ge': {
        if (isInt(a.dtype)) return this.simplifyCompare(op, a, b);
        const x = literalValue(a);
        const y = literalValue(b);
        return x !== undefined && y !== undefined ? boolImm(compareNumbers(op, x, y)) : rebuild();
      }
      case 'and':
        if (a.kind === 'bool') return a.value ? b : a;
        if (b.kind === 'bool') return b.value ? a : b;
        if (atomKey(a) === atomKey(b)) return a;
        return rebuild();
      case 'or':
        if (a.kind === 'bool') return a.value ? a : b;
        if (b.kind === 'bool') return b.value ? b : a;
        if (atomKey(a) === atomKey(b)) return a;
        return rebuild();
      case 'add':
      case 'sub':
      case 'mul':
      case 'div':
      case 'min':
      case 'max':
        if (isFloat(a.dtype)) return foldFloat(op, a, b) ?? rebuild();
        return rebuild();
      case 'bitand':
      case 'bitor':
      case 'bitxor':
      case 'shl':
      case 'shr':
        if (a.kind === 'int' && b.kind === 'int') return foldBits(op, a.value, b.value, a.dtype) ?? rebuild();
        return rebuild();
      case 'floordiv':
      case 'floormod':
      case 'truncdiv':
      case 'truncmod':
        return rebuild();
    }
  }

  private simplifyCompare(op: CompareOp, a: PrimExpr, b: PrimExpr): PrimExpr {
    let d: Sum;
    try {
      d = addSums(this.canonical(a), this.canonical(b), -1);
    } catch (err) {
      if (err instanceof CanonicalOverflow) return binary(op, a, b);
      throw err;
    }
    const decided = this.decide(op, d);
    return decided !== undefined ? boolImm(decided) : compareToExpr(op, d);
  }

  /** Whether `d op 0` holds, fails, or is unknown. */
  private decide(op: CompareOp, d: Sum): boolean | undefined {
    const nonNeg = (s: Sum): boolean => this.prover.proveNonNegative(s);
    const minus = (k: number): Sum => addSums(d, constSum(k, d.dtype), -1); // d - k
    const neg = scaleSum(d, -1);
    const negMinus = (k: number): Sum => addSums(neg, constSum(k, d.dtype), -1); // -d - k
    try {
      switch (op) {
        case 'lt':
          return nonNeg(negMinus(1)) ? true : nonNeg(d) ? false : undefined;
        case 'le':
          return nonNeg(neg) ? true : nonNeg(minus(1)) ? false : undefined;
        case 'gt':
          return nonNeg(minus(1)) ? true : nonNeg(neg) ? false : undefined;
        case 'ge':
          return nonNeg(d) ? true : nonNeg(negMinus(1)) ? false : undefined;
        case 'eq':
          if (isConst(d)) return d.base === 0;
          return nonNeg(d) && nonNeg(neg) ? true : nonNeg(minus(1)) || nonNeg(negMinus(1)) ? false : undefined;
        case 'ne': {
          const eq = this.decide('eq', d);
          return eq === undefined ? undefined : !eq;
        }
      }
    } catch (err) {
      if (err instanceof CanonicalOverflow) return undefined;
      throw err;
    }
  }

  private simplifyNot(a: PrimExpr): PrimExpr {
    if (a.kind === 'bool') return boolImm(!a.value);
    if (a.kind === 'not') return a.a;
    // Only integer comparisons invert: for floats, NaN fails both x < y and x >= y.
    if (a.kind === 'binary' && isInt(a.a.dtype)) {
      const inv = INVERSE[a.op];
      if (inv) return this.simplifyCompare(inv, a.a, a.b);
    }
    return not(a);
  }

  // --- proofs ------------------------------------------------------------------------

  /** True when `cond` is proven true under the current bindings. */
  canProve(cond: PrimExpr): boolean {
    const s = this.simplify(cond);
    if (s.kind === 'bool') return s.value;
    if (s.kind === 'binary' && s.op === 'and') return this.canProve(s.a) && this.canProve(s.b);
    if (s.kind === 'binary' && s.op === 'or') return this.canProve(s.a) || this.canProve(s.b);
    return false;
  }

  proveEqual(a: PrimExpr, b: PrimExpr): boolean {
    return this.canProve(binary('eq', a, b));
  }

  proveLess(a: PrimExpr, b: PrimExpr): boolean {
    return this.canProve(binary('lt', a, b));
  }

  proveLessEqual(a: PrimExpr, b: PrimExpr): boolean {
    return this.canProve(binary('le', a, b));
  }
}

function isCanonicalOp(op: BinaryOp): boolean {
  return (
    op === 'add' ||
    op === 'sub' ||
    op === 'mul' ||
    op === 'floordiv' ||
    op === 'floormod' ||
    op === 'truncdiv' ||
    op === 'truncmod' ||
    op === 'min' ||
    op === 'max'
  );
}

function atomOrConst(e: PrimExpr): Sum {
  return e.kind === 'int' ? constSum(e.value, e.dtype) : atomSum(e);
}

/** Constants that do not fit their type stay unfolded. */
function checkFits(s: Sum): void {
  if (s.dtype === 'int64') return;
  const r = intRange(s.dtype);
  if (s.base < r.min || s.base > r.max) throw new CanonicalOverflow();
}

/** Simplifies with a fresh analyzer: no variable ranges known. */
export function simplify(e: PrimExpr): PrimExpr {
  return new Analyzer().simplify(e);
}
