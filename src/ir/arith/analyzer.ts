/**
 * The arithmetic analyzer: simplifies prim expressions to a canonical form,
 * computes constant integer bounds, and proves facts (`n*4 == 4*n`,
 * `0 <= i*4 + j < n*4`) under the ranges bound to variables.
 *
 * Integer +, -, × go through the polynomial form of `canonical.ts`; floordiv
 * and floormod are reduced with the bounds of what they divide; comparisons
 * are decided by bounding the difference of their sides, first with constant
 * intervals, then by substituting each bound variable by the end of its
 * (possibly symbolic) range.
 */
import { type DataType, intRange, isBool, isFloat, isInt } from '../dtype.ts';
import { roundToFloat } from '../float-bits.ts';
import {
  binary,
  type BinaryOp,
  boolImm,
  type CompareOp,
  floatImm,
  imm,
  intImm,
  mapPrimChildren,
  not,
  type PrimExpr,
  type PrimVar,
  select,
  sub,
} from '../prim/expr.ts';
import type { Range } from '../tir/stmt.ts';
import {
  addSums,
  asSingleAtom,
  atomKey,
  atomSum,
  CanonicalOverflow,
  constantRatio,
  constSum,
  contentOf,
  divideByMonomial,
  divideExact,
  isConst,
  mulSums,
  scaleSum,
  type Sum,
  sumToExpr,
  type Term,
} from './canonical.ts';
import {
  addI,
  EVERYTHING,
  floorDivI,
  floorModI,
  intersectI,
  interval,
  type Interval,
  maxI,
  minI,
  mulI,
  point,
  scaleI,
  unionI,
} from './interval.ts';

interface Binding {
  readonly range?: Range;
  readonly bound: Interval;
}

export class Analyzer {
  private readonly bindings = new Map<PrimVar, Binding>();
  private simplifyMemo = new WeakMap<PrimExpr, PrimExpr>();
  private boundMemo = new WeakMap<PrimExpr, Interval>();

  // --- facts ------------------------------------------------------------------

  /**
   * Binds v to a range [min, min + extent) (symbolic ends allowed) or to a
   * constant interval [min, max] (inclusive, ±Infinity for open ends).
   */
  bind(v: PrimVar, r: Range | Interval): void {
    this.invalidate();
    if ('extent' in r) {
      const lo = this.constIntBound(r.min);
      const hi = this.constIntBound(sub(binary('add', r.min, r.extent), 1));
      this.bindings.set(v, { range: r, bound: interval(lo.min, hi.max) });
    } else {
      const prev = this.bindings.get(v);
      this.bindings.set(v, { ...(prev?.range ? { range: prev.range } : {}), bound: prev ? intersectI(prev.bound, r) : r });
    }
  }

  /** Shape variables are never negative. */
  bindNonNegative(...vars: PrimVar[]): void {
    for (const v of vars) if (!this.bindings.has(v)) this.bind(v, interval(0, Infinity));
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
  }

  // --- simplification ------------------------------------------------------------

  simplify(e: PrimExpr): PrimExpr {
    const hit = this.simplifyMemo.get(e);
    if (hit) return hit;
    const out = this.simplifyNode(e);
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
      case 'select': {
        const cond = this.simplify(e.cond);
        const t = this.simplify(e.t);
        const f = this.simplify(e.f);
        if (cond.kind === 'bool') return cond.value ? t : f;
        if (atomKey(t) === atomKey(f)) return t;
        return cond === e.cond && t === e.t && f === e.f ? e : select(cond, t, f);
      }
      case 'cast': {
        const v = this.simplify(e.value);
        if (v.dtype === e.dtype) return v;
        if (v.kind === 'int' || v.kind === 'float' || v.kind === 'bool') {
          const folded = castConstant(v.kind === 'bool' ? (v.value ? 1 : 0) : v.value, e.dtype);
          if (folded) return folded;
        }
        return v === e.value ? e : { ...e, value: v };
      }
      case 'call': {
        const s = mapPrimChildren(e, (c) => this.simplify(c));
        return s.kind === 'call' ? (foldCall(s) ?? s) : s;
      }
      case 'load':
        return mapPrimChildren(e, (c) => this.simplify(c));
    }
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
    switch (e.kind) {
      case 'int':
        return constSum(e.value, e.dtype);
      case 'var': {
        const r = this.bindings.get(e)?.range;
        if (r && r.extent.kind === 'int' && r.extent.value === 1) return this.canonical(r.min);
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
          case 'truncmod': {
            const a = this.canonical(e.a);
            const b = this.canonical(e.b);
            if (isConst(a) && isConst(b) && b.base !== 0) {
              const q = Math.trunc(a.base / b.base);
              return constSum(e.op === 'truncdiv' ? q : a.base - q * b.base, e.dtype);
            }
            // Truncation and floor agree when the dividend is non-negative and the divisor positive.
            if (this.sumBound(a).min >= 0 && this.sumBound(b).min > 0) {
              return e.op === 'truncdiv' ? this.floorDiv(a, b) : this.floorMod(a, b);
            }
            return atomSum(binary(e.op, sumToExpr(a), sumToExpr(b)));
          }
          case 'min':
          case 'max':
            return this.minMax(e.op, this.canonical(e.a), this.canonical(e.b));
          default: {
            const s = this.simplifyBinary(e.op, this.simplify(e.a), this.simplify(e.b), e);
            return s.kind === 'int' ? constSum(s.value, s.dtype) : atomSum(s);
          }
        }
      default: {
        const s = this.simplify(e);
        return s.kind === 'int' ? constSum(s.value, s.dtype) : atomSum(s);
      }
    }
  }

  /** floordiv(a, b) on canonical forms. */
  private floorDiv(a: Sum, b: Sum): Sum {
    if (isConst(b)) {
      const c = b.base;
      if (c === 1) return a;
      if (c > 0) return this.floorDivConst(a, c);
      if (c === 0 || !isConst(a)) return atomSum(binary('floordiv', sumToExpr(a), sumToExpr(b)));
      return constSum(Math.floor(a.base / c), a.dtype);
    }
    const q = divideByMonomial(a, b);
    if (q) return q;
    const k = constantRatio(a, b);
    if (k !== undefined) return constSum(k, a.dtype);
    return atomSum(binary('floordiv', sumToExpr(a), sumToExpr(b)));
  }

  private floorDivConst(a: Sum, c: number): Sum {
    const dtype = a.dtype;
    let q = constSum(Math.floor(a.base / c), dtype);
    let r = constSum(a.base - Math.floor(a.base / c) * c, dtype);
    for (const t of a.terms.values()) {
      const part = termSum(t, dtype);
      if (t.coeff % c === 0) q = addSums(q, scaleSum(part, 1 / c));
      else r = addSums(r, part);
    }
    if (isConst(r)) return addSums(q, constSum(Math.floor(r.base / c), dtype));
    const rb = this.sumBound(r);
    const lo = Math.floor(rb.min / c);
    const hi = Math.floor(rb.max / c);
    if (lo === hi && Number.isFinite(lo)) return addSums(q, constSum(lo, dtype));
    // floordiv(g*y, g*d) = floordiv(y, d)
    const g = gcdOf(contentOf(r), c);
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
      return addSums(q, this.floorDivConst(this.canonical(inner.a), inner.b.value * divisor));
    }
    return addSums(q, atomSum(binary('floordiv', sumToExpr(rest), intImm(divisor, dtype))));
  }

  /** floormod(a, b) on canonical forms. */
  private floorMod(a: Sum, b: Sum): Sum {
    if (isConst(b)) {
      const c = b.base;
      if (c === 1) return constSum(0, a.dtype);
      if (c > 0) return this.floorModConst(a, c);
      if (c === 0 || !isConst(a)) return atomSum(binary('floormod', sumToExpr(a), sumToExpr(b)));
      return constSum(a.base - Math.floor(a.base / c) * c, a.dtype);
    }
    if (divideByMonomial(a, b) || constantRatio(a, b) !== undefined) return constSum(0, a.dtype);
    return atomSum(binary('floormod', sumToExpr(a), sumToExpr(b)));
  }

  private floorModConst(a: Sum, c: number): Sum {
    const dtype = a.dtype;
    let r = constSum(a.base - Math.floor(a.base / c) * c, dtype);
    for (const t of a.terms.values()) if (t.coeff % c !== 0) r = addSums(r, termSum(t, dtype));
    if (isConst(r)) return r;
    const rb = this.sumBound(r);
    const lo = Math.floor(rb.min / c);
    const hi = Math.floor(rb.max / c);
    if (lo === hi && Number.isFinite(lo)) return addSums(r, constSum(-lo * c, dtype));
    // floormod(g*y, g*d) = g * floormod(y, d)
    const g = gcdOf(contentOf(r), c);
    if (g > 1) return scaleSum(this.floorModConst(divideExact(r, g), c / g), g);
    // floormod(floormod(x, k*c), c) = floormod(x, c)
    const inner = asSingleAtom(r);
    if (inner?.kind === 'binary' && inner.op === 'floormod' && inner.b.kind === 'int' && inner.b.value % c === 0) {
      return this.floorModConst(this.canonical(inner.a), c);
    }
    return atomSum(binary('floormod', sumToExpr(r), intImm(c, dtype)));
  }

  /** k*c*floordiv(x, c) + k*floormod(x, c) = k*x: what splitting a fused loop leaves behind. */
  private fuseDivMod(s: Sum): Sum {
    for (const t of s.terms.values()) {
      const m = t.mono.atoms.length === 1 ? t.mono.atoms[0]! : undefined;
      if (m?.kind !== 'binary' || m.op !== 'floormod' || m.b.kind !== 'int') continue;
      const c = m.b.value;
      for (const u of s.terms.values()) {
        const d = u.mono.atoms.length === 1 ? u.mono.atoms[0]! : undefined;
        if (d?.kind !== 'binary' || d.op !== 'floordiv' || d.b.kind !== 'int' || d.b.value !== c) continue;
        if (u.coeff !== t.coeff * c || atomKey(d.a) !== atomKey(m.a)) continue;
        let rest = addSums(s, termSum(t, s.dtype), -1);
        rest = addSums(rest, termSum(u, s.dtype), -1);
        return this.fuseDivMod(addSums(rest, scaleSum(this.canonical(m.a), t.coeff)));
      }
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
    const k = Math.min(a.base, b.base);
    const x = sumToExpr(addSums(a, constSum(k, a.dtype), -1));
    const y = sumToExpr(addSums(b, constSum(k, b.dtype), -1));
    const [p, q] = atomKey(x) <= atomKey(y) ? [x, y] : [y, x];
    return addSums(atomSum(binary(op, p, q)), constSum(k, a.dtype));
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
      case 'ge':
        if (isInt(a.dtype)) return this.simplifyCompare(op, a, b);
        if (a.kind === 'float' && b.kind === 'float') return boolImm(compareNumbers(op, a.value, b.value));
        if (isBool(a.dtype) && a.kind === 'bool' && b.kind === 'bool') {
          return boolImm(compareNumbers(op, Number(a.value), Number(b.value)));
        }
        return rebuild();
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
    if (decided !== undefined) return boolImm(decided);
    // Divide out a common factor: 4*i < 4*n is i < n.
    const g = contentOf(d);
    if (g > 1 && (op === 'eq' || op === 'ne' || d.base % g === 0)) {
      if (d.base % g !== 0) return boolImm(op === 'ne');
      d = divideExact(d, g);
    }
    // Positive terms on the left, negative ones on the right.
    const dtype = d.dtype;
    let lhs = constSum(Math.max(d.base, 0), dtype);
    let rhs = constSum(Math.max(-d.base, 0), dtype);
    for (const t of d.terms.values()) {
      if (t.coeff > 0) lhs = addSums(lhs, termSum(t, dtype));
      else rhs = addSums(rhs, termSum(t, dtype), -1);
    }
    return binary(op, sumToExpr(lhs), sumToExpr(rhs));
  }

  /** Whether `d op 0` holds, fails, or is unknown. */
  private decide(op: CompareOp, d: Sum): boolean | undefined {
    const nonNeg = (s: Sum): boolean => this.proveNonNegative(s);
    const minus = (k: number): Sum => addSums(d, constSum(k, d.dtype), -1); // d - k
    const neg = scaleSum(d, -1);
    const negMinus = (k: number): Sum => addSums(neg, constSum(k, d.dtype), -1); // -d - k
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
  }

  private simplifyNot(a: PrimExpr): PrimExpr {
    if (a.kind === 'bool') return boolImm(!a.value);
    if (a.kind === 'not') return a.a;
    if (a.kind === 'binary' && isInt(a.a.dtype)) {
      const inverse: Partial<Record<string, CompareOp>> = { eq: 'ne', ne: 'eq', lt: 'ge', le: 'gt', gt: 'le', ge: 'lt' };
      const inv = inverse[a.op];
      if (inv) return binary(inv, a.a, a.b);
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
      out = dtypeBound(e.dtype);
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
        return this.bindings.get(e)?.bound ?? dtypeBound(e.dtype);
      case 'binary':
        switch (e.op) {
          case 'floordiv':
            if (e.b.kind === 'int' && e.b.value > 0) return floorDivI(this.constIntBound(e.a), e.b.value);
            return this.divBySymbol(e.a, e.b);
          case 'floormod':
            if (e.b.kind === 'int' && e.b.value > 0) return floorModI(this.constIntBound(e.a), e.b.value);
            return this.modBySymbol(e.b);
          case 'truncdiv':
            if (e.b.kind === 'int' && e.b.value > 0) {
              const a = this.constIntBound(e.a);
              return { min: Math.trunc(a.min / e.b.value), max: Math.trunc(a.max / e.b.value) };
            }
            return EVERYTHING;
          case 'truncmod':
            if (e.b.kind === 'int' && e.b.value > 0) {
              const a = this.constIntBound(e.a);
              return { min: a.min >= 0 ? 0 : -(e.b.value - 1), max: a.max <= 0 ? 0 : e.b.value - 1 };
            }
            return EVERYTHING;
          case 'min':
            return minI(this.constIntBound(e.a), this.constIntBound(e.b));
          case 'max':
            return maxI(this.constIntBound(e.a), this.constIntBound(e.b));
          case 'eq':
          case 'ne':
          case 'lt':
          case 'le':
          case 'gt':
          case 'ge':
          case 'and':
          case 'or':
            return interval(0, 1);
          default:
            return this.constIntBound(e);
        }
      case 'select':
        return unionI(this.constIntBound(e.t), this.constIntBound(e.f));
      case 'cast':
        return isInt(e.value.dtype) || isBool(e.value.dtype) ? this.constIntBound(e.value) : dtypeBound(e.dtype);
      case 'not':
        return interval(0, 1);
      case 'float':
      case 'call':
      case 'load':
        return dtypeBound(e.dtype);
    }
  }

  /** floordiv(a, b) with b ≥ 1 lies between min(0, a) and max(0, a). */
  private divBySymbol(a: PrimExpr, b: PrimExpr): Interval {
    const bb = this.constIntBound(b);
    if (bb.min < 1) return EVERYTHING;
    const ab = this.constIntBound(a);
    return { min: Math.min(0, ab.min), max: Math.max(0, ab.max) };
  }

  private modBySymbol(b: PrimExpr): Interval {
    const bb = this.constIntBound(b);
    return bb.min >= 1 ? interval(0, bb.max - 1) : EVERYTHING;
  }

  // --- proofs ------------------------------------------------------------------------

  /** True when s ≥ 0 is proven for every value of the bound variables. */
  private proveNonNegative(s: Sum): boolean {
    if (this.sumBound(s).min >= 0) return true;
    const lower = this.symbolicLowerBound(s);
    return lower !== undefined && (isConst(lower) ? lower.base >= 0 : this.sumBound(lower).min >= 0);
  }

  /**
   * A lower bound of s in terms of the unbound variables: each bound
   * variable of a linear term is replaced by the end of its range that
   * minimizes the term, repeatedly (ranges may mention other variables).
   */
  private symbolicLowerBound(s: Sum): Sum | undefined {
    let cur = s;
    for (let round = 0; round < 8; round++) {
      let next = constSum(cur.base, cur.dtype);
      let replaced = false;
      for (const t of cur.terms.values()) {
        const atom = t.mono.atoms.length === 1 ? t.mono.atoms[0]! : undefined;
        const range = atom?.kind === 'var' ? this.bindings.get(atom)?.range : undefined;
        if (range) {
          const end = t.coeff > 0 ? range.min : sub(binary('add', range.min, range.extent), 1);
          next = addSums(next, scaleSum(this.canonical(end), t.coeff));
          replaced = true;
        } else if (t.mono.atoms.some((a) => this.mentionsRangeVar(a))) {
          const b = scaleI(this.monoBound(t.mono.atoms), t.coeff);
          if (!Number.isFinite(b.min)) return undefined;
          next = addSums(next, constSum(b.min, cur.dtype));
          replaced = true;
        } else {
          next = addSums(next, termSum(t, cur.dtype));
        }
      }
      cur = next;
      if (!replaced) return cur;
    }
    return cur;
  }

  private mentionsRangeVar(e: PrimExpr): boolean {
    if (e.kind === 'var') return this.bindings.get(e)?.range !== undefined;
    let found = false;
    mapPrimChildren(e, (c) => {
      if (!found && this.mentionsRangeVar(c)) found = true;
      return c;
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

function isCanonicalOp(op: string): boolean {
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

function termSum(t: Term, dtype: DataType): Sum {
  return { dtype, base: 0, terms: new Map([[t.mono.key, t]]) };
}

function gcdOf(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function dtypeBound(t: DataType): Interval {
  if (t === 'int64') return EVERYTHING;
  if (t === 'uint64') return interval(0, Infinity);
  if (isInt(t) || isBool(t)) {
    const r = intRange(t);
    return interval(r.min, r.max);
  }
  return EVERYTHING;
}

/** Constants that do not fit their type stay unfolded. */
function checkFits(s: Sum): void {
  if (s.dtype === 'int64') return;
  const r = intRange(s.dtype);
  if (s.base < r.min || s.base > r.max) throw new CanonicalOverflow();
}

function compareNumbers(op: CompareOp, a: number, b: number): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
  }
}

function foldFloat(op: 'add' | 'sub' | 'mul' | 'div' | 'min' | 'max', a: PrimExpr, b: PrimExpr): PrimExpr | undefined {
  const t = a.dtype;
  if (a.kind === 'float' && b.kind === 'float') {
    const x = a.value;
    const y = b.value;
    const v = { add: x + y, sub: x - y, mul: x * y, div: x / y, min: Math.min(x, y), max: Math.max(x, y) }[op];
    return floatImm(roundToFloat(v, t), t);
  }
  const isOne = (e: PrimExpr): boolean => e.kind === 'float' && e.value === 1;
  const isZero = (e: PrimExpr): boolean => e.kind === 'float' && e.value === 0;
  if (op === 'mul' && isOne(b)) return a;
  if (op === 'mul' && isOne(a)) return b;
  if (op === 'div' && isOne(b)) return a;
  if (op === 'add' && isZero(b)) return a;
  if (op === 'add' && isZero(a)) return b;
  if (op === 'sub' && isZero(b)) return a;
  return undefined;
}

function foldBits(op: 'bitand' | 'bitor' | 'bitxor' | 'shl' | 'shr', a: number, b: number, dtype: DataType): PrimExpr | undefined {
  const x = BigInt(a);
  const y = BigInt(b);
  const v = { bitand: x & y, bitor: x | y, bitxor: x ^ y, shl: x << y, shr: x >> y }[op];
  const n = Number(v);
  const r = intRange(dtype);
  return Number.isSafeInteger(n) && n >= r.min && n <= r.max ? intImm(n, dtype) : undefined;
}

function castConstant(v: number, to: DataType): PrimExpr | undefined {
  if (isBool(to)) return boolImm(v !== 0);
  if (isFloat(to)) return floatImm(roundToFloat(v, to), to);
  if (!Number.isFinite(v)) return undefined;
  const n = Math.trunc(v);
  const r = intRange(to);
  if (n < r.min || n > r.max || !Number.isSafeInteger(n)) return undefined;
  return imm(n, to);
}

const FOLDABLE: Partial<Record<string, (...xs: number[]) => number>> = {
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  floor: Math.floor,
  ceil: Math.ceil,
  trunc: Math.trunc,
  abs: Math.abs,
  pow: Math.pow,
};

function foldCall(e: Extract<PrimExpr, { kind: 'call' }>): PrimExpr | undefined {
  const f = FOLDABLE[e.op];
  if (!f || !e.args.every((a) => a.kind === 'float' || a.kind === 'int')) return undefined;
  const v = f(...e.args.map((a) => (a as { value: number }).value));
  if (isFloat(e.dtype)) return floatImm(roundToFloat(v, e.dtype), e.dtype);
  return Number.isSafeInteger(v) ? intImm(v, e.dtype) : undefined;
}

/** Simplifies with a fresh analyzer: no variable ranges known. */
export function simplify(e: PrimExpr): PrimExpr {
  return new Analyzer().simplify(e);
}
