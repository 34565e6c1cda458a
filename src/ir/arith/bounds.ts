/**
 * Constant integer bounds of expressions: interval arithmetic over the
 * canonical form, with the facts bound to variables. Part of the analyzer.
 */
import { isBool, isInt } from '../dtype.ts';
import { add, type Binary, type PrimExpr, type PrimVar, sub } from '../prim/expr.ts';
import { atomKey, CanonicalOverflow, type Sum } from './canonical.ts';
import type { ArithContext } from './context.ts';
import {
  addI,
  allOnesAbove,
  dtypeBound,
  EVERYTHING,
  floorDivByI,
  floorDivI,
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

export class ConstBounds {
  private memo = new WeakMap<PrimExpr, Interval>();

  constructor(private readonly ctx: ArithContext) {}

  /** Forgets what was computed under facts that changed. */
  reset(): void {
    this.memo = new WeakMap();
  }

  /** Constant bounds [min, max] of an integer expression (±Infinity when unbounded). */
  constIntBound(e: PrimExpr): Interval {
    if (!isInt(e.dtype) && !isBool(e.dtype)) return EVERYTHING;
    const hit = this.memo.get(e);
    if (hit) return hit;
    let out: Interval;
    try {
      out = this.sumBound(this.ctx.canonical(e));
    } catch (err) {
      if (!(err instanceof CanonicalOverflow)) throw err;
      out = this.atomBound(e);
    }
    this.memo.set(e, out);
    return out;
  }

  sumBound(s: Sum): Interval {
    let acc = point(s.base);
    for (const t of s.terms.values()) acc = addI(acc, scaleI(this.monoBound(t.mono.atoms), t.coeff));
    return acc;
  }

  monoBound(atoms: readonly PrimExpr[]): Interval {
    if (atoms.length === 2 && atomKey(atoms[0]!) === atomKey(atoms[1]!)) {
      const b = this.atomBound(atoms[0]!);
      const sq = mulI(b, b);
      return { min: Math.max(0, b.min <= 0 && b.max >= 0 ? 0 : sq.min), max: sq.max };
    }
    return atoms.reduce((acc, a) => mulI(acc, this.atomBound(a)), point(1));
  }

  atomBound(e: PrimExpr): Interval {
    const hit = this.memo.get(e);
    if (hit) return hit;
    const out = intersectI(this.atomBoundUncached(e), dtypeBound(e.dtype));
    this.memo.set(e, out);
    return out;
  }

  atomBoundUncached(e: PrimExpr): Interval {
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
  varBound(v: PrimVar): Interval {
    const binding = this.ctx.binding(v);
    if (!binding) return dtypeBound(v.dtype);
    const r = binding.range;
    if (!r || this.ctx.resolving.has(v)) return binding.bound;
    this.ctx.resolving.add(v);
    try {
      const lo = this.constIntBound(r.min);
      const hi = this.constIntBound(sub(add(r.min, r.extent), 1));
      return intersectI(binding.bound, interval(lo.min, hi.max));
    } finally {
      this.ctx.resolving.delete(v);
    }
  }

  binaryBound(e: Binary): Interval {
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
}
