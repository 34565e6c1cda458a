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
import { type DataType, intRange, isBool, isFloat, isInt } from '../dtype.ts';
import {
  add,
  type Binary,
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
  sub,
  visitPrim,
} from '../prim/expr.ts';
import type { Range } from '../tir/stmt.ts';
import {
  addSums,
  asSingleAtom,
  atomKey,
  atomSum,
  CanonicalOverflow,
  compareToExpr,
  constantRatio,
  constSum,
  contentOf,
  divideByMonomial,
  divideExact,
  gcd,
  isConst,
  isZero,
  mulSums,
  productSum,
  scaleSum,
  splitMultiples,
  type Sum,
  sumToExpr,
  type Term,
  termSum,
} from './canonical.ts';
import { castConstant, compareNumbers, foldBits, foldCall, foldFloat, literalValue } from './fold.ts';
import {
  addI,
  allOnesAbove,
  dtypeBound,
  EVERYTHING,
  floorDivByI,
  floorDivI,
  floorDivNum,
  floorModI,
  intersectI,
  interval,
  type Interval,
  maxI,
  minI,
  mulI,
  negI,
  point,
  scaleI,
  towardZero,
  truncDivI,
  typeRange,
  unionI,
  withinI,
} from './interval.ts';

interface Binding {
  /** A range [min, min + extent) whose ends may mention other variables. */
  readonly range?: Range;
  /** Constant facts, narrowed as more are bound. */
  readonly bound: Interval;
}

const INVERSE: Partial<Record<BinaryOp, CompareOp>> = { eq: 'ne', ne: 'eq', lt: 'ge', le: 'gt', gt: 'le', ge: 'lt' };

export class Analyzer {
  private readonly bindings = new Map<PrimVar, Binding>();
  private simplifyMemo = new WeakMap<PrimExpr, PrimExpr>();
  private boundMemo = new WeakMap<PrimExpr, Interval>();
  private canonicalMemo = new WeakMap<PrimExpr, Sum>();
  /** Symbolic lower bounds by sum key: proofs ask for the same dividends again and again. */
  private lowerMemo = new Map<string, Sum>();
  /** Variables whose range is being looked into, to stop at ranges that mention each other. */
  private readonly resolving = new Set<PrimVar>();

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

  private invalidate(): void {
    this.simplifyMemo = new WeakMap();
    this.boundMemo = new WeakMap();
    this.canonicalMemo = new WeakMap();
    this.lowerMemo = new Map();
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
            return this.fuseDivMod(addSums(this.canonical(e.a), this.canonical(e.b)));
          case 'sub':
            return this.fuseDivMod(addSums(this.canonical(e.a), this.canonical(e.b), -1));
          case 'mul':
            return mulSums(this.canonical(e.a), this.canonical(e.b));
          case 'floordiv':
            return this.floorDiv(this.canonical(e.a), this.canonical(e.b));
          case 'floormod':
            return this.floorMod(this.canonical(e.a), this.canonical(e.b));
          case 'truncdiv':
          case 'truncmod':
            return this.truncDivMod(e.op, this.canonical(e.a), this.canonical(e.b));
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

  /** floordiv(a, b) on canonical forms. */
  private floorDiv(a: Sum, b: Sum): Sum {
    if (isConst(b)) {
      const c = b.base;
      if (c === 1) return a;
      if (c > 0) return this.floorDivConst(a, c);
      if (c === 0 || !isConst(a)) return divAtom('floordiv', a, b);
      return constSum(floorDivNum(a.base, c), a.dtype);
    }
    if (isZero(a)) return a;
    const exact = divideByMonomial(a, b);
    if (exact) return exact;
    const k = constantRatio(a, b);
    if (k !== undefined) return constSum(k, a.dtype);
    // floordiv(q*b + r, b) = q + floordiv(r, b), and floordiv(r, b) = 0 when 0 <= r < b
    const { q, r } = splitMultiples(a, b);
    if (this.inDivisorRange(r, b)) return q;
    return isZero(q) ? divAtom('floordiv', a, b) : addSums(q, divAtom('floordiv', r, b));
  }

  private floorDivConst(a: Sum, c: number): Sum {
    const dtype = a.dtype;
    const baseQ = floorDivNum(a.base, c);
    let q = constSum(baseQ, dtype);
    let r = constSum(a.base - baseQ * c, dtype);
    for (const t of a.terms.values()) {
      const part = termSum(t, dtype);
      if (t.coeff % c === 0) q = addSums(q, divideExact(part, c));
      else r = addSums(r, part);
    }
    if (isConst(r)) return q;
    const rb = this.sumBound(r);
    const lo = floorDivNum(rb.min, c);
    if (lo === floorDivNum(rb.max, c) && Number.isFinite(lo)) return addSums(q, constSum(lo, dtype));
    // floordiv(g*y, g*d) = floordiv(y, d)
    const g = gcd(contentOf(r), c);
    let rest = r;
    let divisor = c;
    if (g > 1) {
      rest = divideExact(r, g);
      divisor = c / g;
      if (divisor === 1) return addSums(q, rest);
    }
    // floordiv(floordiv(x, a), c) = floordiv(x, a*c)
    const inner = asSingleAtom(rest);
    if (inner?.kind === 'binary' && inner.op === 'floordiv' && inner.b.kind === 'int' && inner.b.value > 0) {
      const outer = inner.b.value * divisor;
      if (Number.isSafeInteger(outer)) return addSums(q, this.floorDivConst(this.canonical(inner.a), outer));
    }
    return addSums(q, divAtom('floordiv', rest, constSum(divisor, dtype)));
  }

  /** floormod(a, b) on canonical forms. */
  private floorMod(a: Sum, b: Sum): Sum {
    if (isConst(b)) {
      const c = b.base;
      if (c === 1) return constSum(0, a.dtype);
      if (c > 0) return this.floorModConst(a, c);
      if (c === 0 || !isConst(a)) return divAtom('floormod', a, b);
      return constSum(a.base - floorDivNum(a.base, c) * c, a.dtype);
    }
    if (isZero(a) || divideByMonomial(a, b) || constantRatio(a, b) !== undefined) return constSum(0, a.dtype);
    // floormod(q*b + r, b) = floormod(r, b), which is r when 0 <= r < b
    const { r } = splitMultiples(a, b);
    if (this.inDivisorRange(r, b)) return r;
    return divAtom('floormod', r, b);
  }

  private floorModConst(a: Sum, c: number): Sum {
    const dtype = a.dtype;
    let r = constSum(a.base - floorDivNum(a.base, c) * c, dtype);
    for (const t of a.terms.values()) if (t.coeff % c !== 0) r = addSums(r, termSum(t, dtype));
    if (isConst(r)) return r;
    const rb = this.sumBound(r);
    const lo = floorDivNum(rb.min, c);
    if (lo === floorDivNum(rb.max, c) && Number.isFinite(lo)) return addSums(r, constSum(-lo * c, dtype));
    // floormod(g*y, g*d) = g * floormod(y, d)
    const g = gcd(contentOf(r), c);
    if (g > 1) return scaleSum(this.floorModConst(divideExact(r, g), c / g), g);
    // floormod(floormod(x, k*c), c) = floormod(x, c)
    const inner = asSingleAtom(r);
    if (inner?.kind === 'binary' && inner.op === 'floormod' && inner.b.kind === 'int' && inner.b.value % c === 0) {
      return this.floorModConst(this.canonical(inner.a), c);
    }
    return divAtom('floormod', r, constSum(c, dtype));
  }

  /** 0 <= r < b, so that floordiv(r, b) is 0 and floormod(r, b) is r. */
  private inDivisorRange(r: Sum, b: Sum): boolean {
    return this.proveNonNegative(r) && this.proveNonNegative(addSums(addSums(b, r, -1), constSum(1, b.dtype), -1));
  }

  /** Exact on constants and on exact multiples; floor semantics once the dividend is known non-negative. */
  private truncDivMod(op: 'truncdiv' | 'truncmod', a: Sum, b: Sum): Sum {
    if (isConst(b) && b.base !== 0) {
      const c = b.base;
      if (isConst(a)) {
        const q = Math.trunc(a.base / c);
        return constSum(op === 'truncdiv' ? q : a.base - q * c, a.dtype);
      }
      // An exact multiple divides the same way under every rounding.
      if (contentOf(a) % c === 0) return op === 'truncdiv' ? divideExact(a, c) : constSum(0, a.dtype);
    }
    const positiveDivisor = isConst(b) ? b.base > 0 : this.proveNonNegative(addSums(b, constSum(1, b.dtype), -1));
    if (positiveDivisor && this.proveNonNegative(a)) {
      return op === 'truncdiv' ? this.floorDiv(a, b) : this.floorMod(a, b);
    }
    return divAtom(op, a, b);
  }

  /**
   * k*b*floordiv(x, b) + k*floormod(x, b) = k*x: what splitting a fused loop
   * leaves behind, for a constant or symbolic b.
   */
  private fuseDivMod(s: Sum): Sum {
    for (const t of s.terms.values()) {
      const m = t.mono.atoms.length === 1 ? t.mono.atoms[0]! : undefined;
      if (m?.kind !== 'binary' || m.op !== 'floormod') continue;
      const quotient = scaleSum(mulSums(atomSum(binary('floordiv', m.a, m.b)), this.canonical(m.b)), t.coeff);
      if (quotient.terms.size === 0) continue;
      let matches = true;
      for (const [key, u] of quotient.terms) if (s.terms.get(key)?.coeff !== u.coeff) matches = false;
      if (!matches) continue;
      const rest = addSums(addSums(s, quotient, -1), termSum(t, s.dtype), -1);
      return this.fuseDivMod(addSums(rest, scaleSum(this.canonical(m.a), t.coeff)));
    }
    return s;
  }

  private minMax(op: 'min' | 'max', a: Sum, b: Sum): Sum {
    const d = addSums(a, b, -1);
    const aFirst = op === 'min' ? this.proveNonNegative(scaleSum(d, -1)) : this.proveNonNegative(d);
    if (aFirst) return a;
    const bFirst = op === 'min' ? this.proveNonNegative(d) : this.proveNonNegative(scaleSum(d, -1));
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
    const wins = (u: Sum, v: Sum): boolean => this.proveNonNegative(op === 'max' ? addSums(u, v, -1) : addSums(v, u, -1));
    const p = this.canonical(inner.a);
    const q = this.canonical(inner.b);
    if (wins(p, y) || wins(q, y)) return nested;
    if (wins(y, q)) return this.minMax(op, p, y);
    if (wins(y, p)) return this.minMax(op, q, y);
    return undefined;
  }

  private simplifyBinary(op: BinaryOp, a: PrimExpr, b: PrimExpr, orig: PrimExpr): PrimExpr {
    const rebuild = (): PrimExpr =>
      orig.kind === 'binary' && a === orig.a && b === orig.b ? orig : binary(op, a, b);
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
    const nonNeg = (s: Sum): boolean => this.proveNonNegative(s);
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

  // --- bounds -----------------------------------------------------------------------

  /** Constant bounds [min, max] of an integer expression (±Infinity when unbounded). */
  constIntBound(e: PrimExpr): Interval {
    if (!isInt(e.dtype) && !isBool(e.dtype)) return EVERYTHING;
    const hit = this.boundMemo.get(e);
    if (hit) return hit;
    let out: Interval;
    try {
      out = this.sumBound(this.canonical(e));
    } catch (err) {
      if (!(err instanceof CanonicalOverflow)) throw err;
      out = this.atomBound(e);
    }
    this.boundMemo.set(e, out);
    return out;
  }

  private sumBound(s: Sum): Interval {
    let acc = point(s.base);
    for (const t of s.terms.values()) acc = addI(acc, scaleI(this.monoBound(t.mono.atoms), t.coeff));
    return acc;
  }

  private monoBound(atoms: readonly PrimExpr[]): Interval {
    if (atoms.length === 2 && atomKey(atoms[0]!) === atomKey(atoms[1]!)) {
      const b = this.atomBound(atoms[0]!);
      const sq = mulI(b, b);
      return { min: Math.max(0, b.min <= 0 && b.max >= 0 ? 0 : sq.min), max: sq.max };
    }
    return atoms.reduce((acc, a) => mulI(acc, this.atomBound(a)), point(1));
  }

  private atomBound(e: PrimExpr): Interval {
    const hit = this.boundMemo.get(e);
    if (hit) return hit;
    const out = intersectI(this.atomBoundUncached(e), dtypeBound(e.dtype));
    this.boundMemo.set(e, out);
    return out;
  }

  private atomBoundUncached(e: PrimExpr): Interval {
    switch (e.kind) {
      case 'int':
        return point(e.value);
      case 'bool':
        return point(e.value ? 1 : 0);
      case 'var':
        return this.varBound(e);
      case 'binary':
        return this.binaryBound(e);
      case 'select':
        return unionI(this.constIntBound(e.t), this.constIntBound(e.f));
      case 'cast': {
        if (!isInt(e.value.dtype) && !isBool(e.value.dtype)) return dtypeBound(e.dtype);
        // A narrowing cast wraps around: the value's bound holds only when it fits.
        const v = this.constIntBound(e.value);
        return withinI(v, typeRange(e.dtype)) ? v : dtypeBound(e.dtype);
      }
      case 'not':
        return interval(0, 1);
      case 'float':
      case 'call':
      case 'load':
        return dtypeBound(e.dtype);
    }
  }

  /** The constant facts about v, narrowed by the bounds of its range's ends. */
  private varBound(v: PrimVar): Interval {
    const binding = this.bindings.get(v);
    if (!binding) return dtypeBound(v.dtype);
    const r = binding.range;
    if (!r || this.resolving.has(v)) return binding.bound;
    this.resolving.add(v);
    try {
      const lo = this.constIntBound(r.min);
      const hi = this.constIntBound(sub(add(r.min, r.extent), 1));
      return intersectI(binding.bound, interval(lo.min, hi.max));
    } finally {
      this.resolving.delete(v);
    }
  }

  private binaryBound(e: Binary): Interval {
    const a = (): Interval => this.constIntBound(e.a);
    const b = (): Interval => this.constIntBound(e.b);
    const c = e.b.kind === 'int' && e.b.value !== 0 ? e.b.value : undefined;
    switch (e.op) {
      case 'add':
        return addI(a(), b());
      case 'sub':
        return addI(a(), negI(b()));
      case 'mul':
        return mulI(a(), b());
      case 'floordiv':
        if (c !== undefined) return c > 0 ? floorDivI(a(), c) : floorDivI(negI(a()), -c);
        return b().min >= 1 ? floorDivByI(a(), b()) : EVERYTHING;
      case 'floormod': {
        if (c !== undefined) return c > 0 ? floorModI(a(), c) : interval(c + 1, 0);
        const bb = b();
        if (bb.min < 1) return EVERYTHING;
        const ab = a();
        return interval(0, ab.min >= 0 ? Math.min(bb.max - 1, ab.max) : bb.max - 1);
      }
      case 'truncdiv':
        if (c !== undefined) return c > 0 ? truncDivI(a(), c) : negI(truncDivI(a(), -c));
        return b().min >= 1 ? towardZero(a()) : EVERYTHING;
      case 'truncmod': {
        // The dividend's sign, below the divisor in magnitude and no larger than the dividend.
        const m = c !== undefined ? Math.abs(c) : b().min >= 1 ? b().max : undefined;
        if (m === undefined) return EVERYTHING;
        const ab = a();
        return interval(ab.min >= 0 ? 0 : Math.max(1 - m, ab.min), ab.max <= 0 ? 0 : Math.min(m - 1, ab.max));
      }
      case 'min':
        return minI(a(), b());
      case 'max':
        return maxI(a(), b());
      case 'eq':
      case 'ne':
      case 'lt':
      case 'le':
      case 'gt':
      case 'ge':
      case 'and':
      case 'or':
        return interval(0, 1);
      case 'bitand': {
        const ab = a();
        const bb = b();
        if (ab.min >= 0 && bb.min >= 0) return interval(0, Math.min(ab.max, bb.max));
        if (ab.min >= 0 || bb.min >= 0) return interval(0, ab.min >= 0 ? ab.max : bb.max);
        return dtypeBound(e.dtype);
      }
      case 'bitor':
      case 'bitxor': {
        const ab = a();
        const bb = b();
        if (ab.min < 0 || bb.min < 0) return dtypeBound(e.dtype);
        return interval(e.op === 'bitor' ? Math.max(ab.min, bb.min) : 0, allOnesAbove(Math.max(ab.max, bb.max)));
      }
      case 'shr': {
        const ab = a();
        if (c !== undefined && c > 0 && c < 53) return floorDivI(ab, 2 ** c);
        if (e.b.kind === 'int' && e.b.value === 0) return ab;
        return ab.min >= 0 ? interval(0, ab.max) : dtypeBound(e.dtype);
      }
      case 'shl':
        if (e.b.kind === 'int' && e.b.value >= 0 && e.b.value < 53) return scaleI(a(), 2 ** e.b.value);
        return dtypeBound(e.dtype);
      case 'div':
        return EVERYTHING;
    }
  }

  // --- proofs ------------------------------------------------------------------------

  /** True when s ≥ 0 is proven for every value of the bound variables. */
  private proveNonNegative(s: Sum, depth = 0): boolean {
    try {
      if (this.sumBound(s).min >= 0) return true;
      if (this.sumBound(this.symbolicLowerBound(s)).min >= 0) return true;
      if (depth >= 3) return false;
      const expanded = this.expandFloorDiv(s);
      if (expanded && this.proveNonNegative(expanded, depth + 1)) return true;
      return this.proveByCases(s, depth + 1);
    } catch (err) {
      if (err instanceof CanonicalOverflow) return false;
      throw err;
    }
  }

  /**
   * A lower bound of s: each variable with a range is replaced by the end of
   * its range that minimizes its term, repeatedly (ranges may mention other
   * variables). Terms that cannot be bounded that way stay as they are.
   */
  private symbolicLowerBound(s: Sum): Sum {
    const key = sumKey(s);
    let out = this.lowerMemo.get(key);
    if (!out) {
      out = this.symbolicLowerBoundUncached(s);
      this.lowerMemo.set(key, out);
    }
    return out;
  }

  private symbolicLowerBoundUncached(s: Sum): Sum {
    let cur = s;
    for (let round = 0; round < 8; round++) {
      let next = constSum(cur.base, cur.dtype);
      let replaced = false;
      for (const t of cur.terms.values()) {
        const lower = this.termLowerBound(t, cur.dtype);
        if (lower) replaced = true;
        next = addSums(next, lower ?? termSum(t, cur.dtype));
      }
      cur = next;
      if (!replaced) break;
    }
    return cur;
  }

  /** A lower bound of one term with fewer range variables in it, or undefined to keep the term. */
  private termLowerBound(t: Term, dtype: DataType): Sum | undefined {
    const atoms = t.mono.atoms;
    const at = atoms.findIndex((a) => a.kind === 'var' && this.bindings.get(a)?.range !== undefined);
    if (at >= 0) {
      const range = this.bindings.get(atoms[at] as PrimVar)!.range!;
      const rest = atoms.filter((_, k) => k !== at);
      // coeff * v * rest is smallest at one end of v's range when rest keeps one sign.
      const rb = this.monoBound(rest);
      const upper = rb.min >= 0 ? t.coeff < 0 : rb.max <= 0 ? t.coeff > 0 : undefined;
      if (upper !== undefined) {
        const end = upper ? sub(add(range.min, range.extent), 1) : range.min;
        return scaleSum(mulSums(this.canonical(end), productSum(rest, dtype)), t.coeff);
      }
    }
    const atom = atoms.length === 1 ? atoms[0]! : undefined;
    // floordiv by a positive constant grows with its dividend: bound the dividend.
    if (atom?.kind === 'binary' && atom.op === 'floordiv' && atom.b.kind === 'int' && atom.b.value > 0 && this.mentionsRangeVar(atom.a)) {
      const x = this.canonical(atom.a);
      const end = t.coeff > 0 ? this.symbolicLowerBound(x) : scaleSum(this.symbolicLowerBound(scaleSum(x, -1)), -1);
      if (![...end.terms.values()].some((u) => u.mono.atoms.some((a) => this.mentionsRangeVar(a)))) {
        return scaleSum(this.floorDivConst(end, atom.b.value), t.coeff);
      }
    }
    // floormod(x, b) lies in [0, b - 1] when b >= 1, b symbolic.
    if (atom?.kind === 'binary' && atom.op === 'floormod' && atom.b.kind !== 'int' && this.constIntBound(atom.b).min >= 1) {
      if (!Number.isFinite(scaleI(this.atomBound(atom), t.coeff).min)) {
        return t.coeff > 0 ? constSum(0, dtype) : scaleSum(addSums(this.canonical(atom.b), constSum(1, dtype), -1), t.coeff);
      }
    }
    if (atoms.some((a) => this.mentionsRangeVar(a))) {
      const b = scaleI(this.monoBound(atoms), t.coeff);
      if (Number.isFinite(b.min)) return constSum(b.min, dtype);
    }
    return undefined;
  }

  /**
   * s with one c*floordiv(x, c) traded for x - floormod(x, c), s scaled by c
   * first when the coefficient is not a multiple of c. The dividend bounds
   * better than the quotient: `floordiv(n + 31, 32)*32 >= n` for every n.
   */
  private expandFloorDiv(s: Sum): Sum | undefined {
    for (const t of s.terms.values()) {
      const a = t.mono.atoms.length === 1 ? t.mono.atoms[0]! : undefined;
      if (a?.kind !== 'binary' || a.op !== 'floordiv' || a.b.kind !== 'int' || a.b.value <= 1) continue;
      const c = a.b.value;
      const scale = t.coeff % c === 0 ? 1 : c;
      const withoutQuotient = addSums(scaleSum(s, scale), termSum(t, s.dtype), -scale);
      const dividendMinusMod = addSums(this.canonical(a.a), atomSum(binary('floormod', a.a, a.b)), -1);
      return addSums(withoutQuotient, scaleSum(dividendMinusMod, (t.coeff * scale) / c));
    }
    return undefined;
  }

  /**
   * A min, max or select term takes the value of one of its operands: s ≥ 0
   * when it holds for each choice, or for one choice when that choice bounds
   * the term from below (`n - min(n, 2) >= n - n`).
   */
  private proveByCases(s: Sum, depth: number): boolean {
    for (const t of s.terms.values()) {
      const a = t.mono.atoms.length === 1 ? t.mono.atoms[0]! : undefined;
      let choices: [PrimExpr, PrimExpr];
      if (a?.kind === 'binary' && (a.op === 'min' || a.op === 'max')) choices = [a.a, a.b];
      else if (a?.kind === 'select') choices = [a.t, a.f];
      else continue;
      const rest = addSums(s, termSum(t, s.dtype), -1);
      const prove = (c: PrimExpr): boolean => this.proveNonNegative(addSums(rest, scaleSum(this.canonical(c), t.coeff)), depth);
      const eitherBounds = a.kind === 'binary' && (a.op === 'min') === t.coeff < 0;
      return eitherBounds ? prove(choices[0]) || prove(choices[1]) : prove(choices[0]) && prove(choices[1]);
    }
    return false;
  }

  private mentionsRangeVar(e: PrimExpr): boolean {
    let found = false;
    visitPrim(e, (x) => {
      if (x.kind === 'var' && this.bindings.get(x)?.range !== undefined) found = true;
    });
    return found;
  }

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

function sumKey(s: Sum): string {
  let k = `${s.dtype}:${s.base}`;
  for (const [key, t] of s.terms) k += `+${t.coeff}*${key}`;
  return k;
}

function atomOrConst(e: PrimExpr): Sum {
  return e.kind === 'int' ? constSum(e.value, e.dtype) : atomSum(e);
}

function divAtom(op: 'floordiv' | 'floormod' | 'truncdiv' | 'truncmod', a: Sum, b: Sum): Sum {
  return atomSum(binary(op, sumToExpr(a), sumToExpr(b)));
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
